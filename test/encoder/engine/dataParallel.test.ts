import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../encoder/engine/backend.js';
import {
  type DataParallelBatch,
  type DataParallelOptions,
  DataParallelTrainer,
  type NamedValues,
  shareSizes,
  type TrainerSnapshot,
} from '../../../encoder/engine/dataParallel.js';
import { createLoss } from '../../../encoder/losses/index.js';
import { createModel } from '../../../encoder/models/index.js';
import type { HashModelConfig } from '../../../encoder/models/types.js';
import { mulberry32 } from '../../../encoder/random.js';
import { createOptimizer, setLearningRate } from '../../../encoder/train/optimizer.js';

const SIDE = 8;
const CHANNELS = 3;
const CLASSES = 4;
const BITS = 8;
const PER_IMAGE = SIDE * SIDE * CHANNELS;

const tiny: HashModelConfig = {
  architecture: 'cnnHash',
  bits: BITS,
  inputSize: SIDE,
  channels: CHANNELS,
  numClasses: CLASSES,
  options: { widths: [4, 8], hidden: 8 },
  seed: 7,
};
const lossSpec = { name: 'csq', context: { bits: BITS, numClasses: CLASSES, seed: 7 } };

/**
 * A model without BatchNorm or dropout (flatten -> dense relu -> dense tanh): its gradient of the
 * batch-mean loss is exactly the size-weighted mean of the shares' gradients. Registered in the
 * workers through the `setup` module and built in this process from the same source.
 */
const PLAIN_BUILDER = `(tf, config) => {
  const input = tf.input({ shape: [config.inputSize, config.inputSize, config.channels] });
  const flat = tf.layers.flatten().apply(input);
  const hidden = tf.layers.dense({ units: 16, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 11 }) }).apply(flat);
  const output = tf.layers.dense({ units: config.bits, activation: 'tanh', kernelInitializer: tf.initializers.glorotUniform({ seed: 12 }) }).apply(hidden);
  return { config, net: tf.model({ inputs: input, outputs: output }) };
}`;
const PLAIN_SETUP = `data:text/javascript,${encodeURIComponent(
  `export default function setup({ tf, registerArchitecture }) {
    const build = ${PLAIN_BUILDER};
    registerArchitecture('plainHash', (config) => build(tf, config));
  }`,
)}`;

/** A learnable task: class c brightens channel c % 3 and one quadrant, plus noise. */
function syntheticBatch(size: number, seed: number): DataParallelBatch {
  const random = mulberry32(seed);
  const x = new Float32Array(size * PER_IMAGE);
  const labels = new Float32Array(size * CLASSES);
  const indices = new Int32Array(size);
  for (let r = 0; r < size; r++) {
    const c = Math.floor(random() * CLASSES);
    labels[r * CLASSES + c] = 1;
    indices[r] = seed * 1000 + r;
    for (let i = 0; i < SIDE; i++) {
      for (let j = 0; j < SIDE; j++) {
        const quadrant = (i < SIDE / 2 ? 0 : 2) + (j < SIDE / 2 ? 0 : 1);
        for (let k = 0; k < CHANNELS; k++) {
          const signal = (k === c % CHANNELS ? 1 : 0) + (quadrant === c ? 1 : 0);
          x[r * PER_IMAGE + (i * SIDE + j) * CHANNELS + k] = signal - 0.5 + 0.3 * (random() - 0.5);
        }
      }
    }
  }
  return { x, labels, indices, size };
}

const isMovingStat = (name: string) => /moving_(mean|variance)/.test(name);

function maxAbsDiff(a: NamedValues[], b: NamedValues[], filter: (name: string) => boolean = () => true): number {
  expect(a.map((w) => w.name)).toEqual(b.map((w) => w.name));
  let worst = 0;
  a.forEach((w, i) => {
    if (!filter(w.name)) return;
    expect(w.shape).toEqual(b[i].shape);
    for (let j = 0; j < w.values.length; j++) worst = Math.max(worst, Math.abs(w.values[j] - b[i].values[j]));
  });
  return worst;
}

function expectIdentical(a: NamedValues[], b: NamedValues[], filter?: (name: string) => boolean): void {
  expect(maxAbsDiff(a, b, filter)).toBe(0);
}

