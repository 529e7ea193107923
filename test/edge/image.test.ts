// Search by image inside workerd: the worker's code (jpeg-js/fast-png decode, edge resize, shared
// preprocessing, onnxruntime-web) equals onnxruntime-node's (encoder/hash/onnxHasher.ts) on the same
// pixels, and every kind of bad upload is a 4xx with its own code.
import { crc32 } from 'node:zlib';
import { encode as encodePng } from 'fast-png';
import { zlibSync } from 'fflate';
import jpeg from 'jpeg-js';
import type { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boundedPng } from '../../edge/hashing/pngGuard.js';
import { toModelPixels } from '../../edge/hashing/resize.js';
import { OnnxHasher } from '../../encoder/hash/onnxHasher.js';
import { type ErrorCode, MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS, MAX_IMAGE_SIDE } from '../../schemas/api.js';
import { rng } from '../support/random.js';
import { expectError, getJson, hex } from './support/client.js';
import { publish, shardData, type TestModel, testModel } from './support/fixture.js';
import { startEdgeWorker } from './support/worker.js';

let mf: Miniflare;
let hasher: OnnxHasher;
let model: TestModel;

/** A smooth random RGBA image (gradients plus noise), so codes depend on the content. */
function pixels(width: number, height: number, seed: number): Uint8Array {
  const next = rng(seed);
  const [a, b, c] = [next() * 4, next() * 4, next() * 4];
  const out = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * 4;
      out[p] = (128 + 100 * Math.sin(a + x / 5)) | 0;
      out[p + 1] = (128 + 100 * Math.cos(b + y / 7)) | 0;
      out[p + 2] = (128 + 60 * Math.sin(c + (x + y) / 9) + next() * 40) | 0;
      out[p + 3] = 255;
    }
  }
  return out;
}

const jpegOf = (width: number, height: number, seed: number) =>
  new Uint8Array(jpeg.encode({ width, height, data: Buffer.from(pixels(width, height, seed)) }, 90).data);
const pngOf = (width: number, height: number, seed: number) =>
  encodePng({ width, height, channels: 4, depth: 8, data: pixels(width, height, seed) });

/** One PNG chunk: length, type, data, CRC of type and data. */
function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const typed = new Uint8Array([...Buffer.from(type, 'latin1'), ...data]);
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.set(typed, 4);
  out.writeUInt32BE(crc32(typed), 8 + data.length);
  return out;
}

/** A PNG's chunks as [type, data], in order. */
function pngChunks(png: Uint8Array): [string, Uint8Array][] {
  const chunks: [string, Uint8Array][] = [];
  const view = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  for (let at = 8; at < png.length; at += 12 + view.readUInt32BE(at)) {
    chunks.push([view.toString('latin1', at + 4, at + 8), png.subarray(at + 8, at + 8 + view.readUInt32BE(at))]);
  }
  return chunks;
}

const pngFrom = (chunks: [string, Uint8Array][]) =>
  new Uint8Array(
    Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      ...chunks.map(([t, d]) => pngChunk(t, d)),
    ]),
  );

/** The code onnxruntime-node gives for the pixels the edge pipeline feeds the model. */
async function nodeCode(width: number, height: number, rgba: Uint8Array): Promise<string> {
  const input = toModelPixels({ width, height, channels: 4, data: rgba }, model.card.input);
  return hex(await hasher.hashPixels(input, 1));
}

const post = (body: Uint8Array, type: string, path = '/v1/search?k=5') =>
  getJson(mf, path, { method: 'POST', body, headers: { 'content-type': type } } as RequestInit);

/** A search by an uploaded body that must fail with `code`; the error's message. */
const expectUploadError = (body: Uint8Array, type: string, code: ErrorCode, path = '/v1/search') =>
  expectError(mf, path, code, { method: 'POST', body, headers: { 'content-type': type } } as RequestInit);

/** A multipart body as bytes plus its content type (Node's FormData does not cross into Miniflare). */
async function multipart(form: FormData): Promise<RequestInit> {
  const encoded = new Response(form);
  const body = new Uint8Array(await encoded.arrayBuffer());
  return { method: 'POST', body, headers: { 'content-type': encoded.headers.get('content-type')! } } as RequestInit;
}

