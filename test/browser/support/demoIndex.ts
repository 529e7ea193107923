// A small index for the browser tests, made the way a real one is: a cnnHash exported to int8 ONNX
// with its card (test/edge's fixture model), images hashed by onnxruntime-node (encoder/hash/onnxHasher.ts),
// then shards, metadata and JPEG thumbnails uploaded by the publish pipeline. The images are synthetic
// 32 px classes (a colour and a stripe direction each), so a query has a class to compare with.
import { encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { OnnxHasher } from '../../../encoder/hash/onnxHasher.js';
import { publishVersion } from '../../../encoder/publish/publish.js';
import { type ShardInput, shardFromCodes } from '../../../encoder/publish/shardFiles.js';
import type { IndexStores } from '../../../encoder/publish/store.js';
import { mulberry32 } from '../../../encoder/random.js';
import type { ItemMetadata } from '../../../schemas/item.js';
import type { ModelCard } from '../../../schemas/modelCard.js';
import { testModel } from '../../edge/support/fixture.js';

export const IMAGE_SIZE = 32;
export const CLASSES = ['red-rows', 'green-columns', 'blue-diagonal', 'yellow-rows', 'violet-columns', 'grey-diagonal'];
const PALETTE = [
  [200, 40, 40],
  [40, 170, 60],
  [40, 70, 210],
  [220, 200, 40],
  [150, 50, 190],
  [128, 128, 128],
];

/** 32 x 32 RGB bytes of class `c`, varied by `seed` (phase, brightness and noise). */
export function classImage(c: number, seed: number): Uint8Array {
  const random = mulberry32(seed * 97 + c);
  const phase = random() * 8;
  const gain = 0.7 + 0.3 * random();
  const out = new Uint8Array(IMAGE_SIZE * IMAGE_SIZE * 3);
  for (let y = 0; y < IMAGE_SIZE; y++) {
    for (let x = 0; x < IMAGE_SIZE; x++) {
      const along = [y, x, x + y][c % 3] + phase;
      const stripe = Math.sin(along * 0.8) > 0 ? 1 : 0.35;
      for (let ch = 0; ch < 3; ch++) {
        const v = PALETTE[c][ch] * stripe * gain + (random() - 0.5) * 40;
        out[(y * IMAGE_SIZE + x) * 3 + ch] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  return out;
}

/** PNG of a 32 x 32 class image, optionally scaled (nearest pixel) to width x height. */
export function pngOf(pixels: Uint8Array, width = IMAGE_SIZE, height = width): Uint8Array {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const from = (Math.floor((y * IMAGE_SIZE) / height) * IMAGE_SIZE + Math.floor((x * IMAGE_SIZE) / width)) * 3;
      data.set(pixels.subarray(from, from + 3), (y * width + x) * 3);
    }
  }
  return encodePng({ width, height, channels: 3, depth: 8, data });
}

function jpegOf(pixels: Uint8Array): Uint8Array {
  const rgba = Buffer.alloc(IMAGE_SIZE * IMAGE_SIZE * 4, 255);
  for (let i = 0; i < IMAGE_SIZE * IMAGE_SIZE; i++) rgba.set(pixels.subarray(i * 3, i * 3 + 3), i * 4);
  return new Uint8Array(jpeg.encode({ width: IMAGE_SIZE, height: IMAGE_SIZE, data: rgba }, 90).data);
}

/** What a publish of the demo index takes: the model and one shard with metadata and thumbnails. */
export interface DemoIndex {
  model: { onnx: Uint8Array; card: ModelCard };
  shard: ShardInput;
  count: number;
}

/** Hashes `perClass` images per class with a 64-bit 32 px cnnHash (onnxruntime-node). */
export async function buildDemoIndex(perClass = 5): Promise<DemoIndex> {
  const { onnx, card } = await testModel(7);
  const images: Uint8Array[] = [];
  const labels: string[] = [];
  for (let i = 0; i < perClass; i++) {
    for (let c = 0; c < CLASSES.length; c++) {
      images.push(classImage(c, i + 1));
      labels.push(CLASSES[c]);
    }
  }
  const pixels = new Uint8Array(images.length * images[0].length);
  for (const [i, image] of images.entries()) pixels.set(image, i * image.length);
  const hasher = await OnnxHasher.create(onnx, card, { intraOpNumThreads: 1 });
  const codes = await hasher.hashPixels(pixels, images.length);
  await hasher.release();
  const metadata: ItemMetadata[] = labels.map((label, id) => ({
    id,
    source: `synthetic:${label}/${id}`,
    labels: [label],
    thumbnail: `/v1/items/${id}/thumbnail`,
  }));
  const shard = await shardFromCodes(codes, card.bits, { base: 0 }, metadata, 'browser-test');
  shard.thumbnails = async function* () {
    for (const [id, image] of images.entries()) yield { id, jpeg: jpegOf(image) };
  };
  return { model: { onnx, card }, shard, count: images.length };
}

/** Publishes and activates the demo index; returns its version. */
export async function publishDemoIndex(stores: IndexStores, index: DemoIndex): Promise<number> {
  const published = await publishVersion(stores, { shards: [index.shard], model: index.model });
  return published.version;
}
