// A few optimizer steps on synthetic images (4 classes) lower the CSQ loss for both architectures.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createLoss } from '../../../encoder/losses/index.js';
import { createModel } from '../../../encoder/models/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Class k: a bright k-th quadrant on noise, so the classes are separable from pixels. */
function syntheticBatch(perClass: number, side: number): { x: tf.Tensor4D; y: tf.Tensor2D; classes: number[] } {
  const classes = Array.from({ length: 4 * perClass }, (_, i) => i % 4);
  const x = tf.tidy(() => {
    const noise = tf.randomNormal([classes.length, side, side, 3], 0, 0.3, 'float32', 21);
    const half = side / 2;
    const masks = classes.map((k) => {
      const [r, c] = [Math.floor(k / 2), k % 2];
      return tf.pad(tf.ones([half, half, 3]), [
        [r * half, (1 - r) * half],
        [c * half, (1 - c) * half],
        [0, 0],
      ]);
    });
    return tf.add(noise, tf.stack(masks)) as tf.Tensor4D;
  });
  const y = tf.oneHot(tf.tensor1d(classes, 'int32'), 4).toFloat() as tf.Tensor2D;
  return { x, y, classes };
}

describe('training smoke test (CSQ, cpu)', () => {
  it.each([
    ['hybridHash', { stemChannels: 8, widths: [16, 32], depths: [1, 1], heads: [2, 2], mlpRatio: 2 }],
    ['cnnHash', { widths: [8, 16, 32], hidden: 32 }],
  ])('%s: 12 Adam steps lower the loss', (architecture, options) => {
    const bits = 16;
    const side = 16;
    const model = createModel({ architecture, bits, inputSize: side, channels: 3, numClasses: 4, seed: 3, options });
    const loss = createLoss('csq', { bits, numClasses: 4, seed: 3 });
    const { x, y, classes } = syntheticBatch(2, side);
    const indices = Int32Array.from(classes.keys());
    const optimizer = tf.train.adam(3e-3);
    const step = () => loss.compute(model.net.apply(x, { training: true }) as tf.Tensor2D, y, indices);
    const losses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const value = optimizer.minimize(step, true) as tf.Scalar;
      losses.push(value.dataSync()[0]);
      value.dispose();
    }
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0] * 0.9);
    tf.dispose([x, y]);
    loss.dispose?.();
    model.net.dispose();
  });
});
