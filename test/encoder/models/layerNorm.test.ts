// LayerNormalization with broadcasting and a written-out backward, against tfjs-layers' own layer:
// same outputs and gradients for the input, gamma and beta, on cpu and on wasm.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../encoder/engine/backend.js';
import { LayerNormalization, layerNormalization } from '../../../encoder/models/layerNorm.js';
import { maxAbsDiff, trainingStep } from './trainingStep.js';

function compareWithStock(backend: string, shape: number[]) {
  it(`matches tf.layers.layerNormalization on ${backend}, shape ${shape.join('x')}`, () => {
    const x = tf.add(tf.mul(tf.randomNormal(shape, 0, 1, 'float32', 3), 1.7), 0.4);
    const projection = tf.randomNormal(shape, 0, 1, 'float32', 4);
    const init = {
      axis: -1,
      epsilon: 1e-6,
      gammaInitializer: tf.initializers.randomUniform({ minval: 0.5, maxval: 1.5, seed: 5 }),
      betaInitializer: tf.initializers.randomUniform({ minval: -0.5, maxval: 0.5, seed: 6 }),
    };
    const a = trainingStep(layerNormalization(init), x, projection);
    const b = trainingStep(tf.layers.layerNormalization(init), x, projection);
    const scale = tf.tidy(() => tf.max(tf.abs(b.dx)).dataSync()[0]);
    expect(maxAbsDiff(a.y, b.y)).toBeLessThan(1e-4);
    expect(maxAbsDiff(a.dx, b.dx) / scale).toBeLessThan(1e-4);
    expect(a.grads).toHaveLength(2); // gamma, beta
    for (const [i, g] of a.grads.entries()) expect(maxAbsDiff(g, b.grads[i])).toBeLessThan(1e-3);
    tf.dispose([x, projection, a.y, a.dx, ...a.grads, b.y, b.dx, ...b.grads]);
  });
}

describe('LayerNormalization (broadcasting, closed-form gradient)', () => {
  describe('cpu', () => {
    beforeAll(async () => {
      await tf.setBackend('cpu');
    });
    compareWithStock('cpu', [5, 7]);
    compareWithStock('cpu', [2, 6, 8]);
    compareWithStock('cpu', [2, 3, 3, 5]);
  });

  describe('wasm', () => {
    beforeAll(async () => {
      await selectBackend('wasm');
    });
    compareWithStock('wasm', [4, 16, 24]);
  });

  it('runs without a single Tile, Slice per tile or leaked tensor in a gradient step', async () => {
    await tf.setBackend('cpu');
    const x = tf.randomNormal([4, 8, 6], 0, 1, 'float32', 9);
    const kernelsOf = async (layer: tf.layers.Layer) => {
      layer.apply(x);
      const step = () => {
        const { value, grads } = tf.variableGrads(
          () => tf.sum(tf.square(layer.apply(x) as tf.Tensor)) as tf.Scalar,
          layer.trainableWeights.map((w) => w.read() as tf.Variable),
        );
        tf.dispose([value, ...Object.values(grads)]);
      };
      const before = tf.memory().numTensors;
      const { kernels } = await tf.profile(step);
      expect(tf.memory().numTensors).toBe(before);
      return kernels.map((k) => k.name);
    };
    const stock = await kernelsOf(tf.layers.layerNormalization({ axis: -1 }));
    expect(stock.filter((k) => k === 'Slice').length).toBeGreaterThan(30);
    const ours = await kernelsOf(layerNormalization({ axis: -1 }));
    expect(ours).not.toContain('Tile');
    expect(ours).not.toContain('Slice');
    x.dispose();
  });

  it('keeps the stock class name and config', () => {
    const layer = new LayerNormalization({ name: 'ln', axis: -1, epsilon: 1e-6 });
    expect(layer.getClassName()).toBe('LayerNormalization');
    expect(layer.getConfig()).toMatchObject({ name: 'ln', epsilon: 1e-6 });
  });
});
