// Decodes a JPEG (jpeg-js) or PNG (fast-png) query image to 8-bit interleaved pixels, after the
// header's pixel count and sides have been checked against the limits and a PNG's compressed data
// bounded (pngGuard.ts). Decoder failures are invalid_image; running past a memory limit is image_too_large.
import { convertIndexedToRgb, decode as decodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { MAX_IMAGE_SIDE } from '../../schemas/api.js';
import { ApiError } from '../errors.js';
import { type ImageHeader, readImageHeader } from './imageHeader.js';
import { boundedPng } from './pngGuard.js';

/**
 * The most jpeg-js's own count of what it allocates (component blocks, lines, output) comes to per
 * pixel: 21-22 bytes for a 4:4:4 colour JPEG (measured: 42 MB for 1920 x 1080), about 27 for a
 * four-component (CMYK) one. Its memory limit is set from it, so every JPEG within the pixel limit decodes.
 */
const JPEG_BYTES_PER_PIXEL = 28;

export interface DecodedImage {
  width: number;
  height: number;
  /** 1 (gray), 2 (gray + alpha), 3 (RGB) or 4 (RGBA). */
  channels: number;
  data: Uint8Array;
}

function decodeJpeg(bytes: Uint8Array, maxPixels: number): DecodedImage {
  const image = jpeg.decode(bytes, {
    useTArray: true,
    formatAsRGBA: false,
    tolerantDecoding: false,
    maxResolutionInMP: maxPixels / 1e6,
    maxMemoryUsageInMB: Math.ceil((maxPixels * JPEG_BYTES_PER_PIXEL) / 2 ** 20),
  });
  const channels = image.data.length / (image.width * image.height);
  return { width: image.width, height: image.height, channels, data: image.data };
}

/** Unpacks 1/2/4-bit samples to bytes spanning 0..255; rows are byte-aligned in PNG. */
function unpackLowDepth(data: Uint8Array, width: number, height: number, channels: number, depth: number): Uint8Array {
  const out = new Uint8Array(width * height * channels);
  const perRow = width * channels;
  const rowBytes = Math.ceil((perRow * depth) / 8);
  const scale = 255 / ((1 << depth) - 1);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < perRow; x++) {
      const bit = x * depth;
      const byte = data[y * rowBytes + (bit >> 3)];
      out[y * perRow + x] = Math.round(((byte >> (8 - depth - (bit & 7))) & ((1 << depth) - 1)) * scale);
    }
  }
  return out;
}

function decodePngImage(bytes: Uint8Array): DecodedImage {
  const png = decodePng(boundedPng(bytes));
  const { width, height } = png;
  if (png.palette) {
    const data = convertIndexedToRgb(png);
    return { width, height, channels: data.length / (width * height), data };
  }
  let data: Uint8Array;
  if (png.depth === 16) {
    data = new Uint8Array(png.data.length);
    for (let i = 0; i < data.length; i++) data[i] = png.data[i] >> 8;
  } else if (png.depth < 8) {
    data = unpackLowDepth(png.data as Uint8Array, width, height, png.channels, png.depth);
  } else {
    data = png.data instanceof Uint8Array ? png.data : new Uint8Array(png.data);
  }
  return { width, height, channels: png.channels, data };
}

/** Pixels of a JPEG or PNG query image; ApiError for bad, unsupported or oversized images. */
export function decodeImage(bytes: Uint8Array, maxPixels: number): DecodedImage & { header: ImageHeader } {
  const header = readImageHeader(bytes);
  const pixels = header.width * header.height;
  if (pixels > maxPixels) {
    throw new ApiError(
      'image_too_large',
      `the image is ${header.width}x${header.height} (${pixels} pixels); at most ${maxPixels} are decoded`,
    );
  }
  // A very long, thin image costs the resize in proportion to its longer side.
  if (Math.max(header.width, header.height) > MAX_IMAGE_SIDE) {
    throw new ApiError(
      'image_too_large',
      `the image is ${header.width}x${header.height}; each side may be at most ${MAX_IMAGE_SIDE} pixels`,
    );
  }
  let image: DecodedImage;
  try {
    image = header.format === 'jpeg' ? decodeJpeg(bytes, maxPixels) : decodePngImage(bytes);
  } catch (error) {
    if (error instanceof ApiError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    // jpeg-js names its limits in the message; reaching one is the image's size, not its form.
    const code = /maxMemoryUsageInMB|maxResolutionInMP/.test(reason) ? 'image_too_large' : 'invalid_image';
    throw new ApiError(code, `the ${header.format.toUpperCase()} image could not be decoded: ${reason}`);
  }
  if (image.width !== header.width || image.height !== header.height || !Number.isInteger(image.channels)) {
    throw new ApiError('invalid_image', `the ${header.format.toUpperCase()} image is corrupt`);
  }
  return { ...image, header };
}
