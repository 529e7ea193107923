// Pixels -> model input, exactly as the encoder trained: the one implementation that the batch
// encoder (Node), the edge worker and the browser widget share. Pure TypeScript, no Node imports.
import type { ModelCard } from './modelCard.js';

export type ModelInput = ModelCard['input'];

/** Values in one image: size * size * channels (HWC). */
export function imageValues(input: Pick<ModelInput, 'size' | 'channels'>): number {
  return input.size * input.size * input.channels;
}

const tables = new WeakMap<ModelInput['normalization'], Float32Array>();

/**
 * Lookup table lut[c * 256 + v] = (v * scale - mean[c]) / std[c], rounded to float32. The division by
 * 1 / scale (exactly 255 for scale 1/255) reproduces the training table's v / 255 bit for bit, where
 * v * (1/255) would differ in the last place for some bytes.
 */
export function normalizationLut(input: Pick<ModelInput, 'channels' | 'normalization'>): Float32Array {
  const norm = input.normalization;
  const cached = tables.get(norm);
  if (cached && cached.length === input.channels * 256) return cached;
  if (norm.mean.length !== input.channels || norm.std.length !== input.channels) {
    throw new RangeError(
      `normalization has ${norm.mean.length} means and ${norm.std.length} stds for ${input.channels} channels`,
    );
  }
  const divisor = 1 / norm.scale;
  const lut = new Float32Array(input.channels * 256);
  for (let c = 0; c < input.channels; c++) {
    if (!(norm.std[c] > 0)) throw new RangeError(`normalization std[${c}] must be > 0`);
    for (let v = 0; v < 256; v++) lut[c * 256 + v] = (v / divisor - norm.mean[c]) / norm.std[c];
  }
  tables.set(norm, lut);
  return lut;
}

/**
 * Normalizes whole images of HWC bytes (already resized to input.size, channels in input.channelOrder)
 * into `out` from `offset`: out[offset + i] = (pixels[i] * scale - mean[c]) / std[c], c = i % channels.
 * `pixels` may hold several images back to back (a batch, NHWC). Returns the index after the last
 * value written.
 */
export function preprocessInto(input: ModelInput, pixels: Uint8Array, out: Float32Array, offset = 0): number {
  const per = imageValues(input);
  if (pixels.length === 0 || pixels.length % per !== 0) {
    throw new RangeError(
      `expected whole ${input.size}x${input.size}x${input.channels} images (${per} bytes each), got ${pixels.length} bytes`,
    );
  }
  if (offset < 0 || offset + pixels.length > out.length) {
    throw new RangeError(`output holds ${out.length} values; ${pixels.length} do not fit at offset ${offset}`);
  }
  const lut = normalizationLut(input);
  const c = input.channels;
  if (c === 3) {
    for (let i = 0; i < pixels.length; i += 3) {
      out[offset + i] = lut[pixels[i]];
      out[offset + i + 1] = lut[256 + pixels[i + 1]];
      out[offset + i + 2] = lut[512 + pixels[i + 2]];
    }
  } else {
    for (let i = 0; i < pixels.length; i++) out[offset + i] = lut[pixels[i]];
  }
  return offset + pixels.length;
}
