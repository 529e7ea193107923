// Batch-norm passes as tfjs kernels of the wasm backend, on the SIMD kernels (simdKernels.ts).
// The batch-norm layer (encoder/models/batchNorm.ts) runs them through these ops when the wasm
// backend has them, and through plain tfjs ops elsewhere; tests compare both with the stock layer.
// x is channels last and read as [rows, channels]; per-channel vectors are [channels].
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { type SimdKernels, simdKernelsFor } from './simdKernels.js';

const VARIANCE = 'EdgehashBatchNormVariance';
const GRADIENT_SUMS = 'EdgehashBatchNormGradientSums';
const CHANNEL_AFFINE = 'EdgehashChannelAffine';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown };

function kernelsOf(backend: unknown): SimdKernels {
  const simd = simdKernelsFor(backend);
  if (simd === undefined) throw new Error('batch-norm kernels: the SIMD kernels are not attached to this backend');
  return simd;
}

function rowsAndChannels(x: tf.TensorInfo): [number, number] {
  const channels = x.shape[x.shape.length - 1];
  return [tf.util.sizeFromShape(x.shape) / channels, channels];
}

/** Runs `body` with float32 scratch of `floats` values, released after. */
function withScratch<T>(backend: BackendWasm, floats: number, body: (scratch: tf.TensorInfo) => T): T {
  const scratch = backend.makeOutput([floats], 'float32');
  try {
    return body(scratch);
  } finally {
    backend.disposeData(scratch.dataId);
  }
}

function variance({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const simd = kernelsOf(backend);
  const { x, mean } = inputs as { x: tf.TensorInfo; mean: tf.TensorInfo };
  const [rows, channels] = rowsAndChannels(x);
  const out = simd.backend.makeOutput([channels], 'float32');
  withScratch(simd.backend, 3 * channels, (scratch) =>
    simd.exports.centeredSumSquares(
      simd.pointer(x),
      rows,
      channels,
      simd.pointer(mean),
      simd.pointer(out),
      simd.pointer(scratch),
    ),
  );
  const values = simd.backend.typedArrayFromHeap(out) as Float32Array;
  for (let c = 0; c < channels; c++) values[c] /= rows;
  return out;
}

function gradientSums({ inputs, backend }: KernelArgs): tf.TensorInfo[] {
  const simd = kernelsOf(backend);
  const { dy, x, mean } = inputs as { dy: tf.TensorInfo; x: tf.TensorInfo; mean: tf.TensorInfo };
  const [rows, channels] = rowsAndChannels(x);
  const sumDy = simd.backend.makeOutput([channels], 'float32');
  const sumDyC = simd.backend.makeOutput([channels], 'float32');
  withScratch(simd.backend, 6 * channels, (scratch) =>
    simd.exports.gradientSums(
      simd.pointer(dy),
      simd.pointer(x),
      rows,
      channels,
      simd.pointer(mean),
      simd.pointer(sumDy),
      simd.pointer(sumDyC),
      simd.pointer(scratch),
    ),
  );
  return [sumDy, sumDyC];
}

function channelAffineKernel({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const simd = kernelsOf(backend);
  const { x, mean, a, b, dy, s } = inputs as Record<string, tf.TensorInfo>;
  const [rows, channels] = rowsAndChannels(x);
  const out = simd.backend.makeOutput(x.shape, 'float32');
  const withDy = dy !== undefined;
  simd.exports.channelAffine(
    simd.pointer(x),
    withDy ? simd.pointer(dy) : 0,
    rows,
    channels,
    simd.pointer(mean),
    simd.pointer(a),
    simd.pointer(b),
    withDy ? simd.pointer(s) : 0,
    simd.pointer(out),
    withDy ? 1 : 0,
  );
  return out;
}

const KERNELS: Array<[string, tf.KernelFunc]> = [
  [VARIANCE, variance as tf.KernelFunc],
  [GRADIENT_SUMS, gradientSums as unknown as tf.KernelFunc],
  [CHANNEL_AFFINE, channelAffineKernel as tf.KernelFunc],
];

/** Registers the batch-norm kernels for backend 'wasm'. Idempotent. */
export function registerBatchNormKernels(): void {
  for (const [kernelName, kernelFunc] of KERNELS) {
    if (tf.getKernel(kernelName, 'wasm') === undefined)
      tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
  }
}

/** Whether the active backend runs these ops (float32 wasm with the SIMD kernels attached). */
export function batchNormKernelsActive(x: tf.Tensor): boolean {
  return x.dtype === 'float32' && tf.getBackend() === 'wasm' && simdKernelsFor(tf.backend()) !== undefined;
}

/** Per-channel biased variance of x around `mean`. */
export function batchVariance(x: tf.Tensor, mean: tf.Tensor1D): tf.Tensor1D {
  return tf.engine().runKernel(VARIANCE, { x, mean }) as tf.Tensor1D;
}

/** Per-channel sum(dy) and sum(dy * (x - mean)). */
export function batchNormGradientSums(dy: tf.Tensor, x: tf.Tensor, mean: tf.Tensor1D): [tf.Tensor1D, tf.Tensor1D] {
  return tf.engine().runKernel(GRADIENT_SUMS, { dy, x, mean }) as unknown as [tf.Tensor1D, tf.Tensor1D];
}

/** (x - mean) * a + b per channel, plus dy * s when given. */
export function channelAffine(
  x: tf.Tensor,
  mean: tf.Tensor1D,
  a: tf.Tensor1D,
  b: tf.Tensor1D,
  withDy?: { dy: tf.Tensor; s: tf.Tensor1D },
): tf.Tensor {
  const inputs: tf.NamedTensorMap = withDy ? { x, mean, a, b, dy: withDy.dy, s: withDy.s } : { x, mean, a, b };
  return tf.engine().runKernel(CHANNEL_AFFINE, inputs);
}
