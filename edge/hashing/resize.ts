// Decoded pixels -> the model card's input: channels converted (alpha dropped, gray by BT.601 luma, as
// the encoder's decoder does), then resized to size x size by `fill` (stretch) or `cover` (scale to
// cover, centre crop). Resampling is a separable triangle filter widened when shrinking (antialiased
// bilinear); an image already at the input size passes through untouched. sharp's lanczos3 in the
// batch encoder differs from it by a few grey levels on resized images, so re-hashing a resized
// photo at the edge can flip the odd bit near zero; same-size inputs hash identically.
import type { ModelCard } from '../../schemas/modelCard.js';
import type { DecodedImage } from './decodeImage.js';

type ModelInput = ModelCard['input'];

function convertChannels(image: DecodedImage, to: 1 | 3): Uint8Array {
  const { data, channels: from } = image;
  const pixels = image.width * image.height;
  if (from === to) return data;
  const out = new Uint8Array(pixels * to);
  for (let p = 0; p < pixels; p++) {
    const s = p * from;
    if (to === 3) {
      const gray = from < 3;
      out[p * 3] = data[s];
      out[p * 3 + 1] = data[gray ? s : s + 1];
      out[p * 3 + 2] = data[gray ? s : s + 2];
    } else {
      out[p] = from >= 3 ? Math.round(0.299 * data[s] + 0.587 * data[s + 1] + 0.114 * data[s + 2]) : data[s];
    }
  }
  return out;
}

interface AxisWeights {
  /** First source index of each output sample. */
  start: Int32Array;
  /** Taps per output sample. */
  taps: number;
  weights: Float32Array;
}

/** Triangle-filter weights mapping source span [from, from + span) onto `size` samples. */
function axisWeights(from: number, span: number, size: number): AxisWeights {
  const scale = span / size;
  const support = Math.max(1, scale);
  const taps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(size);
  const weights = new Float32Array(size * taps);
  for (let i = 0; i < size; i++) {
    const centre = from + (i + 0.5) * scale - 0.5;
    const first = Math.floor(centre - support) + 1;
    start[i] = first;
    let sum = 0;
    for (let t = 0; t < taps; t++) {
      const w = Math.max(0, 1 - Math.abs(first + t - centre) / support);
      weights[i * taps + t] = w;
      sum += w;
    }
    for (let t = 0; t < taps; t++) weights[i * taps + t] /= sum;
  }
  return { start, taps, weights };
}

// Taps outside the image repeat the edge pixel.
const clampIndex = (i: number, n: number) => (i < 0 ? 0 : i >= n ? n - 1 : i);

function resample(pixels: Uint8Array, width: number, height: number, channels: number, input: ModelInput): Uint8Array {
  const size = input.size;
  let x0 = 0;
  let y0 = 0;
  let spanX = width;
  let spanY = height;
  if (input.resize === 'cover') {
    const scale = Math.max(size / width, size / height);
    spanX = size / scale;
    spanY = size / scale;
    x0 = (width - spanX) / 2;
    y0 = (height - spanY) / 2;
  }
  const wx = axisWeights(x0, spanX, size);
  const wy = axisWeights(y0, spanY, size);
  // Horizontal pass into floats, for the source rows the vertical taps reach (a crop of a tall image
  // reads only its middle), then vertical into bytes.
  const top = clampIndex(wy.start[0], height);
  const bottom = clampIndex(wy.start[size - 1] + wy.taps - 1, height);
  const rows = new Float32Array((bottom - top + 1) * size * channels);
  for (let y = top; y <= bottom; y++) {
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < channels; c++) {
        let acc = 0;
        for (let t = 0; t < wx.taps; t++) {
          const w = wx.weights[x * wx.taps + t];
          if (w !== 0) acc += w * pixels[(y * width + clampIndex(wx.start[x] + t, width)) * channels + c];
        }
        rows[((y - top) * size + x) * channels + c] = acc;
      }
    }
  }
  const out = new Uint8Array(size * size * channels);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < channels; c++) {
        let acc = 0;
        for (let t = 0; t < wy.taps; t++) {
          const w = wy.weights[y * wy.taps + t];
          if (w !== 0) acc += w * rows[((clampIndex(wy.start[y] + t, height) - top) * size + x) * channels + c];
        }
        out[(y * size + x) * channels + c] = Math.min(255, Math.max(0, Math.round(acc)));
      }
    }
  }
  return out;
}

/** HWC bytes of the image at the model's input size and channels. */
export function toModelPixels(image: DecodedImage, input: ModelInput): Uint8Array {
  const pixels = convertChannels(image, input.channels);
  if (image.width === input.size && image.height === input.size) return pixels;
  return resample(pixels, image.width, image.height, input.channels, input);
}
