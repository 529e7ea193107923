import { describe, expect, it } from 'vitest';
import {
  type AugmentParams,
  augmentInto,
  CIFAR10_NORMALIZATION,
  computeNormalization,
  cutoutInto,
  describeAugmentation,
  type Normalization,
  normalizationTable,
  sampleAugmentParams,
  sampleCutout,
} from '../../../encoder/data/augment.js';
import { batchCount, batches } from '../../../encoder/data/batches.js';
import type { ImageDataset } from '../../../encoder/data/types.js';
import { mulberry32 } from '../../../encoder/random.js';
import { randomBytes } from '../../support/random.js';

/** Normalization that maps a byte v to (v/255 - 0) / (1/255) = v, so outputs read as raw pixels. */
const IDENTITY3: Normalization = { mean: [0, 0, 0], std: [1 / 255, 1 / 255, 1 / 255] };
const IDENTITY1: Normalization = { mean: [0], std: [1 / 255] };

function dataset(size: number, h: number, w: number, c: number, k = 3): ImageDataset {
  const labels = new Uint8Array(size * k);
  for (let i = 0; i < size; i++) labels[i * k + (i % k)] = 1;
  return {
    name: 'synthetic',
    size,
    height: h,
    width: w,
    channels: c,
    classNames: Array.from({ length: k }, (_, j) => `c${j}`),
    pixels: randomBytes(size * h * w * c, 123),
    labels,
    sources: Array.from({ length: size }, (_, i) => `#${i}`),
  };
}

/** Reference: pad with zeros, crop at (p+dy, p+dx), then flip horizontally. */
function reference(src: Uint8Array, h: number, w: number, c: number, p: AugmentParams, pad = 4): number[] {
  const ph = h + 2 * pad;
  const pw = w + 2 * pad;
  const padded = new Array(ph * pw * c).fill(0);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let k = 0; k < c; k++) padded[((y + pad) * pw + x + pad) * c + k] = src[(y * w + x) * c + k];
  const crop = new Array(h * w * c);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let k = 0; k < c; k++) crop[(y * w + x) * c + k] = padded[((y + pad + p.dy) * pw + x + pad + p.dx) * c + k];
  const out = new Array(h * w * c);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let k = 0; k < c; k++) out[(y * w + x) * c + k] = crop[(y * w + (p.flip ? w - 1 - x : x)) * c + k];
  return out;
}