/** The trainer's single-process step (encoder/train/trainer.ts) on one model in this thread. */
function referenceStep(
  net: tf.LayersModel,
  optimizer: tf.Optimizer,
  loss: ReturnType<typeof createLoss>,
  batch: DataParallelBatch,
  lr: number,
): number {
  setLearningRate(optimizer, lr);
  return tf.tidy(() => {
    const x = tf.tensor4d(batch.x, [batch.size, SIDE, SIDE, CHANNELS]);
    const y = tf.tensor2d(batch.labels, [batch.size, CLASSES]);
    const cost = optimizer.minimize(
      () => loss.compute(net.apply(x, { training: true }) as tf.Tensor2D, y, batch.indices),
      true,
    );
    return cost!.dataSync()[0];
  });
}

function netValues(net: tf.LayersModel): NamedValues[] {
  return net.weights.map((w) => ({
    name: w.originalName,
    shape: [...w.shape] as number[],
    values: Float32Array.from(w.read().dataSync() as Float32Array),
  }));
}

async function create(options: Partial<DataParallelOptions>): Promise<DataParallelTrainer> {
  return DataParallelTrainer.create({
    workers: 2,
    backend: 'cpu',
    model: tiny,
    loss: lossSpec,
    learningRate: 1e-2,
    ...options,
  });
}

const plainModel: HashModelConfig = { ...tiny, architecture: 'plainHash', options: {} };
const buildPlain = new Function(`return ${PLAIN_BUILDER}`)() as (
  t: typeof tf,
  c: HashModelConfig,
) => { net: tf.LayersModel };

/**
 * Two replicas of the plain model and, in this thread, the same model and loss as their reference.
 * difference(batch, lr): |the replicas' step loss - the reference step loss| on the same batch.
 */
async function plainPair(spec: DataParallelOptions['loss'], learningRate: number) {
  const trainer = await create({ workers: 2, model: plainModel, setup: PLAIN_SETUP, loss: spec, learningRate });
  const { net } = buildPlain(tf, plainModel);
  const optimizer = tf.train.adam(learningRate);
  const loss = createLoss(spec.name, spec.context);
  return {
    trainer,
    net,
    loss,
    difference: async (batch: DataParallelBatch, lr: number) =>
      Math.abs((await trainer.step(batch, lr)) - referenceStep(net, optimizer, loss, batch, lr)),
    dispose: async () => {
      await trainer.dispose();
      net.dispose();
      optimizer.dispose();
      loss.dispose?.();
    },
  };
}

describe('shareSizes', () => {
  it('splits contiguously, sizes differing by at most one', () => {
    expect(shareSizes(7, 2)).toEqual([4, 3]);
    expect(shareSizes(128, 2)).toEqual([64, 64]);
    expect(shareSizes(2, 3)).toEqual([1, 1, 0]);
    expect(shareSizes(5, 1)).toEqual([5]);
  });
});

