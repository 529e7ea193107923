// Image format and dimensions from the first bytes, before any decoding: how the worker refuses
// decompression bombs (a small file that declares a huge pixel count) without allocating for them.
import { ApiError } from '../errors.js';

export type ImageFormat = 'jpeg' | 'png';

export interface ImageHeader {
  format: ImageFormat;
  width: number;
  height: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

const startsWith = (bytes: Uint8Array, prefix: readonly number[], at = 0) =>
  prefix.every((b, i) => bytes[at + i] === b);
const ascii = (text: string) => [...text].map((c) => c.charCodeAt(0));

/** Formats we recognise but do not decode, so the error can say so. */
function unsupportedFormat(bytes: Uint8Array): string | null {
  if (startsWith(bytes, ascii('RIFF')) && startsWith(bytes, ascii('WEBP'), 8)) return 'WebP';
  if (startsWith(bytes, ascii('GIF8'))) return 'GIF';
  if (startsWith(bytes, ascii('BM'))) return 'BMP';
  if (startsWith(bytes, ascii('ftyp'), 4)) return 'HEIF/AVIF';
  return null;
}

const truncated = (format: string) => new ApiError('invalid_image', `the ${format} image is truncated or corrupt`);

function pngHeader(bytes: Uint8Array): ImageHeader {
  if (bytes.length < 24 || !startsWith(bytes, ascii('IHDR'), 12)) throw truncated('PNG');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { format: 'png', width: view.getUint32(16), height: view.getUint32(20) };
}

// Start-of-frame markers carry the dimensions: C0..CF except DHT (C4), JPG (C8) and DAC (CC).
const isStartOfFrame = (marker: number) => marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker);

function jpegHeader(bytes: Uint8Array): ImageHeader {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) throw truncated('JPEG');
    const marker = bytes[at + 1];
    if (marker === 0xff) {
      at++;
      continue;
    }
    // Markers without a length: TEM and RSTn.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2;
      continue;
    }
    if (marker === 0xda || marker === 0xd9) break;
    const length = view.getUint16(at + 2);
    if (isStartOfFrame(marker)) {
      if (at + 9 > bytes.length) break;
      return { format: 'jpeg', height: view.getUint16(at + 5), width: view.getUint16(at + 7) };
    }
    at += 2 + length;
  }
  throw truncated('JPEG');
}

/** Format and size of an image; ApiError for anything that is not a well-formed JPEG or PNG start. */
export function readImageHeader(bytes: Uint8Array): ImageHeader {
  let header: ImageHeader;
  if (startsWith(bytes, PNG_SIGNATURE)) header = pngHeader(bytes);
  else if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) header = jpegHeader(bytes);
  else {
    const other = unsupportedFormat(bytes);
    if (other) throw new ApiError('unsupported_media_type', `${other} images are not supported; send JPEG or PNG`);
    throw new ApiError('invalid_image', 'the body is not a JPEG or PNG image');
  }
  if (header.width === 0 || header.height === 0) {
    throw new ApiError('invalid_image', `the image declares ${header.width}x${header.height} pixels`);
  }
  return header;
}
