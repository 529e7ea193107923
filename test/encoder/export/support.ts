// Shared by the export tests: small models with every weight randomized (so folded BatchNorm
// statistics and biases matter), their ONNX export and card, and tfjs reference outputs.
import * as tf from '@tensorflow/tfjs';
import { afterAll } from 'vitest';
import { exportHashModel } from '../../../encoder/export/exportModel.js';
import { buildModelCard } from '../../../encoder/export/modelCard.js';
import { quantizeModel } from '../../../encoder/export/quantize.js';
import { OnnxHasher } from '../../../encoder/hash/onnxHasher.js';
import { createModel, type HashModel } from '../../../encoder/models/index.js';
import { mulberry32 } from '../../../encoder/random.js';
import type { ModelCard } from '../../../schemas/modelCard.js';

export const TEST_NORMALIZATION = { mean: [0.49, 0.48, 0.45], std: [0.25, 0.24, 0.26] };

export interface SmallModel {
  model: HashModel;
  onnx: Uint8Array;
  card: ModelCard;
}

/** A model with random weights: variances and LayerNorm/BatchNorm scales positive, the rest N(0, 0.3). */
export function randomizedModel(
  architecture: string,
  options: Record<string, unknown>,
  { bits = 16, inputSize = 16, channels = 3, seed = 1, testTimeFlip = false } = {},
): HashModel {
  const model = createModel({ architecture, bits, inputSize, channels, numClasses: 4, options, seed, testTimeFlip });
  const random = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  model.net.setWeights(
    model.net.weights.map((w) => {
      const shape = w.shape as number[];
      const size = shape.reduce((a, b) => a * b, 1);
      const positive = /moving_variance|gamma/.test(w.originalName);
      const values = Float32Array.from({ length: size }, () =>
        positive ? 0.5 + random() : (w.originalName.includes('kernel') ? 0.3 : 0.1) * normal(),
      );
      return tf.tensor(values, shape);
    }),
  );
  return model;
}

export function exportSmall(model: HashModel, modelId = 'test-model'): SmallModel {
  const exported = exportHashModel(model);
  const channels = model.config.channels;
  const card = buildModelCard({
    modelId,
    config: model.config,
    onnx: { bytes: exported.onnx, ...exported },
    normalization: {
      mean: TEST_NORMALIZATION.mean.slice(0, channels),
      std: TEST_NORMALIZATION.std.slice(0, channels),
    },
  });
  return { model, onnx: exported.onnx, card };
}

/** The card of `onnx`, an export of `small` (quantized as `quantization` says, or float). */
export function cardOf(small: SmallModel, onnx: Uint8Array, quantization?: ModelCard['quantization']): ModelCard {
  return buildModelCard({
    modelId: 'quantized',
    config: small.model.config,
    onnx: { bytes: onnx, inputName: small.card.input.name, outputName: small.card.output.name, opset: 17 },
    normalization: TEST_NORMALIZATION,
    quantization,
  });
}

/** A randomized 16 px, 16-bit `architecture` quantized with static activations (16 calibration images). */
export async function staticInt8Small(
  architecture: string,
): Promise<{ small: SmallModel; onnx: Uint8Array; card: ModelCard }> {
  const small = exportSmall(randomizedModel(architecture, {}, { bits: 16, inputSize: 16, seed: 3 }));
  const quantized = await quantizeModel(small.onnx, {
    calibration: { inputs: randomNormalBatch(16 * 16 * 16 * 3, 4), count: 16 },
  });
  return { small, onnx: quantized.onnx, card: cardOf(small, quantized.onnx, quantized.quantization) };
}

export function tfjsOutputs(model: HashModel, batch: Float32Array, n: number): Float32Array {
  const { inputSize: s, channels: c } = model.config;
  return tf.tidy(() => (model.net.predict(tf.tensor4d(batch, [n, s, s, c])) as tf.Tensor).dataSync() as Float32Array);
}

export function randomNormalBatch(length: number, seed: number): Float32Array {
  const random = mulberry32(seed);
  return Float32Array.from({ length }, () => (random() - 0.5) * 4);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

/** Sign disagreements, ignoring outputs within `margin` of zero on the reference side. */
export function signMismatches(reference: ArrayLike<number>, other: ArrayLike<number>, margin = 0): number {
  let count = 0;
  for (let i = 0; i < reference.length; i++) {
    if (Math.abs(reference[i]) > margin && reference[i] > 0 !== other[i] > 0) count++;
  }
  return count;
}

/** Opens one-thread hashers for a test file and releases them after it. */
export function hasherPool(): (onnx: Uint8Array, card: ModelCard) => Promise<OnnxHasher> {
  const open: OnnxHasher[] = [];
  afterAll(async () => {
    await Promise.all(open.map((h) => h.release()));
  });
  return async (onnx, card) => {
    const hasher = await OnnxHasher.create(onnx, card, { intraOpNumThreads: 1 });
    open.push(hasher);
    return hasher;
  };
}