beforeAll(async () => {
  mf = await startEdgeWorker({ vars: { POINTER_TTL_MS: '0', RATE_LIMIT_PER_MINUTE: '0' } });
  model = await testModel(1);
  await publish(mf, { shards: [shardData(400, (i) => i, 21)], model });
  hasher = await OnnxHasher.create(model.onnx, model.card, { intraOpNumThreads: 1 });
});

afterAll(async () => {
  await hasher?.release();
  await mf?.dispose();
});

describe('POST /v1/search by image', () => {
  it('a 32x32 JPEG hashes (int8 model) to the same code as onnxruntime-node on the same decoded pixels', async () => {
    expect(model.card.quantization?.activations).toBe('int8-static');
    const file = jpegOf(32, 32, 1);
    const decoded = jpeg.decode(file, { useTArray: true, formatAsRGBA: true });
    const { status, body } = await post(file, 'image/jpeg');
    expect(status).toBe(200);
    expect(body.code).toBe(await nodeCode(32, 32, decoded.data));
    expect(body.hits).toHaveLength(5);
    expect(body.timing.hashMs).toBeGreaterThanOrEqual(0);
    // The hits are those of a search by the returned code.
    const byCode = await getJson(mf, `/v1/search?k=5&code=${body.code}`);
    expect(byCode.body.hits).toEqual(body.hits);
  });

  it('PNG at the input size and PNG resized by the edge both match onnxruntime-node', async () => {
    for (const [w, h] of [
      [32, 32],
      [80, 48],
      [20, 40],
    ]) {
      const { body } = await post(pngOf(w, h, w + h), 'image/png');
      expect(body.code, `${w}x${h}`).toBe(await nodeCode(w, h, pixels(w, h, w + h)));
    }
  });

  it('distinct images give distinct codes', async () => {
    const a = (await post(pngOf(32, 32, 7), 'image/png')).body.code;
    const b = (await post(pngOf(32, 32, 8), 'image/png')).body.code;
    expect(a).not.toBe(b);
  });

  it('accepts multipart/form-data with the file as `image`, and application/octet-stream', async () => {
    const file = pngOf(32, 32, 3);
    const form = new FormData();
    form.append('note', 'ignored');
    form.append('image', new Blob([file as Uint8Array<ArrayBuffer>], { type: 'image/png' }), 'query.png');
    const viaForm = await getJson(mf, '/v1/search?k=5', await multipart(form));
    const raw = await post(file, 'application/octet-stream');
    expect(viaForm.status).toBe(200);
    expect(viaForm.body.code).toBe(raw.body.code);
    expect(raw.body.code).toBe(await nodeCode(32, 32, pixels(32, 32, 3)));
  });

  it('grayscale, 16-bit and palette-free RGB PNGs decode', async () => {
    const gray16 = encodePng({
      width: 32,
      height: 32,
      channels: 1,
      depth: 16,
      data: new Uint16Array(1024).fill(40000),
    });
    const rgb = encodePng({ width: 32, height: 32, channels: 3, depth: 8, data: new Uint8Array(3072).fill(90) });
    expect((await post(gray16, 'image/png')).status).toBe(200);
    expect((await post(rgb, 'image/png')).status).toBe(200);
  });
});

