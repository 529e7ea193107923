import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../encoder/engine/backend.js';
import { gradientParity } from '../../../encoder/engine/gradientParity.js';

const config = (architecture: string, options: Record<string, unknown> = {}) => ({
  architecture,
  bits: 16,
  inputSize: 32,
  channels: 3,
  numClasses: 10,
  seed: 0,
  options,
});

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('gradientParity (the check bench/train/backendParity.ts runs on a GPU backend)', () => {
  it('finds wasm (with our training kernels) agreeing with cpu on cnnHash and hybridHash', async () => {
    for (const model of [config('cnnHash'), config('hybridHash')]) {
      const parity = await gradientParity('wasm', model, 2);
      expect(parity.backend).toBe('wasm');
      expect(tf.getBackend()).toBe('wasm');
      expect(parity.parameters).toBeGreaterThan(10_000);
      expect(Math.abs(parity.lossBackend - parity.lossCpu)).toBeLessThan(1e-4 * Math.max(1, parity.lossCpu));
      expect(parity.maxRelativeDifference).toBeLessThan(1e-3);
    }
  });

  it('sees a backend that computes differently (a wasm Relu made leaky)', async () => {
    const relu = tf.getKernel('Relu', 'wasm');
    if (relu === undefined) throw new Error('wasm Relu kernel missing');
    tf.unregisterKernel('Relu', 'wasm');
    tf.registerKernel({
      kernelName: 'Relu',
      backendName: 'wasm',
      kernelFunc: ({ inputs }) => tf.leakyRelu(inputs.x as tf.Tensor, 0.3),
    });
    try {
      const parity = await gradientParity('wasm', config('cnnHash'), 2);
      expect(parity.maxRelativeDifference).toBeGreaterThan(1e-2);
    } finally {
      tf.unregisterKernel('Relu', 'wasm');
      tf.registerKernel(relu);
    }
  });
});
