// One image -> the model's input pixels (HWC bytes at the card's size and channel order) with sharp,
// resized as the card says and as the training loaders (encoder/data/decode.ts) do; and thumbnails.
import sharp, { type Sharp } from 'sharp';
import type { ModelInput } from '../../schemas/preprocess.js';
import type { RawPixels } from '../collection/types.js';

function open(image: Uint8Array | RawPixels): Sharp {
  if (image instanceof Uint8Array) return sharp(image);
  const { pixels, width, height, channels } = image;
  return sharp(pixels, { raw: { width, height, channels } });
}

export async function toModelPixels(image: Uint8Array | RawPixels, input: ModelInput): Promise<Uint8Array> {
  const { size, channels } = input;
  if (!(image instanceof Uint8Array) && image.width === size && image.height === size && image.channels === channels) {
    return image.pixels;
  }
  let pipeline = open(image).resize(size, size, { fit: input.resize, background: { r: 0, g: 0, b: 0, alpha: 1 } });
  pipeline = channels === 1 ? pipeline.greyscale() : pipeline.toColourspace('srgb');
  const { data, info } = await pipeline.removeAlpha().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  if (info.channels !== channels || info.width !== size || info.height !== size) {
    throw new Error(
      `decoded to ${info.width}x${info.height}x${info.channels}, the model takes ${size}x${size}x${channels}`,
    );
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

export const THUMBNAIL_SIZE = 96;

/** A small JPEG (cover-cropped square) for result lists. */
export async function thumbnailJpeg(image: Uint8Array | RawPixels): Promise<Uint8Array> {
  const jpeg = await open(image)
    .resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: 'cover', withoutEnlargement: true })
    .jpeg({ quality: 75 })
    .toBuffer();
  return new Uint8Array(jpeg.buffer, jpeg.byteOffset, jpeg.byteLength);
}