describe('DataParallelTrainer', () => {
  let two: DataParallelTrainer;

  beforeAll(async () => {
    await selectBackend('cpu');
    two = await create({ workers: 2 });
  });

  afterAll(async () => {
    await two?.dispose();
  });

  it('keeps the replicas bit-identical in trainable weights and learns a synthetic task', async () => {
    expect(two.workers).toBe(2);
    const losses: number[] = [];
    for (let s = 0; s < 40; s++) losses.push(await two.step(syntheticBatch(16, s % 8), 2e-2));
    const [r0, r1] = [await two.snapshot(0), await two.snapshot(1)];
    expect(r0.weights.length).toBeGreaterThan(0);
    expectIdentical(r0.weights, r1.weights, (name) => !isMovingStat(name));
    expectIdentical(r0.optimizer, r1.optimizer);
    // BatchNorm moving statistics come from each replica's own shares.
    expect(r0.weights.some((w) => isMovingStat(w.name))).toBe(true);
    expect(r0.optimizer[0].values[0]).toBe(40); // Adam iterations
    const first = losses.slice(0, 5).reduce((a, b) => a + b) / 5;
    const last = losses.slice(-5).reduce((a, b) => a + b) / 5;
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(last).toBeLessThan(0.8 * first);
  });

  it('rejects a malformed batch with the worker message, without hanging, and stays usable', async () => {
    const batch = syntheticBatch(6, 99);
    const short = { ...batch, x: batch.x.subarray(1) };
    const before = await two.snapshot(0);
    await expect(two.step(short, 1e-2)).rejects.toThrow(/replica 1: x has 575 values, expected 3 x 8x8x3 = 576/);
    const badLabels = { ...batch, labels: new Float32Array(6 * CLASSES + 2) };
    await expect(two.step(badLabels, 1e-2)).rejects.toThrow(/labels has 14 values, expected 3 x 4 = 12/);
    // Nothing was applied (replica 0's BatchNorm moving statistics did see its share), and the
    // trainer still steps.
    expectIdentical((await two.snapshot(0)).weights, before.weights, (name) => !isMovingStat(name));
    expectIdentical((await two.snapshot(0)).optimizer, before.optimizer);
    expect(Number.isFinite(await two.step(batch, 1e-2))).toBe(true);
  });

  it('rejects create() when a replica cannot build its model', async () => {
    await expect(create({ workers: 2, model: { ...tiny, architecture: 'nope' } })).rejects.toThrow(
      /replica \d failed to start: unknown architecture "nope"/,
    );
  });

  it('rejects pending and later calls when a worker dies mid-step', async () => {
    const setup = `data:text/javascript,${encodeURIComponent(
      `export default function setup({ registerLoss }) {
        registerLoss('crash', () => ({ name: 'crash', compute() { process.exit(3); } }));
      }`,
    )}`;
    const trainer = await create({ workers: 1, setup, loss: { name: 'crash', context: lossSpec.context } });
    try {
      await expect(trainer.step(syntheticBatch(4, 1), 1e-2)).rejects.toThrow(/replica 0 exited \(code 3\)/);
      await expect(trainer.snapshot()).rejects.toThrow(/replica 0 exited/);
    } finally {
      await trainer.dispose();
    }
  });

  it('without BatchNorm, equals the single-model step on the whole batch (unequal shares)', async () => {
    const { trainer, net, difference, dispose } = await plainPair(lossSpec, 1e-3);
    try {
      expect(maxAbsDiff((await trainer.snapshot()).weights, netValues(net))).toBe(0);
      for (let s = 0; s < 4; s++) {
        // Shares of 4 and 3 rows.
        expect(await difference(syntheticBatch(7, 50 + s), 1e-3)).toBeLessThan(1e-5);
      }
      const snap = await trainer.snapshot();
      expect(maxAbsDiff(snap.weights, netValues(net))).toBeLessThan(1e-5);
      expectIdentical(snap.weights, (await trainer.snapshot(1)).weights);
    } finally {
      await dispose();
    }
  });

  it('with one worker, matches the in-process step exactly; restore() then step() reproduces the run', async () => {
    const one = await create({ workers: 1 });
    const model = createModel(tiny);
    const optimizer = tf.train.adam(1e-2);
    const loss = createLoss(lossSpec.name, lossSpec.context);
    const batches = [0, 1, 2, 3].map((s) => syntheticBatch(8, 200 + s));
    const lrs = [1e-2, 8e-3, 6e-3, 4e-3];
    try {
      expect(one.workers).toBe(1);
      const losses: number[] = [];
      let middle: TrainerSnapshot | undefined;
      for (let s = 0; s < 4; s++) {
        if (s === 2) middle = await one.snapshot();
        losses.push(await one.step(batches[s], lrs[s]));
        expect(losses[s]).toBe(referenceStep(model.net, optimizer, loss, batches[s], lrs[s]));
      }
      const end = await one.snapshot();
      expectIdentical(end.weights, netValues(model.net));

      // Resume from the middle: the same two steps give the same losses, weights and Adam state.
      await one.restore(middle!);
      expectIdentical((await one.snapshot()).weights, middle!.weights);
      for (let s = 2; s < 4; s++) expect(await one.step(batches[s], lrs[s])).toBe(losses[s]);
      const again = await one.snapshot();
      expectIdentical(again.weights, end.weights);
      expectIdentical(again.optimizer, end.optimizer);

      // Into a 2-worker trainer: every replica takes the state.
      await two.restore(end);
      expectIdentical((await two.snapshot(1)).weights, end.weights);
      expectIdentical((await two.snapshot(1)).optimizer, end.optimizer);
      await expect(two.restore({ weights: end.weights.slice(1) })).rejects.toThrow(/weight tensors, the model has/);
    } finally {
      await one.dispose();
      model.net.dispose();
      optimizer.dispose();
      loss.dispose?.();
    }
    await expect(one.step(batches[0], 1e-2)).rejects.toThrow(/disposed/);
  });
});

