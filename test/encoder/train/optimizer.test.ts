import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { AdamW, createOptimizer } from '../../../encoder/train/optimizer.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const values = (t: tf.Tensor) => Array.from(t.dataSync());

describe('AdamW (decoupled weight decay)', () => {
  it('is plain Adam at weight decay 0 and AdamW above it', () => {
    // tfjs optimizers answer instanceof by duck typing (Optimizer[Symbol.hasInstance]): compare constructors.
    expect(createOptimizer(1e-3).constructor).toBe(tf.AdamOptimizer);
    expect(createOptimizer(1e-3, 0).constructor).toBe(tf.AdamOptimizer);
    expect(createOptimizer(1e-3, 0.05).constructor).toBe(AdamW);
  });

  it("takes Adam's step, then shrinks the rank >= 2 weights by 1 - lr * wd at this step's rate; rank 1 is not decayed", () => {
    const kernel = tf.variable(
      tf.tensor2d([
        [0.5, -1.0],
        [2.0, 0.25],
      ]),
      true,
      'opt_test_kernel',
    );
    const bias = tf.variable(tf.tensor1d([1.0, -2.0]), true, 'opt_test_bias');
    const kernelRef = tf.variable(kernel.clone(), true, 'opt_test_kernel_ref');
    const biasRef = tf.variable(bias.clone(), true, 'opt_test_bias_ref');
    const grads = [
      tf.tensor2d([
        [0.1, -0.2],
        [0.0, 0.3],
      ]),
      tf.tensor1d([0.5, -0.5]),
    ];
    const adamW = new AdamW(0.1, 0.5);
    const adam = tf.train.adam(0.1);
    for (const lr of [0.1, 0.04]) {
      (adamW as unknown as { learningRate: number }).learningRate = lr;
      (adam as unknown as { learningRate: number }).learningRate = lr;
      adamW.applyGradients([
        { name: kernel.name, tensor: grads[0] },
        { name: bias.name, tensor: grads[1] },
      ]);
      adam.applyGradients([
        { name: kernelRef.name, tensor: grads[0] },
        { name: biasRef.name, tensor: grads[1] },
      ]);
      const keep = 1 - lr * 0.5;
      const expected = values(kernelRef).map((v) => v * keep);
      values(kernel).forEach((v, i) => {
        expect(v).toBeCloseTo(expected[i], 6);
      });
      // Rescale the reference so the next step starts from the same kernel.
      kernelRef.assign(kernel);
      expect(values(bias)).toEqual(values(biasRef));
    }
    expect(values(kernel)).not.toEqual([0.5, -1.0, 2.0, 0.25]);
    tf.dispose([kernel, bias, kernelRef, biasRef, ...grads]);
    adamW.dispose();
    adam.dispose();
  });

  it('decays through minimize() too: zero gradients leave Adam still and only shrink the kernels', () => {
    const kernel = tf.variable(tf.ones([3, 2]), true, 'opt_test_minimize_kernel');
    const bias = tf.variable(tf.ones([2]), true, 'opt_test_minimize_bias');
    const optimizer = createOptimizer(0.2, 0.25);
    // A loss that does not depend on the weights' values: gradients are exactly zero.
    optimizer.minimize(() => tf.sum(tf.mul(tf.add(tf.sum(kernel), tf.sum(bias)), 0)) as tf.Scalar, false, [
      kernel,
      bias,
    ]);
    expect(values(kernel)).toEqual(Array(6).fill(Math.fround(1 - 0.2 * 0.25)));
    expect(values(bias)).toEqual([1, 1]);
    tf.dispose([kernel, bias]);
    optimizer.dispose();
  });
});
