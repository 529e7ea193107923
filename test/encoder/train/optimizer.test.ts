import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../encoder/config.js';
import {
  AdamW,
  createOptimizer,
  describeOptimizer,
  NesterovSgd,
  optimizerSettingsOf,
  setLearningRate,
} from '../../../encoder/train/optimizer.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const values = (t: tf.Tensor) => Array.from(t.dataSync());

describe('AdamW (decoupled weight decay)', () => {
  it('is plain Adam at weight decay 0 and AdamW above it', () => {
    // tfjs optimizers answer instanceof by duck typing (Optimizer[Symbol.hasInstance]): compare constructors.
    expect(createOptimizer(1e-3).constructor).toBe(tf.AdamOptimizer);
    expect(createOptimizer(1e-3, { weightDecay: 0 }).constructor).toBe(tf.AdamOptimizer);
    expect(createOptimizer(1e-3, { weightDecay: 0.05 }).constructor).toBe(AdamW);
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
    const optimizer = createOptimizer(0.2, { weightDecay: 0.25 });
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

describe('Nesterov SGD (optimizer "sgd")', () => {
  it('is made for kind "sgd", with momentum 0.9 unless given', () => {
    const sgd = createOptimizer(0.1, { kind: 'sgd' });
    expect(sgd.constructor).toBe(NesterovSgd);
    expect(sgd.getConfig()).toEqual({ learningRate: 0.1, momentum: 0.9, useNesterov: true });
    expect(describeOptimizer({ kind: 'sgd', weightDecay: 0, momentum: 0.85 })).toBe('SGD, Nesterov momentum 0.85');
    expect(describeOptimizer({ kind: 'sgd', weightDecay: 5e-3, momentum: 0.9 })).toBe(
      'SGDW, Nesterov momentum 0.9, weight decay 0.005',
    );
    expect(describeOptimizer({ kind: 'adam', weightDecay: 0.05, momentum: 0.9 })).toBe('AdamW, weight decay 0.05');
    expect(describeOptimizer({ kind: 'adam', weightDecay: 0, momentum: 0.9 })).toBe('Adam');
    sgd.dispose();
  });

  it('steps by v <- m v + g, w <- w - lr (g + m v), then decays rank >= 2 weights, at the rate set for each step', () => {
    const kernel = tf.variable(tf.tensor2d([[1.0, -2.0]]), true, 'sgd_test_kernel');
    const bias = tf.variable(tf.tensor1d([0.5]), true, 'sgd_test_bias');
    const sgd = createOptimizer(1, { kind: 'sgd', momentum: 0.5, weightDecay: 0.1 });
    const g = { kernel: [0.2, -0.4], bias: [1.0] };
    const expected = { kernel: [1.0, -2.0], bias: [0.5] };
    const v = { kernel: [0, 0], bias: [0] };
    for (const lr of [0.1, 0.5]) {
      // Setting the field alone would leave SGD's step at its old rate: it keeps -lr as a tensor.
      setLearningRate(sgd, lr);
      sgd.applyGradients([
        { name: kernel.name, tensor: tf.tensor2d([g.kernel]) },
        { name: bias.name, tensor: tf.tensor1d(g.bias) },
      ]);
      for (const key of ['kernel', 'bias'] as const) {
        expected[key] = expected[key].map((w, i) => {
          v[key][i] = 0.5 * v[key][i] + g[key][i];
          const stepped = w - lr * (g[key][i] + 0.5 * v[key][i]);
          return key === 'kernel' ? stepped * (1 - lr * 0.1) : stepped;
        });
      }
      values(kernel).forEach((w, i) => {
        expect(w).toBeCloseTo(expected.kernel[i], 6);
      });
      expect(values(bias)[0]).toBeCloseTo(expected.bias[0], 6);
    }
    tf.dispose([kernel, bias]);
    sgd.dispose();
  });
});

describe('training.optimizer and training.momentum in a run config', () => {
  const config = (training: Record<string, unknown>) => ({
    name: 'x',
    dataset: { format: 'cifar10-binary', root: 'cifar' },
    protocol: 'cifar10-2',
    model: { architecture: 'cnnHash', bits: 16 },
    loss: { name: 'csq' },
    training,
    outputDir: 'runs/x',
  });

  it('reads Adam when absent and SGD with momentum 0.9 unless given', () => {
    expect(optimizerSettingsOf(parseConfig(config({}), 'run.json').training)).toEqual({
      kind: 'adam',
      weightDecay: 0,
      momentum: 0.9,
    });
    const sgd = parseConfig(config({ optimizer: 'sgd', momentum: 0.85, weightDecay: 5e-3 }), 'run.json');
    expect(optimizerSettingsOf(sgd.training)).toEqual({ kind: 'sgd', weightDecay: 5e-3, momentum: 0.85 });
  });

  it('refuses momentum without SGD and an unknown optimizer, naming the file and field', () => {
    expect(() => parseConfig(config({ momentum: 0.9 }), 'run.json')).toThrow(
      /run.json: invalid config\n {2}training.momentum: momentum is a setting of SGD/,
    );
    expect(() => parseConfig(config({ optimizer: 'lamb' }), 'run.json')).toThrow(/training.optimizer:/);
  });
});
