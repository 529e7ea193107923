import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import {
  backendInfo,
  defaultWorkers,
  MIN_REPLICA_SHARE,
  selectBackend,
  wasmBinaryDir,
} from '../../../encoder/engine/backend.js';

describe('selectBackend', () => {
  it("'cpu' initialises the pure-JS backend", async () => {
    const sel = await selectBackend('cpu');
    expect(sel.name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(sel.reason).toMatch(/cpu/);
    expect(backendInfo()).toMatchObject({ name: 'cpu', threads: 1 });
  });

  it("'wasm' finds its binaries, uses SIMD on one thread, and can train a conv", async () => {
    expect(wasmBinaryDir()).toMatch(/tfjs-backend-wasm[\\/]dist[\\/]$/);
    const sel = await selectBackend('wasm');
    expect(sel.name).toBe('wasm');
    const info = backendInfo();
    expect(info.name).toBe('wasm');
    expect(info.simd).toBe(true);
    expect(info.threads).toBe(1);
    expect(info.extraKernels).toContain('Conv2DBackpropFilter');
    const before = tf.memory().numTensors;
    const g = tf.tidy(() => {
      const x = tf.randomNormal([2, 6, 6, 3], 0, 1, 'float32', 1);
      const w = tf.randomNormal([3, 3, 3, 4], 0, 1, 'float32', 2);
      const [, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf
          .conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same')
          .square()
          .sum(),
      )([x, w]);
      return dw.shape;
    });
    expect(g).toEqual([3, 3, 3, 4]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("'tensorflow' throws a clear error when tfjs-node is not installed", async () => {
    const prev = tf.getBackend();
    await expect(selectBackend('tensorflow')).rejects.toThrow(/backend 'tensorflow' unavailable.*tfjs-node/);
    expect(tf.getBackend()).toBe(prev);
  });

  it("'webgpu' throws a clear error naming what is missing", async () => {
    await expect(selectBackend('webgpu')).rejects.toThrow(/backend 'webgpu' unavailable/);
  });

  it("'auto' falls through to wasm here and says why", async () => {
    const sel = await selectBackend('auto');
    expect(sel.name).toBe('wasm');
    expect(sel.reason).toMatch(/skipped: .*tensorflow.*webgpu/);
  });
});

describe('defaultWorkers', () => {
  const cores = availableParallelism();
  it('runs a replica per core on the one-thread backends and one on the self-parallel ones', () => {
    expect(defaultWorkers('wasm', 128 * cores)).toBe(cores);
    expect(defaultWorkers('cpu', 128 * cores)).toBe(cores);
    expect(defaultWorkers('webgpu', 128 * cores)).toBe(1);
    expect(defaultWorkers('tensorflow', 128 * cores)).toBe(1);
  });

  it('keeps at least MIN_REPLICA_SHARE images per replica, and at least one replica', () => {
    expect(defaultWorkers('wasm', MIN_REPLICA_SHARE * 2)).toBe(Math.min(cores, 2));
    expect(defaultWorkers('wasm', MIN_REPLICA_SHARE * 2 - 1)).toBe(1);
    expect(defaultWorkers('wasm', 3)).toBe(1);
  });
});
