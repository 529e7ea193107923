// The pairwise and asymmetric losses (DPSH, DSH, DAH, HashNet, OrthoHash/single, ADSH, PAL):
// each against a small case computed by hand, then common properties of every registered loss.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AdshLoss,
  createLoss,
  DahLoss,
  DpnLoss,
  DpshLoss,
  DshLoss,
  GreedyHashLoss,
  HashNetLoss,
  listLosses,
  OrthoHashLoss,
  PalLoss,
  straightThroughSign,
} from '../../../encoder/losses/index.js';
import { loadLossState, saveLossState } from '../../../encoder/losses/lossState.js';
import { mulberry32 } from '../../../encoder/random.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// Two items of two classes, 2 bits: u0 = [.5, -.5] (class 0), u1 = [1, 0] (class 1).
const batch = () => ({
  u: tf.tensor2d([
    [0.5, -0.5],
    [1, 0],
  ]),
  labels: tf.tensor2d([
    [1, 0],
    [0, 1],
  ]),
  indices: Int32Array.from([0, 1]),
});
const ctx = (options: Record<string, unknown>) => ({ bits: 2, numClasses: 2, seed: 1, options });
const value = (t: tf.Scalar) => t.dataSync()[0];
const softplus = (x: number) => Math.log(1 + Math.exp(x));

describe('pairwise losses, hand-computed (bank = the batch itself)', () => {
  it('DPSH: likelihood of theta = u.U/2 plus alpha * mean((u - sign u)^2)', () => {
    const { u, labels, indices } = batch();
    // theta = [[.25, .25], [.25, .5]]; similar pairs are the diagonal.
    const likelihood = (softplus(0.25) - 0.25 + 2 * softplus(0.25) + softplus(0.5) - 0.5) / 4;
    // u - sign(u) = [-.5, .5], [0, 0] -> mean of squares .125
    expect(value(new DpshLoss(ctx({ alpha: 0.1 })).compute(u, labels, indices))).toBeCloseTo(
      likelihood + 0.1 * 0.125,
      6,
    );
  });

  it('DSH: contrastive on squared distances (margin 2) plus alpha * mean(||u| - 1|)', () => {
    const { u, labels, indices } = batch();
    // d01 = .25 + .25 = .5; dissimilar pairs give .5 * (2 - .5) = .75 each -> mean 1.5 / 4 = .375
    // ||u| - 1| = .5, .5, 0, 1 -> mean .5
    expect(value(new DshLoss(ctx({ margin: 2, alpha: 0.1 })).compute(u, labels, indices))).toBeCloseTo(0.375 + 0.05, 6);
  });

  it('DAH: relaxed Hamming distance, margin hinge for dissimilar pairs, squared quantization', () => {
    const { u, labels, indices } = batch();
    // h = (2 - u.U) / 2 = [[.75, .75], [.75, .5]]; similar: .75 + .5; dissimilar: 2 * (1 - .75)
    // -> mean 1.75 / 4 = .4375, / bits = .21875; (|u| - 1)^2 = .25, .25, 0, 1 -> mean .375
    expect(value(new DahLoss(ctx({ margin: 1, lambda: 0.1 })).compute(u, labels, indices))).toBeCloseTo(
      0.21875 + 0.0375,
      6,
    );
  });

  it('keeps every training output in the bank: a second batch compares with the first', () => {
    const loss = new DpshLoss(ctx({ alpha: 0 }));
    const { u, labels, indices } = batch();
    loss.compute(u, labels, indices);
    // Item 2 = [1, 0] of class 0 against the bank [u0, u1, itself]: theta = [.25, .5, .5]
    const second = loss.compute(tf.tensor2d([[1, 0]]), tf.tensor2d([[1, 0]]), Int32Array.from([2]));
    expect(value(second)).toBeCloseTo((softplus(0.25) - 0.25 + softplus(0.5) + softplus(0.5) - 0.5) / 3, 6);
  });
});