describe('DataParallelTrainer with decoupled weight decay, Adam or Nesterov SGD', () => {
  it.each([
    ['AdamW', { weightDecay: 0.1 }],
    ['Nesterov SGD with decay', { kind: 'sgd', weightDecay: 0.1, momentum: 0.9 }],
  ] as const)(
    'one replica matches the in-process %s step exactly, restored or not; the decay changes the weights',
    async (_name, settings) => {
      await selectBackend('cpu');
      const decayed = await create({ workers: 1, optimizer: settings });
      const plain = await create({ workers: 1, optimizer: { ...settings, weightDecay: 0 } });
      const model = createModel(tiny);
      const optimizer = createOptimizer(1e-2, settings);
      const loss = createLoss(lossSpec.name, lossSpec.context);
      const batches = [0, 1, 2].map((s) => syntheticBatch(8, 300 + s));
      try {
        for (const batch of batches) {
          const value = await decayed.step(batch, 5e-3);
          expect(value).toBe(referenceStep(model.net, optimizer, loss, batch, 5e-3));
          await plain.step(batch, 5e-3);
        }
        const end = await decayed.snapshot();
        expectIdentical(end.weights, netValues(model.net));
        expect(maxAbsDiff(end.weights, (await plain.snapshot()).weights)).toBeGreaterThan(0);
        // A restored replica keeps decaying: one more step equals the reference's.
        await decayed.restore(end);
        const extra = syntheticBatch(8, 400);
        expect(await decayed.step(extra, 5e-3)).toBe(referenceStep(model.net, optimizer, loss, extra, 5e-3));
        expectIdentical((await decayed.snapshot()).weights, netValues(model.net));
      } finally {
        await decayed.dispose();
        await plain.dispose();
        model.net.dispose();
        optimizer.dispose();
        loss.dispose?.();
      }
    },
  );
});

