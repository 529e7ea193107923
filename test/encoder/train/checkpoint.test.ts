import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint, restoreWeights, saveCheckpoint } from '../../../encoder/train/checkpoint.js';

function tinyNet(): tf.LayersModel {
  const input = tf.input({ shape: [3] });
  const hidden = tf.layers.dense({ units: 4, activation: 'relu' }).apply(input) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: tf.layers.dense({ units: 2 }).apply(hidden) as tf.SymbolicTensor });
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('checkpoints', () => {
  it('restore weights, optimizer moments and state exactly, so training resumes where it stopped', async () => {
    const net = tinyNet();
    const optimizer = tf.train.adam(0.01);
    const x = tf.randomNormal([8, 3], 0, 1, 'float32', 1);
    const step = (n: tf.LayersModel, o: tf.Optimizer) =>
      o.minimize(() => tf.mean(tf.square(n.predict(x) as tf.Tensor)) as tf.Scalar, true)!.dataSync()[0];
    step(net, optimizer);
    const dir = path.join(await mkdtemp(path.join(tmpdir(), 'edgehash-ckpt-')), 'epoch-0001');
    await saveCheckpoint(dir, net, await optimizer.getWeights(), { epoch: 1, note: 'a' });
    expect(await readdir(path.dirname(dir))).toEqual(['epoch-0001']);

    const next = step(net, optimizer);
    const restored = tinyNet();
    const restoredOptimizer = tf.train.adam(0.01);
    const saved = await loadCheckpoint<{ epoch: number; note: string }>(dir);
    restoreWeights(restored, saved.weights, dir);
    await restoredOptimizer.setWeights(saved.optimizer);
    expect(saved.state).toEqual({ epoch: 1, note: 'a' });
    expect(step(restored, restoredOptimizer)).toBeCloseTo(next, 6);
  });

  it('refuses weights of the wrong shape, naming the tensor', async () => {
    const net = tinyNet();
    const wrong = net.getWeights().map((w, i) => (i === 0 ? tf.zeros([5, 4]) : w));
    expect(() => restoreWeights(net, wrong, 'ckpt')).toThrow(/ckpt: .*shape 5,4/);
  });
});
