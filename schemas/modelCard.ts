// Model card: everything a runtime needs to hash an image exactly as the encoder did, and where the
// model came from. Written next to every exported ONNX file; the edge and the widget read it.
import { z } from 'zod';
import { Sha256Hex } from './manifest.js';

export const ModelId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'lowercase letters, digits, ., - and _, at most 64');

export const InputNormalization = z.object({
  /** Pixels are first scaled by this factor (1/255 maps bytes to [0, 1]). */
  scale: z.number().positive(),
  /** Per channel, applied after scaling: (x * scale - mean[c]) / std[c]. */
  mean: z.array(z.number()).min(1),
  std: z.array(z.number().positive()).min(1),
});
export type InputNormalization = z.infer<typeof InputNormalization>;

export const ModelCard = z
  .object({
    format: z.literal('edgehash-model-card-1'),
    modelId: ModelId,
    /** Architecture name in the encoder's model registry, with its resolved options. */
    architecture: z.string().min(1),
    options: z.record(z.string(), z.unknown()).default({}),
    bits: z.number().int().min(8).max(1024).multipleOf(8),
    onnx: z.object({
      opset: z.number().int().min(17),
      /** SHA-256 of the ONNX file this card describes. */
      checksum: Sha256Hex,
      bytes: z.number().int().positive(),
    }),
    precision: z.enum(['float32', 'int8']),
    /** How the int8 model was made; absent for float32. */
    quantization: z
      .object({
        /** Levels +-127; stored as uint8 (zero point 128) under int8 activations (export/quantize.ts says why). */
        weights: z.enum(['int8-per-channel-symmetric', 'uint8-per-channel-symmetric']),
        activations: z.enum(['float32', 'int8-static']),
        calibrationImages: z.number().int().min(0),
      })
      .optional(),
    input: z.object({
      name: z.string().min(1),
      /** Square side in pixels; images are resized to size x size before hashing. */
      size: z.number().int().positive(),
      channels: z.union([z.literal(1), z.literal(3)]),
      layout: z.literal('NHWC'),
      channelOrder: z.enum(['RGB', 'gray']),
      /** How to resize an arbitrary image to size x size (sharp/canvas semantics). */
      resize: z.enum(['fill', 'cover']),
      normalization: InputNormalization,
    }),
    output: z.object({
      name: z.string().min(1),
      /** Code bit i is 1 when output[i] > 0 (schemas/codeTable.ts packCodes). */
      binarize: z.literal('sign'),
      /**
       * The graph outputs the mean of the network on the image and on its mirror image. A record of how
       * the model hashes: runtimes feed the image alone either way.
       */
      testTimeFlip: z.boolean().default(false),
    }),
    training: z
      .object({
        protocol: z.string(),
        dataset: z.string(),
        loss: z.string(),
        epochs: z.number().int().min(0),
        selectedEpoch: z.number().int().min(0),
        /** Metrics on the protocol's query set, measured on the float model. */
        metrics: z.record(z.string(), z.number()).default({}),
      })
      .optional(),
    created: z.iso.datetime(),
  })
  .refine((c) => c.input.normalization.mean.length === c.input.channels, {
    message: 'normalization.mean needs one value per input channel',
    path: ['input', 'normalization', 'mean'],
  })
  .refine((c) => c.input.normalization.std.length === c.input.channels, {
    message: 'normalization.std needs one value per input channel',
    path: ['input', 'normalization', 'std'],
  })
  .refine((c) => (c.precision === 'int8') === (c.quantization !== undefined), {
    message: 'quantization is given exactly when precision is int8',
    path: ['quantization'],
  });
export type ModelCard = z.infer<typeof ModelCard>;