describe('augmentInto', () => {
  it('flips and shifts a hand-made 2x3 image as expected', () => {
    // one channel, rows [1 2 3] [4 5 6]
    const src = Uint8Array.from([1, 2, 3, 4, 5, 6]);
    const lut = normalizationTable(IDENTITY1, 1);
    const run = (p: AugmentParams) => {
      const dst = new Float32Array(6);
      augmentInto(src, 0, dst, 0, 2, 3, 1, p, lut);
      return Array.from(dst, Math.round);
    };
    expect(run({ dy: 0, dx: 0, flip: false })).toEqual([1, 2, 3, 4, 5, 6]);
    expect(run({ dy: 0, dx: 0, flip: true })).toEqual([3, 2, 1, 6, 5, 4]);
    expect(run({ dy: 0, dx: 1, flip: false })).toEqual([2, 3, 0, 5, 6, 0]);
    expect(run({ dy: 0, dx: -1, flip: false })).toEqual([0, 1, 2, 0, 4, 5]);
    expect(run({ dy: 1, dx: 0, flip: false })).toEqual([4, 5, 6, 0, 0, 0]);
    expect(run({ dy: -1, dx: 0, flip: false })).toEqual([0, 0, 0, 1, 2, 3]);
    // crop then flip: crop at dx=1 gives [2 3 0], flipped [0 3 2]
    expect(run({ dy: 0, dx: 1, flip: true })).toEqual([0, 3, 2, 0, 6, 5]);
    expect(run({ dy: 0, dx: 4, flip: true })).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('matches a pad-crop-flip reference for every offset, 1 and 3 channels, odd sizes', () => {
    for (const [h, w, c] of [
      [5, 7, 3],
      [6, 3, 1],
      [9, 9, 3],
    ]) {
      const src = randomBytes(h * w * c, h * 100 + w);
      const lut = normalizationTable(c === 3 ? IDENTITY3 : IDENTITY1, c);
      const dst = new Float32Array(h * w * c + 5);
      for (let dy = -4; dy <= 4; dy++)
        for (let dx = -4; dx <= 4; dx++)
          for (const flip of [false, true]) {
            const p = { dy, dx, flip };
            augmentInto(src, 0, dst, 5, h, w, c, p, lut);
            expect(Array.from(dst.subarray(5), Math.round)).toEqual(reference(src, h, w, c, p));
          }
    }
  });

  it('padding is raw zero normalized: (0 - mean) / std', () => {
    const lut = normalizationTable(CIFAR10_NORMALIZATION, 3);
    const dst = new Float32Array(2 * 2 * 3);
    augmentInto(new Uint8Array(12).fill(255), 0, dst, 0, 2, 2, 3, { dy: 2, dx: 0, flip: false }, lut);
    for (let c = 0; c < 3; c++) {
      expect(dst[c]).toBeCloseTo(-CIFAR10_NORMALIZATION.mean[c] / CIFAR10_NORMALIZATION.std[c], 5);
    }
  });

  it('samples offsets in [-pad, pad] and both flips, reproducibly', () => {
    const r1 = mulberry32(9);
    const r2 = mulberry32(9);
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const p = sampleAugmentParams(r1);
      expect(sampleAugmentParams(r2)).toEqual(p);
      expect(Math.abs(p.dy)).toBeLessThanOrEqual(4);
      expect(Math.abs(p.dx)).toBeLessThanOrEqual(4);
      seen.add(`${p.dy},${p.dx},${p.flip}`);
    }
    expect(seen.size).toBe(9 * 9 * 2);
    expect(sampleAugmentParams(mulberry32(1), { padding: 0, flip: false })).toEqual({ dy: 0, dx: 0, flip: false });
  });
});

describe('cutout', () => {
  it('samples a size x size box centred anywhere in the image, clipped at its edges, reproducibly', () => {
    const r1 = mulberry32(3);
    const r2 = mulberry32(3);
    const boxes = new Set<string>();
    let clipped = 0;
    for (let i = 0; i < 3000; i++) {
      const box = sampleCutout(r1, 4, 6, 5);
      expect(sampleCutout(r2, 4, 6, 5)).toEqual(box);
      expect(box.y0).toBeGreaterThanOrEqual(0);
      expect(box.x0).toBeGreaterThanOrEqual(0);
      expect(box.y1).toBeLessThanOrEqual(6);
      expect(box.x1).toBeLessThanOrEqual(5);
      expect(box.y1 - box.y0).toBeGreaterThanOrEqual(2);
      expect(box.y1 - box.y0).toBeLessThanOrEqual(4);
      expect(box.x1 - box.x0).toBeLessThanOrEqual(4);
      if (box.y1 - box.y0 < 4 || box.x1 - box.x0 < 4) clipped++;
      boxes.add(JSON.stringify(box));
    }
    // each of the 6 x 5 centres gives its own box
    expect(boxes.size).toBe(30);
    expect(clipped).toBeGreaterThan(0);
  });

  it('sets exactly the box to 0 in every channel and leaves the rest', () => {
    const h = 4;
    const w = 5;
    const c = 3;
    const dst = Float32Array.from({ length: 2 + h * w * c }, (_, i) => i + 1);
    cutoutInto(dst, 2, w, c, { y0: 1, y1: 3, x0: 2, x1: 4 });
    for (let i = 0; i < dst.length; i++) {
      const p = i - 2;
      const y = Math.floor(p / (w * c));
      const x = Math.floor((p % (w * c)) / c);
      const inBox = p >= 0 && y >= 1 && y < 3 && x >= 2 && x < 4;
      expect(dst[i]).toBe(inBox ? 0 : i + 1);
    }
  });
});

describe('describeAugmentation', () => {
  it('names each part that is on', () => {
    expect(describeAugmentation(true)).toBe('random crop (4-pixel zero padding) + horizontal flip');
    expect(describeAugmentation({ padding: 2, flip: false, cutout: 8 })).toBe(
      'random crop (2-pixel zero padding) + cutout 8x8',
    );
    expect(describeAugmentation({ padding: 0, flip: false })).toBe('none');
    expect(describeAugmentation(false)).toBe('none');
  });
});

describe('batches', () => {
  it('yields normalized NHWC batches with labels and indices; last batch smaller or dropped', () => {
    const ds = dataset(10, 3, 4, 3);
    const idx = [9, 0, 4, 5, 2, 7, 1];
    const out = [...batches(ds, idx, 3, { normalization: IDENTITY3 })];
    expect(out.map((b) => b.size)).toEqual([3, 3, 1]);
    expect(batchCount(7, 3)).toBe(3);
    expect(batchCount(7, 3, true)).toBe(2);
    expect(out.flatMap((b) => Array.from(b.indices))).toEqual(idx);
    const per = 36;
    for (const b of out) {
      expect(b.x.length).toBe(b.size * per);
      expect(b.labels.length).toBe(b.size * 3);
      b.indices.forEach((i, r) => {
        expect(Array.from(b.x.subarray(r * per, (r + 1) * per), Math.round)).toEqual(
          Array.from(ds.pixels.subarray(i * per, (i + 1) * per)),
        );
        expect(Array.from(b.labels.subarray(r * 3, r * 3 + 3))).toEqual(
          Array.from(ds.labels.subarray(i * 3, i * 3 + 3)),
        );
      });
    }
    expect([...batches(ds, idx, 3, { dropLast: true })].map((b) => b.size)).toEqual([3, 3]);
  });

  it('default normalization is the CIFAR-10 mean/std', () => {
    const ds = dataset(2, 2, 2, 3);
    const [b] = [...batches(ds, [1], 4)];
    const v = ds.pixels[12];
    expect(b.x[0]).toBeCloseTo((v / 255 - 0.4914) / 0.247, 5);
  });

  it('shuffle and augmentation are seeded: same seed same batches, other seed or epoch differs', () => {
    const ds = dataset(50, 8, 8, 3);
    const all = Array.from({ length: 50 }, (_, i) => i);
    const run = (seed: number, epoch = 0) => [...batches(ds, all, 16, { shuffle: true, augment: true, seed, epoch })];
    const a = run(1);
    const b = run(1);
    const c = run(2);
    const d = run(1, 1);
    expect(a.map((x) => Array.from(x.indices))).toEqual(b.map((x) => Array.from(x.indices)));
    expect(a.map((x) => Array.from(x.x))).toEqual(b.map((x) => Array.from(x.x)));
    expect(a.flatMap((x) => Array.from(x.indices)).sort((p, q) => p - q)).toEqual(all);
    expect(a.map((x) => Array.from(x.indices))).not.toEqual(c.map((x) => Array.from(x.indices)));
    expect(a.map((x) => Array.from(x.indices))).not.toEqual(d.map((x) => Array.from(x.indices)));
    for (const batch of a) expect(batch.x.length).toBe(batch.size * 8 * 8 * 3);
    // with augmentation the image differs from the plain one for most rows, but keeps its values set
    const plain = [...batches(ds, a[0].indices, 16)][0];
    expect(Array.from(a[0].x)).not.toEqual(Array.from(plain.x));
  });

  it('adds cutout on request: one cleared square per image, the rest the image or its mirror', () => {
    const per = 8 * 8 * 3;
    // pixels 1..255 and no crop padding: a 0 can only come from cutout, and each image is its source or its mirror.
    // (Cutout draws from the same seeded stream, so later images' flips differ from a run without it.)
    const pixels = Uint8Array.from({ length: 20 * per }, (_, i) => 1 + ((i * 37) % 255));
    const ds = { ...dataset(20, 8, 8, 3), pixels };
    const all = Array.from({ length: 20 }, (_, i) => i);
    const opts = { shuffle: true, seed: 4, normalization: IDENTITY3 };
    const [plain] = [...batches(ds, all, 20, { ...opts, augment: { padding: 0, flip: false } })];
    const [cut] = [...batches(ds, all, 20, { ...opts, augment: { padding: 0, cutout: 3 } })];
    expect(Array.from(cut.indices)).toEqual(Array.from(plain.indices));
    const mirrorIndex = (i: number) => {
      const [y, x, c] = [Math.floor(i / 24), Math.floor((i % 24) / 3), i % 3];
      return y * 24 + (7 - x) * 3 + c;
    };
    let mirrored = 0;
    for (let b = 0; b < 20; b++) {
      const image = cut.x.subarray(b * per, (b + 1) * per);
      const source = plain.x.subarray(b * per, (b + 1) * per);
      expect(source.every((v) => v > 0)).toBe(true);
      // a 3x3 square clipped at an edge clears 4, 6 or 9 pixels of 3 channels
      expect([12, 18, 27]).toContain(image.filter((v) => v === 0).length);
      const asSource = image.every((v, i) => v === 0 || v === source[i]);
      const asMirror = image.every((v, i) => v === 0 || v === source[mirrorIndex(i)]);
      expect(asSource || asMirror).toBe(true);
      if (asMirror && !asSource) mirrored++;
    }
    expect(mirrored).toBeGreaterThan(0);
  });

  it('rejects bad arguments', () => {
    const ds = dataset(3, 2, 2, 3);
    expect(() => [...batches(ds, [3], 1)]).toThrow(/out of range/);
    expect(() => [...batches(ds, [0], 0)]).toThrow(/batchSize/);
    expect(() => [...batches(ds, [0], 1, { normalization: IDENTITY1 })]).toThrow(/3 channels/);
  });

  it('computeNormalization gives per-channel mean/std in 0..1', () => {
    const ds = {
      ...dataset(2, 1, 2, 3),
      pixels: Uint8Array.from([0, 255, 51, 0, 255, 51, 255, 255, 51, 255, 255, 51]),
    };
    const n = computeNormalization(ds);
    expect(n.mean[0]).toBeCloseTo(0.5, 6);
    expect(n.std[0]).toBeCloseTo(0.5, 6);
    expect(n.mean[1]).toBeCloseTo(1, 6);
    expect(n.mean[2]).toBeCloseTo(0.2, 6);
    expect(computeNormalization(ds, [1]).mean[0]).toBeCloseTo(1, 6);
  });

  it('is fast: one CIFAR-sized epoch slice of 128x40 augmented images', () => {
    const ds = dataset(5120, 32, 32, 3, 10);
    const idx = Array.from({ length: 5120 }, (_, i) => i);
    const t0 = performance.now();
    let n = 0;
    for (const b of batches(ds, idx, 128, { shuffle: true, augment: true })) n += b.size;
    const ms = performance.now() - t0;
    expect(n).toBe(5120);
    // ~15.7M floats; generous bound for a shared 2-core machine
    expect(ms).toBeLessThan(3000);
  });
});