describe('bad uploads', () => {
  const png = pngOf(32, 32, 5);
  const jpg = jpegOf(32, 32, 5);

  it('empty body -> empty_body', async () => {
    await expectUploadError(new Uint8Array(0), 'image/png', 'empty_body');
    await expectUploadError(new Uint8Array(0), 'multipart/form-data; boundary=x', 'empty_body');
    const form = new FormData();
    form.append('note', 'no file');
    await expectError(mf, '/v1/search', 'empty_body', await multipart(form));
  });

  it('wrong content type, WebP and GIF -> unsupported_media_type', async () => {
    await expectUploadError(png, 'text/plain', 'unsupported_media_type');
    const webp = new TextEncoder().encode('RIFF\x10\x00\x00\x00WEBPVP8 ');
    await expectUploadError(webp, 'image/webp', 'unsupported_media_type');
    const gif = new TextEncoder().encode('GIF89a\x01\x00\x01\x00');
    await expectUploadError(gif, 'application/octet-stream', 'unsupported_media_type');
  });

  it('not an image, truncated or corrupt -> invalid_image', async () => {
    const cases: [Uint8Array, string][] = [
      [new TextEncoder().encode('definitely not an image'), 'image/png'],
      [png.subarray(0, png.length >> 1), 'image/png'],
      [png.subarray(0, 20), 'image/png'],
      [jpg.subarray(0, jpg.length >> 1), 'image/jpeg'],
      [jpg.subarray(0, 40), 'image/jpeg'],
    ];
    for (const [body, type] of cases) {
      await expectError(mf, '/v1/search', 'invalid_image', {
        method: 'POST',
        body,
        headers: { 'content-type': type },
      } as RequestInit);
    }
    const corrupt = png.slice();
    corrupt.fill(7, 40, 80);
    await expectUploadError(corrupt, 'image/png', 'invalid_image');
  });

  it('decompression bombs are refused from the header -> image_too_large', async () => {
    // A real 5000x4000 PNG (20 MP) compresses to a few KB.
    const bomb = encodePng({ width: 5000, height: 4000, channels: 1, depth: 8, data: new Uint8Array(5000 * 4000) });
    expect(bomb.length).toBeLessThan(100_000);
    const message = await expectUploadError(bomb, 'image/png', 'image_too_large');
    expect(message).toContain('5000x4000');
    // A JPEG whose frame header claims 65535x65535.
    const huge = jpg.slice();
    const sof = huge.findIndex((b, i) => b === 0xff && huge[i + 1] === 0xc0);
    huge.set([0xff, 0xff, 0xff, 0xff], sof + 5);
    await expectUploadError(huge, 'image/jpeg', 'image_too_large');
  });

  it('a PNG whose image data inflates far past its declared size -> image_too_large, before it is unpacked', async () => {
    // 1x1 gray declared; 20 MB of zeros deflate to about 20 KB.
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(1, 0);
    ihdr.writeUInt32BE(1, 4);
    ihdr.set([8, 0, 0, 0, 0], 8);
    const bomb = pngFrom([
      ['IHDR', ihdr],
      ['IDAT', zlibSync(new Uint8Array(20_000_000), { level: 9 })],
      ['IEND', new Uint8Array(0)],
    ]);
    expect(bomb.length).toBeLessThan(100_000);
    const message = await expectUploadError(bomb, 'image/png', 'image_too_large');
    expect(message).toMatch(/inflates past the \d+ bytes a 1x1 image needs \(a decompression bomb\)/);
  });

  it('compressed colour profiles and text are dropped unread: a PNG with a 50 MB profile hashes as without it', async () => {
    const plain = pngOf(32, 32, 5);
    const [ihdr, ...rest] = pngChunks(plain);
    const profile = new Uint8Array([...Buffer.from('bomb\0', 'latin1'), 0, ...zlibSync(new Uint8Array(50_000_000))]);
    const withProfile = pngFrom([ihdr, ['iCCP', profile], ...rest]);
    expect(pngChunks(boundedPng(withProfile)).map(([type]) => type)).toEqual(pngChunks(plain).map(([type]) => type));
    const { status, body } = await post(withProfile, 'image/png');
    expect(status).toBe(200);
    expect(body.code).toBe((await post(plain, 'image/png')).body.code);
  });

  it(`a side over ${MAX_IMAGE_SIDE} pixels -> image_too_large; a JPEG of ${MAX_IMAGE_PIXELS} pixels decodes`, async () => {
    const thin = encodePng({
      width: MAX_IMAGE_SIDE + 1,
      height: 1,
      channels: 1,
      depth: 8,
      data: new Uint8Array(MAX_IMAGE_SIDE + 1),
    });
    const message = await expectUploadError(thin, 'image/png', 'image_too_large');
    expect(message).toContain(`each side may be at most ${MAX_IMAGE_SIDE} pixels`);
    const { status, body } = await post(jpegOf(1920, MAX_IMAGE_PIXELS / 1920, 9), 'image/jpeg');
    expect(status).toBe(200);
    expect(body.code).toMatch(/^[0-9a-f]+$/);
  });

  it('oversize body -> body_too_large', async () => {
    const big = new Uint8Array(MAX_IMAGE_BYTES + 1);
    big.set(png);
    await expectUploadError(big, 'image/png', 'body_too_large');
  });

  it('bad query parameters and an unknown version are answered before the body is read', async () => {
    // An empty body would be empty_body if it were read first.
    const empty = new Uint8Array(0);
    await expectUploadError(empty, 'image/png', 'invalid_parameter', '/v1/search?k=0');
    await expectUploadError(empty, 'image/png', 'unknown_version', '/v1/search?version=7');
  });
});