describe('DataParallelTrainer with losses that keep state', () => {
  /** Row r of a batch, twice: each replica computes one copy, and both shares equal the whole batch. */
  const rowTwice = (batch: DataParallelBatch, r: number): DataParallelBatch => {
    const twice = <T extends Float32Array | Int32Array>(a: T, width: number): T => {
      const row = a.slice(r * width, (r + 1) * width) as T;
      const out = new (a.constructor as new (n: number) => T)(2 * width);
      out.set(row);
      out.set(row, width);
      return out;
    };
    return {
      x: twice(batch.x, PER_IMAGE),
      labels: twice(batch.labels, CLASSES),
      indices: twice(batch.indices, 1),
      size: 2,
    };
  };

  // Learning rate 0 keeps the weights, so a second visit of a batch computes the same outputs: from
  // then on the replicas' exchanged banks must equal the one-process bank, row order included. DPSH
  // is a mean over rows, so whole shared batches match; ADSH's similar/dissimilar ratio is taken per
  // share, so ADSH and PAL are compared on batches of one row twice (one per replica), which read each
  // replica's bank and database codes. Three samples per update: which rows are sampled depends on the
  // bank's row order. HashNet (pairs within the batch, beta raised every epoch) keeps no bank: its
  // probes check that every replica hears the epoch ends.
  it.each(['dpsh', 'adsh', 'pal', 'hashnet'])(
    '%s: replicas keep one bank and hear epoch ends; revisits and epoch-end updates match one process',
    async (name) => {
      const spec = {
        name,
        context: { bits: BITS, numClasses: CLASSES, seed: 7, options: { samples: 3, betaStep: 1 } },
      };
      const { trainer, loss, difference, dispose } = await plainPair(spec, 1e-2);
      const batches = [syntheticBatch(7, 60), syntheticBatch(6, 61)];
      const probes = [rowTwice(batches[0], 5), rowTwice(batches[1], 1), rowTwice(batches[1], 4)];
      try {
        const first: number[] = [];
        for (const batch of batches) first.push(await difference(batch, 0));
        // First visits differ: a share does not see the other share's new rows yet.
        if (name === 'dpsh') expect(Math.max(...first)).toBeGreaterThan(1e-4);
        for (const epoch of [1, 2]) {
          for (const batch of batches) {
            const diff = await difference(batch, 0);
            if (name === 'dpsh') expect(diff).toBeLessThan(1e-5);
          }
          for (const probe of probes) expect(await difference(probe, 0)).toBeLessThan(1e-5);
          // ADSH and PAL relearn their database codes from the bank here; HashNet raises beta.
          await trainer.epochEnd(epoch);
          loss.onEpochEnd?.(epoch);
        }
      } finally {
        await dispose();
      }
    },
  );

  it('GreedyHash: its classifier trains on the replicas, and two replicas equal the whole-batch step', async () => {
    const spec = { name: 'greedyhash', context: { bits: BITS, numClasses: CLASSES, seed: 7 } };
    const { trainer, net, difference, dispose } = await plainPair(spec, 1e-2);
    try {
      // Cross-entropy through the classifier: were it not trained (or not alike) on the replicas,
      // the losses would part after the first step.
      for (let s = 0; s < 5; s++) expect(await difference(syntheticBatch(7, 80 + s), 1e-2)).toBeLessThan(1e-5);
      const snapshot = await trainer.snapshot(1);
      expect(snapshot.optimizer).toHaveLength(1 + 2 * (net.trainableWeights.length + 1));
    } finally {
      await dispose();
    }
  });

  it('refuses a loss with unshared state on two replicas, takes it on one', async () => {
    const setup = `data:text/javascript,${encodeURIComponent(
      `export default function setup({ tf, registerLoss }) {
        registerLoss('local', () => ({ name: 'local', unsharedState: true, compute: (u) => tf.mean(tf.square(u)) }));
      }`,
    )}`;
    const spec = { name: 'local', context: lossSpec.context };
    await expect(create({ workers: 2, setup, loss: spec })).rejects.toThrow(
      /local keeps state the replicas cannot share/,
    );
    const one = await create({ workers: 1, setup, loss: spec });
    try {
      expect(Number.isFinite(await one.step(syntheticBatch(4, 70), 1e-2))).toBe(true);
    } finally {
      await one.dispose();
    }
  });
});

describe('DataParallelTrainer.encode', () => {
  it('shares a batch over the replicas; after one restore() it equals one model in inference mode', async () => {
    const trainer = await create({ workers: 2 });
    const model = createModel(tiny);
    try {
      for (let s = 0; s < 3; s++) await trainer.step(syntheticBatch(8, 90 + s), 1e-2);
      const snapshot = await trainer.snapshot(0);
      model.net.setWeights(snapshot.weights.map((w) => tf.tensor(w.values, w.shape)));
      const batch = syntheticBatch(7, 99);
      const expected = tf.tidy(
        () =>
          (model.net.predict(tf.tensor4d(batch.x, [7, SIDE, SIDE, CHANNELS])) as tf.Tensor).dataSync() as Float32Array,
      );
      const worst = (got: Float32Array) => Math.max(...Array.from(got, (v, i) => Math.abs(v - expected[i])));
      // Each replica's BatchNorm moving statistics come from its own shares until restore() aligns them.
      expect(worst(await trainer.encode(batch.x, 7))).toBeGreaterThan(1e-6);
      await trainer.restore({ weights: snapshot.weights });
      const got = await trainer.encode(batch.x, 7);
      expect(got).toHaveLength(7 * BITS);
      expect(worst(got)).toBeLessThan(1e-6);
      await expect(trainer.encode(batch.x.subarray(1), 7)).rejects.toThrow(
        /encode: x has 1343 values, expected 7 x 8x8x3/,
      );
    } finally {
      await trainer.dispose();
      model.net.dispose();
    }
  });
});
