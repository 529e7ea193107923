// The model card written next to every exported ONNX file (schemas/modelCard.ts): how to feed the
// model exactly as it was trained, and which file it describes (SHA-256 of the ONNX bytes).
import { createHash } from 'node:crypto';
import { ModelCard } from '../../schemas/modelCard.js';
import type { Normalization } from '../data/augment.js';
import type { HashModelConfig } from '../models/types.js';

/** Training maps bytes to [0, 1] by v / 255 before the per-channel statistics (encoder/data/augment.ts). */
export const TRAINING_PIXEL_SCALE = 1 / 255;

export interface ModelCardSource {
  modelId: string;
  config: HashModelConfig;
  /** The ONNX file's bytes and tensor names. */
  onnx: { bytes: Uint8Array; inputName: string; outputName: string; opset: number };
  /** Per-channel statistics the model was trained with (0..1 pixel scale). */
  normalization: Normalization;
  /** Resolved architecture options (defaults filled in); the config's own options otherwise. */
  options?: Record<string, unknown>;
  quantization?: ModelCard['quantization'];
  training?: ModelCard['training'];
  /** How images were resized to the model's input in training; default 'fill' (the loaders' default). */
  resize?: ModelCard['input']['resize'];
  created?: Date;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A validated card (throws a ZodError naming the field when something does not fit the schema). */
export function buildModelCard(source: ModelCardSource): ModelCard {
  const { config } = source;
  return ModelCard.parse({
    format: 'edgehash-model-card-1',
    modelId: source.modelId,
    architecture: config.architecture,
    options: source.options ?? config.options ?? {},
    bits: config.bits,
    onnx: { opset: source.onnx.opset, checksum: sha256Hex(source.onnx.bytes), bytes: source.onnx.bytes.length },
    precision: source.quantization ? 'int8' : 'float32',
    ...(source.quantization ? { quantization: source.quantization } : {}),
    input: {
      name: source.onnx.inputName,
      size: config.inputSize,
      channels: config.channels,
      layout: 'NHWC',
      channelOrder: config.channels === 3 ? 'RGB' : 'gray',
      resize: source.resize ?? 'fill',
      normalization: { scale: TRAINING_PIXEL_SCALE, mean: source.normalization.mean, std: source.normalization.std },
    },
    output: { name: source.onnx.outputName, binarize: 'sign', testTimeFlip: config.testTimeFlip ?? false },
    ...(source.training ? { training: source.training } : {}),
    created: (source.created ?? new Date()).toISOString(),
  });
}
