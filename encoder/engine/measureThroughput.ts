/**
 * Training throughput of a small CNN on the available tfjs backends.
 *
 *   npx tsx encoder/engine/measureThroughput.ts [--backends wasm,cpu] [--batch 128] [--steps 5]
 *                                               [--cpu-steps 1] [--no-bn]
 *
 * Model: 3 blocks of conv3x3 (32, 64, 128) [+ BatchNorm] + ReLU + maxpool 2, then dense 10 with
 * softmax cross-entropy; Adam; random 32x32x3 inputs. One "step" = forward + backward + Adam update.
 * Prints one JSON object per backend, then a summary line.
 */
import * as tf from '@tensorflow/tfjs';
import { type BackendPreference, backendInfo, selectBackend } from './backend.js';

interface Options {
  backends: BackendPreference[];
  batch: number;
  steps: number;
  cpuSteps: number;
  bn: boolean;
}

function parseArgs(argv: string[]): Options {
  const opts: Options = { backends: ['wasm', 'cpu'], batch: 128, steps: 5, cpuSteps: 1, bn: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--backends') opts.backends = argv[++i].split(',') as BackendPreference[];
    else if (a === '--batch') opts.batch = Number(argv[++i]);
    else if (a === '--steps') opts.steps = Number(argv[++i]);
    else if (a === '--cpu-steps') opts.cpuSteps = Number(argv[++i]);
    else if (a === '--no-bn') opts.bn = false;
    else throw new Error(`unknown argument ${a}`);
  }
  return opts;
}

function buildModel(bn: boolean): tf.Sequential {
  const model = tf.sequential();
  const widths = [32, 64, 128];
  widths.forEach((filters, i) => {
    model.add(
      tf.layers.conv2d({
        filters,
        kernelSize: 3,
        padding: 'same',
        useBias: !bn,
        ...(i === 0 ? { inputShape: [32, 32, 3] } : {}),
      }),
    );
    if (bn) model.add(tf.layers.batchNormalization());
    model.add(tf.layers.reLU());
    model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  });
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: 10 }));
  return model;
}

async function measure(pref: BackendPreference, opts: Options, steps: number) {
  const sel = await selectBackend(pref);
  const model = buildModel(opts.bn);
  const optimizer = tf.train.adam(1e-3);
  const x = tf.randomNormal([opts.batch, 32, 32, 3], 0, 1, 'float32', 1);
  const labels = tf.tensor1d(
    Array.from({ length: opts.batch }, (_, i) => (i * 7) % 10),
    'int32',
  );
  const y = tf.oneHot(labels, 10);
  const params = model.countParams();
  const step = (): number => {
    const loss = optimizer.minimize(() => {
      const logits = model.apply(x, { training: true }) as tf.Tensor;
      return tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
    }, true) as tf.Scalar;
    const v = loss.dataSync()[0];
    loss.dispose();
    return v;
  };
  // Warm-up (kernel setup, XNNPack operator creation, optimizer slots).
  const t0 = performance.now();
  const firstLoss = step();
  const warmupMs = performance.now() - t0;
  const tensorsAfterWarmup = tf.memory().numTensors;
  let lastLoss = firstLoss;
  const t1 = performance.now();
  for (let i = 0; i < steps; i++) lastLoss = step();
  const ms = performance.now() - t1;
  const leak = tf.memory().numTensors - tensorsAfterWarmup;
  const result = {
    backend: backendInfo(),
    reason: sel.reason,
    model: `cnn3 conv3x3 32-64-128${opts.bn ? '+BN' : ''}+relu+maxpool, dense10`,
    params,
    batch: opts.batch,
    timedSteps: steps,
    warmupStepMs: Math.round(warmupMs),
    msPerStep: steps > 0 ? Math.round(ms / steps) : null,
    imgPerSec: steps > 0 ? Number(((opts.batch * steps) / (ms / 1000)).toFixed(1)) : null,
    warmupImgPerSec: Number((opts.batch / (warmupMs / 1000)).toFixed(2)),
    loss: { first: Number(firstLoss.toFixed(4)), last: Number(lastLoss.toFixed(4)) },
    tensorLeakPerRun: leak,
  };
  tf.dispose([x, labels, y]);
  optimizer.dispose();
  model.dispose();
  return result;
}

const opts = parseArgs(process.argv.slice(2));
const results = [];
for (const b of opts.backends) {
  const r = await measure(b, opts, b === 'cpu' ? opts.cpuSteps : opts.steps);
  console.log(JSON.stringify(r));
  results.push(r);
}
console.log(
  JSON.stringify({
    summary: Object.fromEntries(results.map((r) => [r.backend.name, r.imgPerSec ?? r.warmupImgPerSec])),
    unit: 'img/s (train step: forward+backward+Adam)',
  }),
);
