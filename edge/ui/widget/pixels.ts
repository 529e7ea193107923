// Image file -> model-input HWC bytes in the browser. The browser decodes at the image's own size (no
// colour management, straight alpha); channel conversion and resizing are the edge's own code
// (edge/hashing/resize.ts), so a PNG hashes to the same code here as on the server. JPEG decoders
// differ by a grey level here and there (libjpeg-turbo vs jpeg-js), which can flip a bit near zero.
import { MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS, MAX_IMAGE_SIDE } from '../../../schemas/api.js';
import type { ModelInput } from '../../../schemas/preprocess.js';
import { toModelPixels } from '../../hashing/resize.js';

async function decodeBitmap(image: Blob): Promise<ImageBitmap> {
  try {
    // EXIF orientation left as stored, as the server's decoders (jpeg-js, sharp) leave it (browsers
    // before the 2023 rename of the default to 'from-image' read 'none' as that default).
    return await createImageBitmap(image, {
      colorSpaceConversion: 'none',
      premultiplyAlpha: 'none',
      imageOrientation: 'none',
    });
  } catch {
    throw new Error(`the browser cannot decode this file (${image.type || 'unknown type'}) as an image`);
  }
}

function canvasOf(bitmap: ImageBitmap, width: number, height: number): OffscreenCanvasRenderingContext2D {
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (!context) {
    bitmap.close();
    throw new Error('this browser has no 2D canvas for in-browser image handling');
  }
  context.drawImage(bitmap, 0, 0, width, height);
  bitmap.close();
  return context;
}

/**
 * The file as the server takes it: one within the API's byte, pixel and side limits (or one this
 * browser cannot decode) as it is; a larger one (a phone photo) scaled down to fit and sent as
 * JPEG, since models read 32-224 px.
 */
export async function uploadable(image: Blob): Promise<Blob> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await decodeBitmap(image);
  } catch {
    // Not an image this browser reads: the server says what is wrong with it, with its error code.
    return image;
  }
  const { width, height } = bitmap;
  const scale = Math.min(1, Math.sqrt(MAX_IMAGE_PIXELS / (width * height)), MAX_IMAGE_SIDE / Math.max(width, height));
  if (scale === 1 && image.size <= MAX_IMAGE_BYTES) {
    bitmap.close();
    return image;
  }
  const w = Math.max(1, Math.floor(width * scale));
  const h = Math.max(1, Math.floor(height * scale));
  return canvasOf(bitmap, w, h).canvas.convertToBlob({ type: 'image/jpeg', quality: 0.92 });
}

export async function modelPixels(image: Blob, input: ModelInput): Promise<Uint8Array> {
  const bitmap = await decodeBitmap(image);
  const { width, height } = bitmap;
  const context = canvasOf(bitmap, width, height);
  const rgba = context.getImageData(0, 0, width, height).data;
  return toModelPixels({ width, height, channels: 4, data: new Uint8Array(rgba.buffer) }, input);
}