describe('pairs within the batch (option pairs: "batch")', () => {
  it('keeps no bank: each batch is compared with itself only', () => {
    const loss = new DpshLoss(ctx({ alpha: 0, pairs: 'batch' }));
    expect(loss.bank).toBeUndefined();
    const { u, labels, indices } = batch();
    const likelihood = (softplus(0.25) - 0.25 + 2 * softplus(0.25) + softplus(0.5) - 0.5) / 4;
    expect(value(loss.compute(u, labels, indices))).toBeCloseTo(likelihood, 6);
    // Item 2 = [1, 0] alone: theta = .5, a similar pair with itself.
    const second = loss.compute(tf.tensor2d([[1, 0]]), tf.tensor2d([[1, 0]]), Int32Array.from([2]));
    expect(value(second)).toBeCloseTo(softplus(0.5) - 0.5, 6);
  });

  it('differentiates both sides of every pair (gradient check against central differences)', () => {
    const { u, labels, indices } = batch();
    const loss = new DshLoss(ctx({ margin: 2, alpha: 0, pairs: 'batch' }));
    const f = (x: tf.Tensor) => loss.compute(x as tf.Tensor2D, labels, indices);
    const analytic = tf.grad(f)(u).dataSync();
    const base = u.arraySync();
    const eps = 1e-3;
    base.flat().forEach((_, k) => {
      const shifted = (delta: number) =>
        tf.tidy(() => {
          const rows = base.map((row) => [...row]);
          rows[Math.floor(k / 2)][k % 2] += delta;
          return value(f(tf.tensor2d(rows)));
        });
      expect(analytic[k]).toBeCloseTo((shifted(eps) - shifted(-eps)) / (2 * eps), 3);
    });
    expect(() => new DshLoss(ctx({ pairs: 'all' }))).toThrow(/option pairs: expected one of bank, batch, got all/);
  });
});

describe('HashNet', () => {
  it('weights positive and negative pairs by |S|/|S1| and |S|/|S0| on u = tanh(beta z)', () => {
    const { u: z, labels } = batch();
    const loss = new HashNetLoss(ctx({ alpha: 1 }));
    const [a, b] = [
      [Math.tanh(0.5), Math.tanh(-0.5)],
      [Math.tanh(1), 0],
    ];
    const dot = (p: number[], q: number[]) => p[0] * q[0] + p[1] * q[1];
    // 4 pairs, 2 positive (diagonal), 2 negative: every weight is 4 / 2 = 2; loss = sum(2 l) / 4.
    const l = softplus(dot(a, a)) - dot(a, a) + 2 * softplus(dot(a, b)) + softplus(dot(b, b)) - dot(b, b);
    expect(value(loss.compute(z, labels))).toBeCloseTo((2 * l) / 4, 6);
  });

  it('raises beta by continuation: sqrt(floor(epoch / step) + 1)', () => {
    const loss = new HashNetLoss(ctx({ betaStep: 20 }));
    expect(loss.beta).toBe(1);
    loss.onEpochEnd(19);
    expect(loss.beta).toBe(1);
    loss.onEpochEnd(40);
    expect(loss.beta).toBeCloseTo(Math.sqrt(3), 12);
  });
});

describe('OrthoHash (the single loss of seed 001)', () => {
  it('is the cross-entropy of s * (cos - m * onehot) against Hadamard centres', () => {
    const loss = new OrthoHashLoss({ bits: 4, numClasses: 2, seed: 1, options: { scale: 8, margin: 0.2 } });
    // Centres [1, 1, 1, 1] and [1, -1, 1, -1]; u on the first: cosines 1 and 0 -> logits [6.4, 0].
    const result = loss.compute(tf.tensor2d([[2, 2, 2, 2]]), tf.tensor2d([[1, 0]]));
    expect(value(result)).toBeCloseTo(softplus(-6.4), 6);
    expect(createLoss('single', { bits: 4, numClasses: 2, seed: 1 }).name).toBe('single');
  });
});

