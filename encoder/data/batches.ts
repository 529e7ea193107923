/** Mini-batch iterator over a dataset: seeded shuffle, augmentation, normalization into float32 NHWC. */

import type { AugmentSettings } from '../../schemas/trainConfig.js';
import { deriveSeed, mulberry32, shuffleInPlace } from '../random.js';
import {
  augmentInto,
  cutoutInto,
  defaultNormalization,
  type Normalization,
  normalizationTable,
  normalizeInto,
  sampleAugmentParams,
  sampleCutout,
} from './augment.js';
import type { ImageDataset } from './types.js';

export interface Batch {
  /** size*H*W*C normalized floats, NHWC. */
  x: Float32Array;
  /** size*numClasses, 0/1. */
  labels: Float32Array;
  /** Dataset index of each row. */
  indices: Int32Array;
  size: number;
}

export interface BatchOptions {
  /** Shuffle the order (seeded). Default false. */
  shuffle?: boolean;
  /** Random crop (4-pixel zero padding) + horizontal flip; an object tunes them or adds cutout. Default false. */
  augment?: boolean | AugmentSettings;
  /** Default 0. */
  seed?: number;
  /** Mixed into the seed so every epoch gets a different, reproducible order and augmentation. Default 0. */
  epoch?: number;
  /** Default: CIFAR-10 statistics for 3 channels, MNIST for 1. */
  normalization?: Normalization;
  /** Drop a final batch smaller than batchSize. Default false. */
  dropLast?: boolean;
}

export function batchCount(n: number, batchSize: number, dropLast = false): number {
  return dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
}

/** Yields batches over `indices` (each batch freshly allocated, so they may be kept). */
export function* batches(
  dataset: ImageDataset,
  indices: ArrayLike<number>,
  batchSize: number,
  opts: BatchOptions = {},
): Generator<Batch> {
  if (!(Number.isInteger(batchSize) && batchSize > 0)) throw new Error(`batchSize must be a positive integer`);
  const { height: h, width: w, channels: c } = dataset;
  const k = dataset.classNames.length;
  const per = h * w * c;
  const lut = normalizationTable(opts.normalization ?? defaultNormalization(c), c);
  const random = mulberry32(deriveSeed(opts.seed ?? 0, opts.epoch ?? 0));
  const order = Int32Array.from(indices);
  for (const i of order)
    if (i < 0 || i >= dataset.size) throw new Error(`index ${i} out of range 0..${dataset.size - 1}`);
  if (opts.shuffle) shuffleInPlace(order, random);
  const augment = opts.augment ? (opts.augment === true ? {} : opts.augment) : null;
  const n = order.length;
  const end = opts.dropLast ? n - (n % batchSize) : n;
  const pixels = dataset.pixels;
  const labels = dataset.labels;
  for (let start = 0; start < end; start += batchSize) {
    const size = Math.min(batchSize, end - start);
    const x = new Float32Array(size * per);
    const y = new Float32Array(size * k);
    const idx = order.slice(start, start + size);
    for (let b = 0; b < size; b++) {
      const i = idx[b];
      if (augment) {
        augmentInto(pixels, i * per, x, b * per, h, w, c, sampleAugmentParams(random, augment), lut);
        if (augment.cutout) cutoutInto(x, b * per, w, c, sampleCutout(random, augment.cutout, h, w));
      } else normalizeInto(pixels, i * per, x, b * per, per, c, lut);
      for (let j = 0; j < k; j++) y[b * k + j] = labels[i * k + j];
    }
    yield { x, labels: y, indices: idx, size };
  }
}
