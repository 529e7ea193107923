// DPN polarization loss: hand-computed values, multi-label targets, and descent toward the targets.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DpnLoss } from '../../../encoder/losses/dpn.js';
import { createLoss } from '../../../encoder/losses/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const noIndices = new Int32Array(0);
const targets = [
  [1, -1, 1, -1],
  [-1, -1, 1, 1],
];

describe('DPN loss', () => {
  const u = () =>
    tf.tensor2d([
      [2, 0.5, -0.5, -1],
      [0.25, -3, 0, 0.5],
    ]);
  const labels = () =>
    tf.tensor2d([
      [1, 0],
      [0, 1],
    ]);

  it('matches a hand-computed value (bits 4, 2 samples, m = 1)', () => {
    const loss = new DpnLoss({ bits: 4, numClasses: 2, seed: 0, options: { targets } });
    // sample 0: u * t = [2, -0.5, -0.5, 1] -> max(0, 1 - u t) = [0, 1.5, 1.5, 0], sum 3
    // sample 1: u * t = [-0.25, 3, 0, 0.5] -> [1.25, 0, 1, 0.5], sum 2.75
    const value = loss.compute(u(), labels(), noIndices);
    expect(value.dataSync()[0]).toBeCloseTo((3 + 2.75) / 8, 6);
    loss.dispose();
  });

  it('adds 0.1 * mean(u^2) in the minDistance variant and honours the margin', () => {
    const variant = new DpnLoss({ bits: 4, numClasses: 2, seed: 0, options: { targets, targetRule: 'minDistance' } });
    // sum u^2: 4 + .25 + .25 + 1 + .0625 + 9 + 0 + .25 = 14.8125
    expect(variant.compute(u(), labels(), noIndices).dataSync()[0]).toBeCloseTo(0.71875 + (0.1 * 14.8125) / 8, 6);
    const wide = new DpnLoss({ bits: 4, numClasses: 2, seed: 0, options: { targets, margin: 2 } });
    // m = 2: sample 0 [0, 2.5, 2.5, 1] = 6; sample 1 [2.25, 0, 2, 1.5] = 5.75
    expect(wide.compute(u(), labels(), noIndices).dataSync()[0]).toBeCloseTo((6 + 5.75) / 8, 6);
  });

  it('builds multi-label targets as 2 * [y.T > 0] - 1 with zero bits from the fill vector', () => {
    const loss = new DpnLoss({ bits: 4, numClasses: 2, seed: 0, options: { targets, fill: [[1, 1, -1, 1]] } });
    // sum of both targets: [0, -2, 2, 0] -> bits 0 and 3 from the fill
    expect(loss.targets(tf.tensor2d([[1, 1]])).arraySync()).toEqual([[1, -1, 1, 1]]);
  });

  it('gradient descent on free outputs drives every bit past the margin on its target side', () => {
    const loss = createLoss('dpn', { bits: 8, numClasses: 3, seed: 4 }) as DpnLoss;
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 0], 'int32'), 3).toFloat() as tf.Tensor2D;
    const v = tf.variable(tf.randomNormal([4, 8], 0, 0.1, 'float32', 5));
    const objective = () => loss.compute(v as tf.Tensor2D, y, noIndices);
    const before = objective().dataSync()[0];
    const g = tf.grad((x: tf.Tensor) => loss.compute(x as tf.Tensor2D, y, noIndices))(v);
    expect(Array.from(g.dataSync()).every(Number.isFinite)).toBe(true);
    const optimizer = tf.train.sgd(10);
    for (let step = 0; step < 30; step++) optimizer.minimize(objective);
    expect(before).toBeGreaterThan(0.8);
    expect(objective().dataSync()[0]).toBe(0);
    expect(tf.sign(v).arraySync()).toEqual(loss.targets(y).arraySync());
    loss.dispose();
  });
});