describe('GreedyHash', () => {
  it('classifies sign(u) and adds alpha * mean(||u| - 1|^3); the gradient passes straight through sign', () => {
    const loss = new GreedyHashLoss(
      ctx({
        alpha: 0.5,
        classifier: [
          [1, 0],
          [0, 1],
        ],
      }),
    );
    const { u, labels } = batch();
    // sign(u) = [1, -1], [1, 0] -> logits = the same rows; CE: -log softmax([1, -1])[0], -log softmax([1, 0])[1]
    const crossEntropy = (softplus(-2) + softplus(1)) / 2;
    // ||u| - 1|^3 = .125, .125, 0, 1 -> mean .3125
    expect(value(loss.compute(u, labels))).toBeCloseTo(crossEntropy + 0.5 * 0.3125, 6);
    const g = tf.grad((x: tf.Tensor) => straightThroughSign(x).sum())(tf.tensor1d([-2, 0.3]));
    expect(Array.from(g.dataSync())).toEqual([1, 1]);
  });
});

describe('ADSH', () => {
  it('scores u against the learned database codes, then updates V bit by bit', () => {
    const { u, labels, indices } = batch();
    const loss = new AdshLoss(ctx({ gamma: 1, samples: 10 }));
    // V = 0 at first; S = [[1, -1], [-1, 1]] (r = 1): sum (0 - 2 S)^2 = 16, gamma sum u^2 = 1.5,
    // divided by |V| * B = 4.
    expect(value(loss.compute(u, labels, indices))).toBeCloseTo(17.5 / 4, 6);
    // Q = -4 S^T U - 2 U = [[1, 3], [-4, -2]], U^T U = [[1.25, -.25], [-.25, .25]]
    // bit 0: V[:, 0] = -sign(Q[:, 0]) = [-1, 1]; bit 1: Q[:, 1] + 2 V0 * (-.25) = [3.5, -2.5] -> [-1, 1]
    loss.onEpochEnd(1);
    expect(Array.from(loss.databaseCodes)).toEqual([-1, -1, 1, 1]);
    // With V learned: u.V^T = [[0, 0], [-1, 1]], 2S = [[2, -2], [-2, 2]]
    // square: 4 + 4 + 1 + 1 = 10; gamma (V - u)^2: (1.5^2 + .5^2) + (0 + 1) = 3.5
    expect(value(loss.compute(u, labels, indices))).toBeCloseTo(13.5 / 4, 6);
  });

  // ADSH's formula with the [B, |V|] pair matrix written out, s_ij = 1 when i and j share a label.
  function adshReference(u: tf.Tensor2D, labels: tf.Tensor2D, bankLabels: tf.Tensor2D, v: tf.Tensor2D, rows: number[]) {
    const bits = v.shape[1];
    const s01 = tf.cast(tf.greater(tf.matMul(labels, bankLabels, false, true), 0), 'float32');
    const similar = tf.sum(s01).dataSync()[0];
    const r = similar / (s01.size - similar);
    const s = tf.sub(tf.mul(s01, 1 + r), r);
    const square = tf.sum(tf.square(tf.sub(tf.matMul(u, v, false, true), tf.mul(s, bits))));
    const quantization = tf.sum(tf.square(tf.sub(tf.gather(v, rows), u)));
    return tf.div(tf.add(square, tf.mul(quantization, 200)), v.shape[0] * u.shape[0]) as tf.Scalar;
  }

  it.each([
    ['single-label (expanded pair sum)', 1],
    ['multi-label (pair matrix)', 2],
  ])('%s: value and gradient equal the formula with the pair matrix', (_, labelsPerRow) => {
    const bits = 8;
    const numClasses = 4;
    const n = 40;
    const random = mulberry32(11);
    const labelRows = Array.from({ length: n }, (_, i) => {
      const row = [0, 0, 0, 0];
      for (let l = 0; l < labelsPerRow; l++) row[(i + l * (1 + (i % 3))) % numClasses] = 1;
      return row;
    });
    const bankLabels = tf.tensor2d(labelRows);
    const outputs = () =>
      tf.tensor2d(
        Array.from({ length: n * bits }, () => random() * 2 - 1),
        [n, bits],
      );
    const loss = new AdshLoss({ bits, numClasses, seed: 3, options: { samples: 25 } });
    loss.compute(
      outputs(),
      bankLabels,
      Int32Array.from({ length: n }, (_, i) => i),
    );
    const rows = [3, 17, 8, 30, 22, 5];
    const labels = tf.gather(bankLabels, rows) as tf.Tensor2D;
    const indices = Int32Array.from(rows);
    // Twice: the second time after another V update, which the expanded sum's statistics must follow.
    for (const epoch of [1, 2]) {
      loss.onEpochEnd(epoch);
      const v = tf.tensor2d(loss.databaseCodes, [n, bits]);
      expect(new Set(loss.databaseCodes)).toEqual(new Set([-1, 1]));
      const u = tf.tanh(tf.gather(outputs(), rows)) as tf.Tensor2D;
      const expected = value(adshReference(u, labels, bankLabels, v, rows));
      expect(Math.abs(value(loss.compute(u, labels, indices)) - expected) / expected).toBeLessThan(1e-5);
      const gradient = tf.grad((x: tf.Tensor) => loss.compute(x as tf.Tensor2D, labels, indices))(u);
      const expectedGradient = tf.grad((x: tf.Tensor) => adshReference(x as tf.Tensor2D, labels, bankLabels, v, rows))(
        u,
      );
      expect(tf.max(tf.abs(tf.sub(gradient, expectedGradient))).dataSync()[0]).toBeLessThan(
        1e-5 * tf.max(tf.abs(expectedGradient)).dataSync()[0],
      );
    }
  });
});

