// The fused training-mode BatchNormalization against tfjs-layers' own layer: same outputs, same
// gradients for the input, gamma and beta, same moving averages, same inference path and config.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../encoder/engine/backend.js';
import { batchNormKernelsActive } from '../../../encoder/engine/batchNormKernels.js';
import { BatchNormalization, batchNormalization } from '../../../encoder/models/batchNorm.js';
import { maxAbsDiff, trainingStep } from './trainingStep.js';

function compareWithStock(backend: string, shape: number[]) {
  it(`matches tf.layers.batchNormalization in training on ${backend}, shape ${shape.join('x')}`, () => {
    const channels = shape[shape.length - 1];
    const x = tf.add(tf.mul(tf.randomNormal(shape, 0, 1, 'float32', 3), 2.5), 0.7);
    const projection = tf.randomNormal(shape, 0, 1, 'float32', 4);
    const init = {
      gammaInitializer: tf.initializers.randomUniform({ minval: 0.5, maxval: 1.5, seed: 5 }),
      betaInitializer: tf.initializers.randomUniform({ minval: -0.5, maxval: 0.5, seed: 6 }),
      momentum: 0.9,
    };
    const ours = batchNormalization(init);
    const stock = tf.layers.batchNormalization(init);
    const a = trainingStep(ours, x, projection);
    const b = trainingStep(stock, x, projection);
    const scale = tf.tidy(() => tf.max(tf.abs(b.dx)).dataSync()[0]);
    expect(maxAbsDiff(a.y, b.y)).toBeLessThan(1e-4);
    expect(maxAbsDiff(a.dx, b.dx) / scale).toBeLessThan(1e-4);
    expect(a.grads).toHaveLength(2); // gamma, beta
    for (const [i, g] of a.grads.entries()) expect(maxAbsDiff(g, b.grads[i])).toBeLessThan(1e-2);
    // Three training calls each: the moving statistics moved, and moved identically.
    const [mean, variance] = [ours.getWeights()[2], ours.getWeights()[3]];
    expect(maxAbsDiff(mean, stock.getWeights()[2])).toBeLessThan(1e-5);
    expect(maxAbsDiff(variance, stock.getWeights()[3])).toBeLessThan(1e-4);
    expect(tf.tidy(() => tf.max(tf.abs(mean)).dataSync()[0])).toBeGreaterThan(0.1);
    expect(mean.shape).toEqual([channels]);
    // Inference uses the moving statistics, as the stock layer does.
    expect(maxAbsDiff(ours.apply(x) as tf.Tensor, stock.apply(x) as tf.Tensor)).toBeLessThan(1e-4);
    tf.dispose([x, projection, a.y, a.dx, ...a.grads, b.y, b.dx, ...b.grads]);
  });
}

describe('BatchNormalization (fused training step)', () => {
  describe('cpu', () => {
    beforeAll(async () => {
      await tf.setBackend('cpu');
    });
    compareWithStock('cpu', [4, 3, 3, 5]);
    compareWithStock('cpu', [6, 7]);
  });

  describe('wasm', () => {
    beforeAll(async () => {
      await selectBackend('wasm');
    });
    it('runs the SIMD batch-norm kernels there', () => {
      expect(batchNormKernelsActive(tf.zeros([2, 3]))).toBe(true);
    });
    compareWithStock('wasm', [8, 6, 6, 16]);
    // 800 rows (several 256-row accumulation blocks) and 6 channels (a vector and a scalar tail).
    compareWithStock('wasm', [8, 10, 10, 6]);
  });

  it('keeps the stock class name and config, so export and saved models see a BatchNormalization', () => {
    const layer = new BatchNormalization({ name: 'bn', epsilon: 1e-3, momentum: 0.95 });
    expect(layer.getClassName()).toBe('BatchNormalization');
    expect(layer.getConfig()).toMatchObject({ name: 'bn', epsilon: 1e-3, momentum: 0.95 });
  });

  it('does not leak tensors across a training step', () => {
    const layer = batchNormalization({});
    const x = tf.randomNormal([4, 2, 2, 3], 0, 1, 'float32', 9);
    const step = () =>
      tf.tidy(() => tf.grad((input: tf.Tensor) => tf.sum(layer.apply(input, { training: true }) as tf.Tensor))(x));
    step().dispose();
    const before = tf.memory().numTensors;
    step().dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});
