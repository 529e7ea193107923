// The replaced wasm kernels address tensors through views of the whole heap. Once the heap is over
// 2 GiB, byte offsets pass 2^31, where a signed shift (`offset >> 2`) turns them negative and
// copyWithin writes elsewhere in the heap (it crashed maSwin training at batch 128). Own file: the
// wasm heap never shrinks, so the 2 GiB filler must not outlive these tests.
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { selectBackend } from '../../../encoder/engine/backend.js';
import { wasmKernelLimits } from '../../../encoder/engine/wasmKernels.js';
import { batchNormalization } from '../../../encoder/models/batchNorm.js';

const GiB = 2 ** 30;
let filler: tf.Tensor | undefined;
const savedChunk = wasmKernelLimits.filterGradChunk;

function heapOffset(t: tf.Tensor): number {
  return (tf.backend() as BackendWasm).dataIdMap.get(t.dataId).memoryOffset;
}

/** Filter gradient of a stride-1 'same' conv, and a stride-2 'valid' one (both im2col paths). */
function filterGradients(x: tf.Tensor4D, dy1: tf.Tensor4D, dy2: tf.Tensor4D): number[][] {
  return tf.tidy(() => {
    const f = tf.zeros([3, 3, 3, 4]) as tf.Tensor4D;
    const same = tf.grad((w: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, w as tf.Tensor4D, 1, 'same'), dy1)))(f);
    const valid = tf.grad((w: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, w as tf.Tensor4D, 2, 'valid'), dy2)))(f);
    return [Array.from(same.dataSync()), Array.from(valid.dataSync())];
  });
}

beforeAll(async () => {
  await selectBackend('wasm');
  // Several chunks per gradient, so the chunked dy copy runs too.
  wasmKernelLimits.filterGradChunk = 256;
});

afterAll(() => {
  wasmKernelLimits.filterGradChunk = savedChunk;
  filler?.dispose();
});

const bn = batchNormalization({});

/** Slice, GatherV2, batched and transposed BatchMatMul, MaxPoolGrad, the batch-norm SIMD passes. */
function otherKernels(a: tf.Tensor4D): number[][] {
  return tf.tidy(() => {
    const b = tf.reverse(a, 3);
    const pooled = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(v as tf.Tensor4D, 2, 2, 'valid'), 1.5)))(a);
    const norm = tf.grad((v: tf.Tensor) => tf.sum(tf.square(bn.apply(v, { training: true }) as tf.Tensor)))(a);
    return [
      tf.slice(a, [1, 1, 0, 2], [2, 3, 5, 3]),
      tf.gather(a, [3, 0, 2], 1),
      tf.matMul(a, b, false, true),
      tf.matMul(a, b, true, false),
      tf.matMul(tf.reshape(a, [96, 6]), tf.reshape(b, [96, 6]), true, false),
      pooled,
      norm,
    ].map((r) => Array.from(r.dataSync()));
  });
}

function expectClose(got: number[][], expected: number[][]): void {
  expect(got.length).toBe(expected.length);
  got.forEach((g, i) => {
    expect(g.length).toBe(expected[i].length);
    const diff = Math.max(...g.map((v, j) => Math.abs(v - expected[i][j])));
    expect(diff).toBeLessThan(1e-4);
  });
}

it('Conv2DBackpropFilter is right for tensors placed past 2 GiB in the wasm heap', async () => {
  const make = () => {
    const x = tf.randomNormal([4, 6, 6, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const dy1 = tf.randomNormal([4, 6, 6, 4], 0, 1, 'float32', 2) as tf.Tensor4D;
    const dy2 = tf.randomNormal([4, 2, 2, 4], 0, 1, 'float32', 3) as tf.Tensor4D;
    return [x, dy1, dy2] as const;
  };
  await tf.setBackend('cpu');
  const [cx, cdy1, cdy2] = make();
  const expected = filterGradients(cx, cdy1, cdy2);
  tf.dispose([cx, cdy1, cdy2]);

  await tf.setBackend('wasm');
  filler = tf.zeros([(2 * GiB + 64 * 2 ** 20) / 4]);
  const [x, dy1, dy2] = make();
  expect(heapOffset(x)).toBeGreaterThan(2 * GiB);
  const got = filterGradients(x, dy1, dy2);
  tf.dispose([x, dy1, dy2]);
  expectClose(got, expected);
});

it('the other replaced kernels are right past 2 GiB too', async () => {
  const make = () => tf.randomNormal([4, 4, 6, 6], 0, 1, 'float32', 4) as tf.Tensor4D;
  await tf.setBackend('cpu');
  const ca = make();
  const expected = otherKernels(ca);
  ca.dispose();
  await tf.setBackend('wasm');
  filler ??= tf.zeros([(2 * GiB + 64 * 2 ** 20) / 4]);
  const a = make();
  expect(heapOffset(a)).toBeGreaterThan(2 * GiB);
  const got = otherKernels(a);
  a.dispose();
  expectClose(got, expected);
});
