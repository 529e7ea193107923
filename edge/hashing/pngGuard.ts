// A PNG's compressed chunks, bounded before the decoder unpacks them. The header's pixel count says
// nothing about what the compressed data inflates to: a PNG that declares 1x1 can carry 150 KB of
// deflated zeros that unpack to 150 MB, past a Worker's 128 MB, and fast-png inflates every image
// data (IDAT) and colour profile (iCCP) chunk whole. So the image data is inflated once here, in a
// stream that stops at the most the header's size can need, and the compressed ancillary chunks
// (iCCP, zTXt, iTXt: colour profiles and text the pipeline never reads) are dropped.
import { Unzlib } from 'fflate';
import { ApiError } from '../errors.js';

const CHANNELS_OF_COLOR_TYPE: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const COMPRESSED_ANCILLARY = new Set(['iCCP', 'zTXt', 'iTXt']);

/** Compressed bytes pushed at a time: deflate expands at most about 1032:1, so one push inflates to at most about 1 MB. */
const SLICE = 1024;

const chunkType = (bytes: Uint8Array, at: number) => String.fromCharCode(...bytes.subarray(at + 4, at + 8));

/**
 * The largest inflated image data a header allows: a filter byte per row plus its packed samples,
 * with room for the seven Adam7 passes' own rows (each at most a row of the full image).
 */
function maxImageDataBytes(width: number, height: number, channels: number, depth: number): number {
  const rowBytes = Math.ceil((width * channels * depth) / 8);
  return (height + 7) * (rowBytes + 8);
}

/** The PNG without its compressed ancillary chunks; invalid_image where its image data would inflate past its size. */
export function boundedPng(bytes: Uint8Array): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  const depth = bytes[24];
  const channels = CHANNELS_OF_COLOR_TYPE[bytes[25]];
  if (channels === undefined || ![1, 2, 4, 8, 16].includes(depth)) {
    throw new ApiError(
      'invalid_image',
      `the PNG image has an invalid colour type or bit depth (${bytes[25]}, ${depth})`,
    );
  }
  const limit = maxImageDataBytes(width, height, channels, depth);
  let inflated = 0;
  const inflate = new Unzlib((chunk) => {
    inflated += chunk.length;
    if (inflated > limit) {
      throw new ApiError(
        'image_too_large',
        `the PNG image data inflates past the ${limit} bytes a ${width}x${height} image needs (a decompression bomb)`,
      );
    }
  });
  const kept: Uint8Array[] = [bytes.subarray(0, 8)];
  let at = 8;
  while (at + 12 <= bytes.length) {
    const end = at + 12 + view.getUint32(at);
    if (end > bytes.length) break;
    const type = chunkType(bytes, at);
    for (let from = at + 8; type === 'IDAT' && from < end - 4; from += SLICE) {
      inflate.push(bytes.subarray(from, Math.min(from + SLICE, end - 4)));
    }
    if (!COMPRESSED_ANCILLARY.has(type)) kept.push(bytes.subarray(at, end));
    at = end;
    if (type === 'IEND') break;
  }
  kept.push(bytes.subarray(at));
  const out = new Uint8Array(kept.reduce((n, part) => n + part.length, 0));
  let offset = 0;
  for (const part of kept) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
