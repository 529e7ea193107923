// CSQ loss: a hand-computed case, the multi-label centre, finite gradients, and descent toward the centre.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { CsqLoss } from '../../../encoder/losses/csq.js';
import { createLoss, listLosses } from '../../../encoder/losses/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const noIndices = new Int32Array(0);

describe('CSQ loss', () => {
  it('matches a hand-computed value (bits 4, 2 samples, Hadamard centres)', () => {
    // Centres (rows of H4): class 0 [1, 1, 1, 1], class 1 [1, -1, 1, -1].
    const loss = new CsqLoss({ bits: 4, numClasses: 3, seed: 1, options: { lambda: 0.1 } });
    const u = tf.tensor2d([
      [0.5, -0.5, 0, 0.5],
      [0.5, -0.5, 0, -0.5],
    ]);
    const labels = tf.tensor2d([
      [1, 0, 0],
      [0, 1, 0],
    ]);
    // p = (u + 1) / 2; BCE term -ln p where the centre bit is +1, -ln(1 - p) where it is -1.
    // sample 0: p = [.75, .25, .5, .75], targets 1,1,1,1 -> ln(4/3) + ln 4 + ln 2 + ln(4/3)
    // sample 1: p = [.75, .25, .5, .25], targets 1,0,1,0 -> ln(4/3) + ln(4/3) + ln 2 + ln(4/3)
    const bce = (5 * Math.log(4 / 3) + 2 * Math.log(2) + Math.log(4)) / 8;
    // (|u| - 1)^2: 0.25 for |u| = 0.5, 1 for u = 0 -> each sample 0.25 * 3 + 1 = 1.75
    const quantization = (1.75 + 1.75) / 8;
    const value = loss.compute(u, labels, noIndices);
    expect(value.dataSync()[0]).toBeCloseTo(bce + 0.1 * quantization, 5);
    expect(bce + 0.1 * quantization).toBeCloseTo(0.5701249, 6);
    tf.dispose([u, labels, value]);
    loss.dispose();
  });

  it('pulls a multi-label sample to the sign of its centres sum, ties from the fill vector', () => {
    const loss = new CsqLoss({ bits: 4, numClasses: 3, seed: 1, options: { fill: [[-1, -1, 1, 1]] } });
    const labels = tf.tensor2d([[1, 1, 0]]);
    const t = loss.targets(labels);
    expect(t.arraySync()).toEqual([[1, -1, 1, 1]]);
    // At u = the target the BCE is ~0 and the quantization term is 0.
    const value = loss.compute(t, labels, noIndices);
    expect(value.dataSync()[0]).toBeLessThan(1e-5);
    tf.dispose([labels, t, value]);
    loss.dispose();
  });

  it('has finite gradients even where tanh saturates to exactly +-1', () => {
    const loss = createLoss('csq', { bits: 4, numClasses: 2, seed: 3 });
    const u = tf.tensor2d([
      [1, -1, 0.999, -0.3],
      [-1, 1, 0, 1],
    ]);
    const labels = tf.tensor2d([
      [1, 0],
      [0, 1],
    ]);
    const g = tf.grad((x: tf.Tensor) => loss.compute(x as tf.Tensor2D, labels, noIndices))(u);
    expect(Array.from(g.dataSync()).every(Number.isFinite)).toBe(true);
    // The wrong-side saturated bit (sample 0 bit 1: centre +1, u = -1) is clipped, so its gradient is 0.
    expect(g.dataSync()[1]).toBe(0);
    tf.dispose([u, labels, g]);
    loss.dispose?.();
  });

  it('gradient descent on free outputs lowers the loss and moves sign(u) to the class centres', () => {
    const bits = 8;
    const loss = new CsqLoss({ bits, numClasses: 4, seed: 2 });
    const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 1], 'int32'), 4).toFloat() as tf.Tensor2D;
    const z = tf.variable(tf.randomNormal([5, bits], 0, 0.1, 'float32', 11));
    const objective = () => loss.compute(tf.tanh(z) as tf.Tensor2D, labels, noIndices);
    const before = objective().dataSync()[0];
    const optimizer = tf.train.sgd(20);
    for (let step = 0; step < 40; step++) optimizer.minimize(objective);
    const after = objective().dataSync()[0];
    expect(after).toBeLessThan(before * 0.5);
    expect(tf.sign(z).arraySync()).toEqual(loss.targets(labels).arraySync());
    tf.dispose([labels, z]);
    loss.dispose();
  });

  it('is in the registry', () => {
    expect(listLosses()).toEqual(expect.arrayContaining(['csq', 'dpn']));
    expect(() => createLoss('nope', { bits: 4, numClasses: 2, seed: 0 })).toThrow(/unknown loss/);
    expect(() => createLoss('csq', { bits: 4, numClasses: 2, seed: 0, options: { lambda: 'x' } })).toThrow(TypeError);
  });
});