describe('PAL', () => {
  it('is alpha * polarization + (1 - alpha) * asymmetric', () => {
    const { u, labels, indices } = batch();
    const options = {
      alpha: 0.3,
      gamma: 1,
      targets: [
        [1, -1],
        [-1, 1],
      ],
    };
    const pal = value(new PalLoss(ctx(options)).compute(u, labels, indices));
    const dpn = value(new DpnLoss(ctx(options)).compute(u, labels, indices));
    const adsh = value(new AdshLoss(ctx(options)).compute(u, labels, indices));
    expect(pal).toBeCloseTo(0.3 * dpn + 0.7 * adsh, 6);
    const balanced = value(new PalLoss(ctx({ ...options, balance: 'bits' })).compute(u, labels, indices));
    const bits = ctx(options).bits;
    expect(balanced).toBeCloseTo(0.3 * dpn + (0.7 * adsh) / (bits * bits), 6);
    expect(balanced).not.toBeCloseTo(pal, 3);
  });

  it('rejects an unknown balance', () => {
    expect(() => new PalLoss(ctx({ balance: 'equal' }))).toThrow(/option balance: expected one of none, bits/);
  });
});

describe('every registered loss', () => {
  it.each(listLosses())('%s: finite, non-zero gradients, and a gradient step lowers it', (name) => {
    const bits = 8;
    const numClasses = 3;
    const n = 12;
    const labels = tf.oneHot(
      tf.tensor1d(
        Array.from({ length: n }, (_, i) => i % numClasses),
        'int32',
      ),
      numClasses,
    );
    const indices = Int32Array.from({ length: n }, (_, i) => i);
    const loss = createLoss(name, { bits, numClasses, seed: 7 });
    const z = tf.variable(tf.randomNormal([n, bits], 0, 0.3, 'float32', 3));
    // tanh keeps the output in the range the losses assume, as the models' hash layer does.
    const f = () => loss.compute(tf.tanh(z) as tf.Tensor2D, labels as tf.Tensor2D, indices);
    loss.compute(tf.tanh(z) as tf.Tensor2D, labels as tf.Tensor2D, indices);
    loss.onEpochEnd?.(1);
    const before = value(f());
    const { grads } = tf.variableGrads(f, [z]);
    const g = grads[z.name];
    expect(Array.from(g.dataSync()).every(Number.isFinite)).toBe(true);
    expect(tf.max(tf.abs(g)).dataSync()[0]).toBeGreaterThan(0);
    // GreedyHash's value reads sign(u), flat under a small step: its gradient is the straight-through one.
    if (name === 'greedyhash') return;
    z.assign(tf.sub(z, tf.mul(g, 0.01 / Math.max(tf.max(tf.abs(g)).dataSync()[0], 1e-12))));
    expect(value(f())).toBeLessThan(before);
    loss.dispose?.();
  });
});

