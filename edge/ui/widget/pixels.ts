// Image file -> model-input HWC bytes in the browser. The browser decodes at the image's own size (no
// colour management, straight alpha); channel conversion and resizing are the edge's own code
// (edge/hashing/resize.ts), so a PNG hashes to the same code here as on the server. JPEG decoders
// differ by a grey level here and there (libjpeg-turbo vs jpeg-js), which can flip a bit near zero.
import type { ModelInput } from '../../../schemas/preprocess.js';
import { toModelPixels } from '../../hashing/resize.js';

export async function modelPixels(image: Blob, input: ModelInput): Promise<Uint8Array> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(image, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch {
    throw new Error(`the browser cannot decode this file (${image.type || 'unknown type'}) as an image`);
  }
  const { width, height } = bitmap;
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (!context) throw new Error('this browser has no 2D canvas for in-browser hashing');
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  const rgba = context.getImageData(0, 0, width, height).data;
  return toModelPixels({ width, height, channels: 4, data: new Uint8Array(rgba.buffer) }, input);
}
