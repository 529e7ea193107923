/**
 * Per-channel normalization and training augmentation (random crop with zero padding + horizontal flip,
 * optionally cutout)
 * on HWC uint8 images, writing normalized float32. Table lookups and typed-array loops only.
 */
import type { AugmentSettings } from '../../schemas/trainConfig.js';
import type { Random } from '../random.js';
import type { ImageDataset } from './types.js';

/** Per-channel mean and std in the 0..1 pixel scale: x = (v/255 - mean[c]) / std[c]. Record it in the model card. */
export interface Normalization {
  mean: number[];
  std: number[];
}

/** CIFAR-10 training-set statistics (0..1 scale). */
export const CIFAR10_NORMALIZATION: Normalization = { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] };
/** ImageNet statistics used with pretrained backbones. */
export const IMAGENET_NORMALIZATION: Normalization = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
/** MNIST training-set statistics. */
export const MNIST_NORMALIZATION: Normalization = { mean: [0.1307], std: [0.3081] };

/** CIFAR-10 statistics for 3 channels, MNIST statistics for 1. */
export function defaultNormalization(channels: number): Normalization {
  if (channels === 3) return CIFAR10_NORMALIZATION;
  if (channels === 1) return MNIST_NORMALIZATION;
  throw new Error(`no default normalization for ${channels} channels`);
}

/** Lookup table lut[c*256 + v] = (v/255 - mean[c]) / std[c]. */
export function normalizationTable(norm: Normalization, channels: number): Float32Array {
  if (norm.mean.length !== channels || norm.std.length !== channels) {
    throw new Error(
      `normalization has ${norm.mean.length} means / ${norm.std.length} stds, images have ${channels} channels`,
    );
  }
  const lut = new Float32Array(channels * 256);
  for (let c = 0; c < channels; c++) {
    if (!(norm.std[c] > 0)) throw new Error(`normalization std[${c}] must be > 0`);
    for (let v = 0; v < 256; v++) lut[c * 256 + v] = (v / 255 - norm.mean[c]) / norm.std[c];
  }
  return lut;
}

/** Per-channel mean and std (0..1 scale) over the given images (default all), e.g. the training split. */
export function computeNormalization(dataset: ImageDataset, indices?: ArrayLike<number>): Normalization {
  const c = dataset.channels;
  const per = dataset.height * dataset.width * c;
  const hist = new Float64Array(c * 256);
  const n = indices ? indices.length : dataset.size;
  for (let j = 0; j < n; j++) {
    const base = (indices ? indices[j] : j) * per;
    for (let p = 0; p < per; p += c) for (let k = 0; k < c; k++) hist[k * 256 + dataset.pixels[base + p + k]]++;
  }
  const mean: number[] = [];
  const std: number[] = [];
  for (let k = 0; k < c; k++) {
    let s = 0;
    let s2 = 0;
    let count = 0;
    for (let v = 0; v < 256; v++) {
      const h = hist[k * 256 + v];
      s += h * (v / 255);
      s2 += h * (v / 255) ** 2;
      count += h;
    }
    const m = count > 0 ? s / count : 0;
    mean.push(m);
    std.push(Math.sqrt(Math.max(s2 / Math.max(count, 1) - m * m, 1e-12)));
  }
  return { mean, std };
}

/** The augmentation in words, for logs and results pages. */
export function describeAugmentation(augment: boolean | AugmentSettings): string {
  if (augment === false) return 'none';
  const opts = augment === true ? {} : augment;
  const padding = opts.padding ?? 4;
  const parts = [
    padding > 0 ? `random crop (${padding}-pixel zero padding)` : '',
    (opts.flip ?? true) ? 'horizontal flip' : '',
    opts.cutout ? `cutout ${opts.cutout}x${opts.cutout}` : '',
  ].filter(Boolean);
  return parts.length > 0 ? parts.join(' + ') : 'none';
}

/** One image's augmentation: out(y, x) = src(y + dy, (flip ? W-1-x : x) + dx), 0 (raw) outside the image. */
export interface AugmentParams {
  dy: number;
  dx: number;
  flip: boolean;
}

/** Draws crop offsets uniformly in [-padding, padding] and a fair coin for the flip (in that order). */
export function sampleAugmentParams(random: Random, opts: AugmentSettings = {}): AugmentParams {
  const pad = opts.padding ?? 4;
  const dy = pad > 0 ? Math.floor(random() * (2 * pad + 1)) - pad : 0;
  const dx = pad > 0 ? Math.floor(random() * (2 * pad + 1)) - pad : 0;
  const flip = (opts.flip ?? true) && random() < 0.5;
  return { dy, dx, flip };
}

