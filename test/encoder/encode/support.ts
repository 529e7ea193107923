// Shared by the encode tests: a small random-weight model exported to ONNX with its card, and small
// generated collections (image folders, CIFAR-10 binary batches, IDX files) on disk.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import sharp from 'sharp';
import { mulberry32 } from '../../../encoder/random.js';
import { exportSmall, randomizedModel } from '../export/support.js';

export const BITS = 32;

/** Writes <modelId>.onnx and <modelId>.card.json (32-bit codes, 16 px input) into `dir`; returns the paths. */
export function writeModel(dir: string, { seed = 1, modelId = 'enc-test' } = {}) {
  const small = exportSmall(randomizedModel('cnnHash', {}, { bits: BITS, inputSize: 16, channels: 3, seed }), modelId);
  mkdirSync(dir, { recursive: true });
  const onnx = path.join(dir, `${modelId}.onnx`);
  const card = path.join(dir, `${modelId}.card.json`);
  writeFileSync(onnx, small.onnx);
  writeFileSync(card, JSON.stringify(small.card));
  return { onnx, card, checksum: small.card.onnx.checksum, modelCard: small.card, bytes: small.onnx };
}

export function randomPixels(count: number, seed: number): Uint8Array {
  const random = mulberry32(seed);
  return Uint8Array.from({ length: count }, () => Math.floor(random() * 256));
}

/** `dir/<class>/<n>.png|jpg`: `perClass` images of 20x24 random pixels per class. */
export async function writeImageFolder(dir: string, classes: string[], perClass: number): Promise<void> {
  for (const [c, name] of classes.entries()) {
    mkdirSync(path.join(dir, name), { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const image = sharp(randomPixels(20 * 24 * 3, c * 1000 + i), { raw: { width: 20, height: 24, channels: 3 } });
      const png = i % 2 === 0;
      const bytes = await (png ? image.png() : image.jpeg()).toBuffer();
      writeFileSync(path.join(dir, name, `${String(i).padStart(2, '0')}.${png ? 'png' : 'jpg'}`), bytes);
    }
  }
}

/** A CIFAR-10 binary batch of `count` records (label i % 10, random pixels). */
export function writeCifarBatch(file: string, count: number, seed = 7): void {
  const bytes = new Uint8Array(count * 3073);
  const pixels = randomPixels(count * 3072, seed);
  for (let i = 0; i < count; i++) {
    bytes[i * 3073] = i % 10;
    bytes.set(pixels.subarray(i * 3072, (i + 1) * 3072), i * 3073 + 1);
  }
  writeFileSync(file, bytes);
}

/** IDX images (count x 12 x 12) and labels, gzipped. */
export function writeIdx(dir: string, count: number): { images: string; labels: string } {
  const images = Buffer.alloc(16 + count * 144);
  images.writeUInt32BE(0x803, 0);
  images.writeUInt32BE(count, 4);
  images.writeUInt32BE(12, 8);
  images.writeUInt32BE(12, 12);
  images.set(randomPixels(count * 144, 3), 16);
  const labels = Buffer.alloc(8 + count);
  labels.writeUInt32BE(0x801, 0);
  labels.writeUInt32BE(count, 4);
  for (let i = 0; i < count; i++) labels[8 + i] = i % 10;
  const files = { images: path.join(dir, 'images-idx3-ubyte.gz'), labels: path.join(dir, 'labels-idx1-ubyte.gz') };
  writeFileSync(files.images, gzipSync(images));
  writeFileSync(files.labels, gzipSync(labels));
  return files;
}
