// The widget's in-browser path from image file to model-input bytes (browser decode, then the edge's
// own channel conversion and resize) against the worker's path (jpeg-js / fast-png decode, same
// resize) on the same files: identical for PNG at any size and mode, within a grey level for JPEG.
import path from 'node:path';
import { encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage } from '../../edge/hashing/decodeImage.js';
import { toModelPixels } from '../../edge/hashing/resize.js';
import { bundleForBrowser } from '../../edge/ui/build.js';
import { MAX_IMAGE_PIXELS } from '../../schemas/api.js';
import type { ModelInput } from '../../schemas/preprocess.js';
import { randomBytes } from '../support/random.js';
import { launchChromium } from './support/chromium.js';

function modelInput(size: number, channels: 1 | 3, resize: 'fill' | 'cover'): ModelInput {
  return {
    name: 'input',
    size,
    channels,
    layout: 'NHWC',
    channelOrder: channels === 3 ? 'RGB' : 'gray',
    resize,
    normalization: { scale: 1 / 255, mean: Array(channels).fill(0.5), std: Array(channels).fill(0.25) },
  };
}

/** A smooth gradient with noise: resizing it exercises every filter tap. */
function testPixels(width: number, height: number, channels: number, seed: number): Uint8Array {
  const noise = randomBytes(width * height * channels, seed);
  const out = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        const i = (y * width + x) * channels + c;
        out[i] = c === 3 ? 255 : ((x * 255) / width + (y * 128) / height + (noise[i] >> 2)) & 255;
      }
    }
  }
  return out;
}

function png(width: number, height: number, channels: 1 | 3 | 4, seed: number): Uint8Array {
  return encodePng({ width, height, channels, depth: 8, data: testPixels(width, height, channels, seed) });
}

function jpg(width: number, height: number, seed: number): Uint8Array {
  const data = Buffer.from(testPixels(width, height, 4, seed));
  return new Uint8Array(jpeg.encode({ width, height, data }, 90).data);
}

function serverPixels(file: Uint8Array, input: ModelInput): Uint8Array {
  return toModelPixels(decodeImage(file, MAX_IMAGE_PIXELS), input);
}

let browser: Browser;
let page: Page;

async function browserPixels(file: Uint8Array, type: string, input: ModelInput): Promise<Uint8Array> {
  const values = await page.evaluate(
    async ({ base64, type, input }) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const { modelPixels } = globalThis as unknown as {
        modelPixels: (blob: Blob, input: unknown) => Promise<Uint8Array>;
      };
      return Array.from(await modelPixels(new Blob([bytes], { type }), input));
    },
    { base64: Buffer.from(file).toString('base64'), type, input },
  );
  return Uint8Array.from(values);
}

beforeAll(async () => {
  browser = await launchChromium();
  page = await browser.newPage();
  await page.addScriptTag({
    content: await bundleForBrowser(path.join(import.meta.dirname, 'support/pixelsEntry.ts')),
  });
});

afterAll(async () => {
  await browser?.close();
});

describe('in-browser model pixels', () => {
  const cases = [
    { name: 'RGB PNG at the model size', file: () => png(32, 32, 3, 1), input: modelInput(32, 3, 'fill') },
    { name: 'RGB PNG stretched (fill)', file: () => png(77, 45, 3, 2), input: modelInput(32, 3, 'fill') },
    { name: 'RGBA PNG cropped (cover)', file: () => png(45, 90, 4, 3), input: modelInput(32, 3, 'cover') },
    { name: 'gray PNG to RGB', file: () => png(40, 40, 1, 4), input: modelInput(32, 3, 'cover') },
    { name: 'RGB PNG to gray', file: () => png(64, 64, 3, 5), input: modelInput(28, 1, 'fill') },
  ];
  for (const c of cases) {
    it(`equal the server's for a ${c.name}`, async () => {
      const file = c.file();
      const expected = serverPixels(file, c.input);
      const actual = await browserPixels(file, 'image/png', c.input);
      expect(actual.length).toBe(c.input.size * c.input.size * c.input.channels);
      expect(Buffer.from(actual).equals(Buffer.from(expected))).toBe(true);
    });
  }

  it("stay within a grey level or two of the server's for a JPEG (decoders differ)", async () => {
    const file = jpg(96, 64, 6);
    const input = modelInput(32, 3, 'cover');
    const expected = serverPixels(file, input);
    const actual = await browserPixels(file, 'image/jpeg', input);
    const diffs = actual.map((v, i) => Math.abs(v - expected[i]));
    expect(Math.max(...diffs)).toBeLessThanOrEqual(2);
  });

  it('send a file within the API limits as it is, and scale a larger one down to fit them', async () => {
    const upload = async (file: Uint8Array, type: string) =>
      Uint8Array.from(
        await page.evaluate(
          async ({ base64, type }) => {
            const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
            const { uploadable } = globalThis as unknown as { uploadable: (blob: Blob) => Promise<Blob> };
            return Array.from(new Uint8Array(await (await uploadable(new Blob([bytes], { type }))).arrayBuffer()));
          },
          { base64: Buffer.from(file).toString('base64'), type },
        ),
      );
    const small = png(64, 48, 3, 7);
    expect(Buffer.from(await upload(small, 'image/png')).equals(Buffer.from(small))).toBe(true);
    // 2400 x 1200 is 2.88 MP, over the server's 1920 x 1080.
    const scaled = decodeImage(await upload(png(2400, 1200, 3, 8), 'image/png'), MAX_IMAGE_PIXELS);
    expect(scaled.header.format).toBe('jpeg');
    expect(scaled.width * scaled.height).toBeLessThanOrEqual(MAX_IMAGE_PIXELS);
    expect(scaled.width * scaled.height).toBeGreaterThan(0.99 * MAX_IMAGE_PIXELS);
    expect(scaled.width / scaled.height).toBeCloseTo(2, 2);
  });

  it('reject a file the browser cannot decode, saying so', async () => {
    const bogus = new TextEncoder().encode('not an image');
    await expect(browserPixels(bogus, 'image/png', modelInput(32, 3, 'fill'))).rejects.toThrow(/cannot decode/);
  });
});
