// The encoder's run configuration (`edgehash train|eval|encode --config FILE`). Paths are relative
// to the config file's folder.
import { z } from 'zod';
import { MAX_BITS } from './codeTable.js';

const path = z.string().min(1);

export const DatasetSource = z.discriminatedUnion('format', [
  /** CIFAR-10 as JPEG folders: <root>/train/<class>/*.jpg and <root>/test/<class>/*.jpg. */
  z.object({ format: z.literal('cifar10-jpeg'), root: path }),
  /** CIFAR-10 binary batches (data_batch_1..5.bin, test_batch.bin). */
  z.object({ format: z.literal('cifar10-binary'), root: path }),
  /** One class per subfolder; images resized to `size`. */
  z.object({ format: z.literal('image-folder'), root: path, size: z.number().int().min(8).max(1024) }),
  /** DeepHash-pytorch list files (path + multi-hot labels) under `root`. */
  z.object({
    format: z.literal('list-file'),
    root: path,
    lists: z.object({ train: path, query: path, database: path }),
    size: z.number().int().min(8).max(1024),
  }),
  /** MNIST / Fashion-MNIST IDX files. */
  z.object({ format: z.literal('idx'), images: path, labels: path }),
]);
export type DatasetSource = z.infer<typeof DatasetSource>;

export const protocols = ['cifar10', 'cifar10-1', 'cifar10-2', 'nuswide_21', 'coco', 'imagenet100'] as const;

/** Training augmentation (encoder/data/augment.ts), as the object form of `training.augment`. */
export const AugmentSettings = z.strictObject({
  /** Zero padding for the random crop (pixels on each side). Default 4; 0 disables the crop. */
  padding: z.number().int().min(0).optional(),
  /** Random horizontal flip with probability 0.5. Default true. */
  flip: z.boolean().optional(),
  /** Cutout (DeVries & Taylor): the side of a square, centred anywhere and clipped at the edges, set to the mean. */
  cutout: z.number().int().min(1).optional(),
});
export type AugmentSettings = z.infer<typeof AugmentSettings>;

export const TrainConfig = z
  .object({
    /** Run name; outputs go to <outputDir>. */
    name: z.string().regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, . _ -'),
    dataset: DatasetSource,
    protocol: z.enum(protocols),
    model: z.object({
      architecture: z.string().min(1),
      bits: z.number().int().min(8).max(MAX_BITS).multipleOf(8),
      options: z.record(z.string(), z.unknown()).default({}),
      /**
       * Hash an image by the mean of the network's outputs on it and on its mirror image (validation,
       * evaluation and the exported ONNX graph alike). Optional without a default so that earlier runs'
       * saved settings still match.
       */
      testTimeFlip: z.boolean().optional(),
      /** Initialise from a pretrained file (.safetensors or .onnx); see docs/pretrained.md. */
      pretrained: z
        .object({
          weights: z.string().min(1),
          /** JSON file: model weight name -> source name or {source, transpose}. Omitted: same names. */
          mapping: z.string().min(1).optional(),
        })
        .strict()
        .optional(),
    }),
    loss: z.object({
      name: z.string().min(1),
      options: z.record(z.string(), z.unknown()).default({}),
    }),
    training: z
      .object({
        epochs: z.number().int().min(1).default(30),
        batchSize: z.number().int().min(1).default(128),
        learningRate: z.number().positive().default(1e-3),
        /**
         * Decoupled weight decay (AdamW) on the weights of rank >= 2, per unit learning rate; absent
         * or 0 is plain Adam. Optional without a default so that earlier runs' saved settings still match.
         */
        weightDecay: z.number().min(0).max(1).optional(),
        /**
         * 'adam' (absent: Adam) or 'sgd': SGD with Nesterov momentum, the classic optimizer of CIFAR
         * convnets. Optional without a default so that earlier runs' saved settings still match.
         */
        optimizer: z.enum(['adam', 'sgd']).optional(),
        /** SGD's momentum (absent: 0.9); refused with Adam, which has its own. */
        momentum: z.number().min(0).max(0.999).optional(),
        /**
         * Linear warmup of the learning rate over this many epochs (fractions allowed) before the cosine
         * decay; absent or 0: none. Optional without a default so that earlier runs' saved settings still match.
         */
        warmupEpochs: z.number().min(0).optional(),
        /** Cosine decay of the learning rate to this fraction of its start by the last epoch. */
        finalLearningRateFraction: z.number().min(0).max(1).default(0.05),
        seed: z.number().int().min(0).default(0),
        backend: z.enum(['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu']).default('auto'),
        /** Data-parallel worker replicas; 'auto' = one per core. 1 trains in the main thread. */
        workers: z.union([z.literal('auto'), z.number().int().min(1)]).default('auto'),
        /** true: random crop (4-pixel zero padding) + horizontal flip; an object tunes them and can add cutout. */
        augment: z.union([z.boolean(), AugmentSettings]).default(true),
        /** Validation images held out of training per class, for model selection. */
        validationPerClass: z.number().int().min(1).default(100),
        /** Validate (and keep the best checkpoint) every this many epochs. */
        validateEvery: z.number().int().min(1).default(1),
        /** Stop after this many training steps in total (for smoke tests and benchmarks). */
        maxSteps: z.number().int().min(1).optional(),
      })
      .refine((t) => t.momentum === undefined || t.optimizer === 'sgd', {
        message: 'momentum is a setting of SGD: set optimizer to "sgd" or leave momentum out',
        path: ['momentum'],
      })
      .prefault({}),
    /** Where decoded pixels are cached between runs. */
    cacheDir: path.default('data/cache'),
    outputDir: path,
    /** An unreadable image: stop with its name, or skip it and count it. */
    onImageError: z.enum(['fail', 'skip']).default('fail'),
  })
  .strict();
export type TrainConfig = z.infer<typeof TrainConfig>;