/** Normalizes `count` pixels with `channels` channels from src[srcOffset..] to dst[dstOffset..]. */
export function normalizeInto(
  src: Uint8Array,
  srcOffset: number,
  dst: Float32Array,
  dstOffset: number,
  values: number,
  channels: number,
  lut: Float32Array,
): void {
  if (channels === 3) {
    for (let i = 0; i < values; i += 3) {
      dst[dstOffset + i] = lut[src[srcOffset + i]];
      dst[dstOffset + i + 1] = lut[256 + src[srcOffset + i + 1]];
      dst[dstOffset + i + 2] = lut[512 + src[srcOffset + i + 2]];
    }
  } else if (channels === 1) {
    for (let i = 0; i < values; i++) dst[dstOffset + i] = lut[src[srcOffset + i]];
  } else {
    for (let i = 0; i < values; i++) dst[dstOffset + i] = lut[(i % channels) * 256 + src[srcOffset + i]];
  }
}

/**
 * Writes the augmented, normalized image: src is one HWC uint8 image at srcOffset, dst receives
 * H*W*C floats at dstOffset. Pixels shifted in from outside are raw 0 (torchvision's RandomCrop padding
 * before Normalize), i.e. (0 - mean)/std.
 */
export function augmentInto(
  src: Uint8Array,
  srcOffset: number,
  dst: Float32Array,
  dstOffset: number,
  height: number,
  width: number,
  channels: number,
  params: AugmentParams,
  lut: Float32Array,
): void {
  const { dy, dx, flip } = params;
  const rowValues = width * channels;
  // valid output columns [x0, x1): the source column lies inside the image
  const x0 = flip ? Math.max(0, dx) : Math.max(0, -dx);
  const x1 = flip ? Math.min(width, width + dx) : Math.min(width, width - dx);
  for (let y = 0; y < height; y++) {
    const sy = y + dy;
    const d = dstOffset + y * rowValues;
    if (sy < 0 || sy >= height || x1 <= x0) {
      for (let x = 0; x < width; x++) for (let c = 0; c < channels; c++) dst[d + x * channels + c] = lut[c * 256];
      continue;
    }
    for (let x = 0; x < x0; x++) for (let c = 0; c < channels; c++) dst[d + x * channels + c] = lut[c * 256];
    for (let x = x1; x < width; x++) for (let c = 0; c < channels; c++) dst[d + x * channels + c] = lut[c * 256];
    const srow = srcOffset + sy * rowValues;
    if (channels === 3) {
      if (flip) {
        // sx = width - 1 - x + dx
        let s = srow + (width - 1 - x0 + dx) * 3;
        for (let x = x0, o = d + x0 * 3; x < x1; x++, o += 3, s -= 3) {
          dst[o] = lut[src[s]];
          dst[o + 1] = lut[256 + src[s + 1]];
          dst[o + 2] = lut[512 + src[s + 2]];
        }
      } else {
        let s = srow + (x0 + dx) * 3;
        for (let x = x0, o = d + x0 * 3; x < x1; x++, o += 3, s += 3) {
          dst[o] = lut[src[s]];
          dst[o + 1] = lut[256 + src[s + 1]];
          dst[o + 2] = lut[512 + src[s + 2]];
        }
      }
    } else {
      for (let x = x0; x < x1; x++) {
        const sx = flip ? width - 1 - x + dx : x + dx;
        const s = srow + sx * channels;
        const o = d + x * channels;
        for (let c = 0; c < channels; c++) dst[o + c] = lut[c * 256 + src[s + c]];
      }
    }
  }
}

/** Rows [y0, y1) and columns [x0, x1) of one image that cutout clears. */
export interface CutoutBox {
  y0: number;
  y1: number;
  x0: number;
  x1: number;
}

/**
 * Cutout (DeVries & Taylor 2017): a size x size square whose centre is uniform over the image,
 * clipped at the image's edges (so squares near an edge clear less, as in the reference code).
 */
export function sampleCutout(random: Random, size: number, height: number, width: number): CutoutBox {
  const cy = Math.floor(random() * height);
  const cx = Math.floor(random() * width);
  const half = Math.floor(size / 2);
  return {
    y0: Math.max(0, cy - half),
    y1: Math.min(height, cy - half + size),
    x0: Math.max(0, cx - half),
    x1: Math.min(width, cx - half + size),
  };
}

/** Sets the box of the normalized HWC image at dst[dstOffset..] to 0 (the dataset mean), as the reference masks after Normalize. */
export function cutoutInto(
  dst: Float32Array,
  dstOffset: number,
  width: number,
  channels: number,
  box: CutoutBox,
): void {
  for (let y = box.y0; y < box.y1; y++) {
    const row = dstOffset + (y * width + box.x0) * channels;
    dst.fill(0, row, row + (box.x1 - box.x0) * channels);
  }
}