describe('loss state for checkpoints', () => {
  const bits = 8;
  const numClasses = 3;
  const labelsOf = (n: number, shift: number) =>
    tf.oneHot(
      tf.tensor1d(
        Array.from({ length: n }, (_, i) => (i + shift) % numClasses),
        'int32',
      ),
      numClasses,
    ) as tf.Tensor2D;
  const outputs = (n: number, seed: number) =>
    tf.tanh(tf.randomNormal([n, bits], 0, 0.8, 'float32', seed)) as tf.Tensor2D;
  const range = (from: number, n: number) => Int32Array.from({ length: n }, (_, i) => from + i);

  it.each(listLosses())(
    '%s: a fresh loss loaded with the saved state scores the next batch exactly as the original',
    async (name) => {
      const original = createLoss(name, { bits, numClasses, seed: 7 });
      original.compute(outputs(12, 1), labelsOf(12, 0), range(0, 12));
      original.onEpochEnd?.(1);
      // Move trainable loss variables (GreedyHash's classifier) away from their seeded initialisation.
      for (const v of original.variables ?? []) v.assign(tf.add(v, 0.5));
      const saved = await saveLossState(original);
      const restored = createLoss(name, { bits, numClasses, seed: 7 });
      loadLossState(restored, saved);
      const next = [outputs(6, 2), labelsOf(6, 1), range(12, 6)] as const;
      expect(value(restored.compute(...next))).toBe(value(original.compute(...next)));
      const hasState = original.bank !== undefined || (original.variables ?? []).length > 0;
      expect(saved.length > 0).toBe(hasState);
      if (!hasState) {
        expect(() => loadLossState(restored, [{ name: 'x', shape: [1], values: Float32Array.of(1) }])).toThrow(
          /keeps no state/,
        );
        return;
      }
      // Without the state, a fresh loss scores the batch differently (the test can fail).
      const fresh = createLoss(name, { bits, numClasses, seed: 7 });
      expect(value(fresh.compute(...next))).not.toBe(
        value(original.compute(outputs(6, 2), labelsOf(6, 1), range(12, 6))),
      );
    },
  );

  it('refuses a bank state of the wrong width, naming the arrays, and leaves the bank as it was', async () => {
    const adsh = new AdshLoss(ctx({ gamma: 1 }));
    const { u, labels, indices } = batch();
    adsh.compute(u, labels, indices);
    const saved = await saveLossState(adsh);
    const wide = new AdshLoss({ bits: 4, numClasses: 2, seed: 1 });
    expect(() => loadLossState(wide, saved)).toThrow(/memory bank state: 2 rows need 8 outputs \(4 bits\)/);
    expect(wide.bank.size).toBe(0);
    expect(() => loadLossState(new AdshLoss(ctx({})), saved.slice(0, 4))).toThrow(/adsh\/databaseCodes is missing/);
  });
});
