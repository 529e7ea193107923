// The training-path Conv2D against tfjs-layers' own layer: same outputs and gradients, and no
// gradient for an input nothing needs (the image, at a network's first conv).
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { conv2d } from '../../../encoder/models/conv2d.js';
import { maxAbsDiff, trainingStep } from './trainingStep.js';

type ConvArgs = Parameters<typeof tf.layers.conv2d>[0];

describe('Conv2D (training path)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  const cases: Array<[string, ConvArgs]> = [
    ['no bias, linear', { filters: 4, kernelSize: 3, padding: 'same', useBias: false }],
    ['bias, relu, stride 2', { filters: 3, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }],
    ['bias, valid padding', { filters: 2, kernelSize: 2, padding: 'valid' }],
  ];
  for (const [label, args] of cases) {
    it(`matches tf.layers.conv2d: ${label}`, () => {
      const init = { kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }), biasInitializer: 'ones' as const };
      const x = tf.randomNormal([2, 6, 6, 3], 0, 1, 'float32', 2);
      const ours = conv2d({ ...args, ...init });
      const stock = tf.layers.conv2d({ ...args, ...init });
      const projection = tf.randomNormal(stock.computeOutputShape(x.shape) as number[], 0, 1, 'float32', 3);
      const a = trainingStep(ours, x, projection);
      const b = trainingStep(stock, x, projection);
      expect(a.grads).toHaveLength(args.useBias === false ? 1 : 2);
      expect(maxAbsDiff(a.y, b.y)).toBeLessThan(1e-5);
      expect(maxAbsDiff(a.dx, b.dx)).toBeLessThan(1e-4);
      for (const [i, g] of a.grads.entries()) expect(maxAbsDiff(g, b.grads[i])).toBeLessThan(1e-3);
      expect(maxAbsDiff(ours.apply(x) as tf.Tensor, stock.apply(x) as tf.Tensor)).toBeLessThan(1e-5);
      expect(ours.getClassName()).toBe('Conv2D');
    });
  }

  it('skips the input gradient when only the weights need one', async () => {
    const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 4);
    const kernelsOf = async (layer: tf.layers.Layer) => {
      layer.apply(x);
      const weights = layer.trainableWeights.map((w) => w.read() as tf.Variable);
      const info = await tf.profile(() => {
        const { value, grads } = tf.variableGrads(
          () => tf.sum(layer.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
          weights,
        );
        tf.dispose([value, ...Object.values(grads)]);
      });
      return info.kernelNames;
    };
    const args: ConvArgs = { filters: 4, kernelSize: 3, padding: 'same', useBias: false };
    expect(await kernelsOf(tf.layers.conv2d(args))).toContain('Conv2DBackpropInput');
    const ours = await kernelsOf(conv2d(args));
    expect(ours).toContain('Conv2DBackpropFilter');
    expect(ours).not.toContain('Conv2DBackpropInput');
  });
});
