import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDecodeCount } from '../../../encoder/data/decode.js';
import {
  concatDatasets,
  loadCifar10Jpeg,
  loadCifarBinary,
  loadIdx,
  loadImageFolder,
  loadListFile,
  loadListFiles,
  readListFile,
} from '../../../encoder/data/loaders.js';
import { randomBytes } from '../../support/random.js';

let root: string;

async function writePng(path: string, data: Uint8Array, width: number, height: number, channels: 1 | 3 | 4 = 3) {
  await sharp(data, { raw: { width, height, channels } }).png().toFile(path);
}

async function writeSolidJpeg(path: string, rgb: [number, number, number], width = 8, height = 8) {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set(rgb, i * 3);
  await sharp(data, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 95 })
    .toFile(path);
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'edgehash-data-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('loadImageFolder', () => {
  it('sorts classes and files, decodes PNG exactly in HWC order, one-hot labels', async () => {
    const dir = join(root, 'folder-png');
    // created out of order on purpose
    for (const cls of ['zebra', 'ant']) await mkdir(join(dir, cls), { recursive: true });
    const imgs: Record<string, Uint8Array> = {};
    let seed = 1;
    for (const rel of ['zebra/b.png', 'zebra/a.png', 'ant/10.png', 'ant/02.png']) {
      imgs[rel] = randomBytes(5 * 4 * 3, seed++); // width 5, height 4
      await writePng(join(dir, rel), imgs[rel], 5, 4);
    }
    await writeFile(join(dir, 'ant', 'notes.txt'), 'not an image');
    const ds = await loadImageFolder(dir);
    expect(ds.classNames).toEqual(['ant', 'zebra']);
    expect(ds.sources).toEqual(['ant/02.png', 'ant/10.png', 'zebra/a.png', 'zebra/b.png']);
    expect([ds.size, ds.height, ds.width, ds.channels]).toEqual([4, 4, 5, 3]);
    expect(Array.from(ds.labels)).toEqual([1, 0, 1, 0, 0, 1, 0, 1]);
    ds.sources.forEach((s, i) => {
      expect(Array.from(ds.pixels.subarray(i * 60, (i + 1) * 60))).toEqual(Array.from(imgs[s]));
    });
    expect(ds.skipped).toBe(0);
    expect(ds.name).toBe('folder-png');
  });

  it('decodes JPEG, resizes differing sizes to the first image or the requested size, converts channels', async () => {
    const dir = join(root, 'folder-jpg');
    await mkdir(join(dir, 'red'), { recursive: true });
    await mkdir(join(dir, 'blue'), { recursive: true });
    await writeSolidJpeg(join(dir, 'blue', '0.jpg'), [20, 40, 220], 8, 8);
    await writeSolidJpeg(join(dir, 'red', '0.jpg'), [220, 30, 20], 16, 12);
    // grey PNG with alpha: converted to RGB without alpha
    const ga = new Uint8Array(8 * 8 * 4);
    for (let i = 0; i < 64; i++) ga.set([90, 90, 90, 255], i * 4);
    await writePng(join(dir, 'red', '1.png'), ga, 8, 8, 4);

    const ds = await loadImageFolder(dir);
    expect([ds.size, ds.height, ds.width, ds.channels]).toEqual([3, 8, 8, 3]);
    const near = (i: number, rgb: number[]) => {
      const px = ds.pixels.subarray(i * 192, (i + 1) * 192);
      for (let p = 0; p < 64; p++) for (let c = 0; c < 3; c++) expect(Math.abs(px[p * 3 + c] - rgb[c])).toBeLessThan(8);
    };
    near(0, [20, 40, 220]);
    near(1, [220, 30, 20]);
    near(2, [90, 90, 90]);

    const small = await loadImageFolder(dir, { height: 4, width: 6, channels: 1 });
    expect([small.size, small.height, small.width, small.channels, small.pixels.length]).toEqual([3, 4, 6, 1, 72]);
    expect(Math.abs(small.pixels[2 * 24] - 90)).toBeLessThan(3);
  });

  it('names a missing folder', async () => {
    const missing = join(root, 'no-such-folder');
    await expect(loadImageFolder(missing)).rejects.toThrow(missing);
  });

  it('unreadable image: fail names the file and reason, skip drops and counts it', async () => {
    const dir = join(root, 'folder-bad');
    await mkdir(join(dir, 'a'), { recursive: true });
    await mkdir(join(dir, 'b'), { recursive: true });
    await writeSolidJpeg(join(dir, 'a', '0.jpg'), [10, 10, 10]);
    await writeFile(join(dir, 'a', '1.jpg'), 'this is not a jpeg');
    await writeSolidJpeg(join(dir, 'b', '0.jpg'), [200, 200, 200]);
    const good = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } })
      .jpeg()
      .toBuffer();
    await writeFile(join(dir, 'b', '1.jpg'), good.subarray(0, 60)); // truncated

    const err = await loadImageFolder(dir).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/Cannot decode image .*[\\/]a[\\/]1\.jpg: .+/);

    const ds = await loadImageFolder(dir, { onError: 'skip' });
    expect(ds.size).toBe(2);
    expect(ds.skipped).toBe(2);
    expect(ds.sources).toEqual(['a/0.jpg', 'b/0.jpg']);
    expect(ds.skippedSources?.[0]).toMatch(/^a\/1\.jpg: /);
    expect(Array.from(ds.labels)).toEqual([1, 0, 0, 1]);
    expect(ds.pixels.length).toBe(2 * 8 * 8 * 3);
    expect(ds.pixels[0]).toBeLessThan(30);
    expect(ds.pixels[192]).toBeGreaterThan(180);
  });

  it('second load with cacheDir reads the cache and decodes nothing; a changed file invalidates it', async () => {
    const dir = join(root, 'folder-cache');
    const cacheDir = join(root, 'cache');
    await mkdir(join(dir, 'x'), { recursive: true });
    for (let i = 0; i < 6; i++) await writePng(join(dir, 'x', `${i}.png`), randomBytes(4 * 4 * 3, 100 + i), 4, 4);
    await writeFile(join(dir, 'x', 'broken.png'), 'nope');

    const first = await loadImageFolder(dir, { cacheDir, onError: 'skip' });
    expect(first.loadInfo?.cacheHit).toBe(false);
    expect(first.loadInfo?.decoded).toBe(6);

    const before = getDecodeCount();
    const second = await loadImageFolder(dir, { cacheDir, onError: 'skip' });
    expect(getDecodeCount()).toBe(before);
    expect(second.loadInfo).toMatchObject({ cacheHit: true, decoded: 0 });
    expect(Array.from(second.pixels)).toEqual(Array.from(first.pixels));
    expect(second.sources).toEqual(first.sources);
    expect(second.skipped).toBe(1);
    expect(second.skippedSources).toEqual(first.skippedSources);

    // another target size is another cache entry
    const resized = await loadImageFolder(dir, { cacheDir, onError: 'skip', height: 2, width: 2 });
    expect(resized.loadInfo?.cacheHit).toBe(false);

    // rewrite one file with other content and a new mtime
    await writePng(join(dir, 'x', '3.png'), randomBytes(4 * 4 * 3, 999), 4, 4);
    const t = new Date(Date.now() + 5000);
    await utimes(join(dir, 'x', '3.png'), t, t);
    const third = await loadImageFolder(dir, { cacheDir, onError: 'skip' });
    expect(third.loadInfo?.cacheHit).toBe(false);
    expect(Array.from(third.pixels.subarray(3 * 48, 4 * 48))).toEqual(Array.from(randomBytes(48, 999)));
  });
});

describe('list files', () => {
  it('parses DeepHash-pytorch lines into multi-hot labels, paths relative to the root', async () => {
    const dir = join(root, 'list');
    await mkdir(join(dir, 'img'), { recursive: true });
    for (let i = 0; i < 4; i++) await writePng(join(dir, 'img', `${i}.png`), randomBytes(3 * 3 * 3, 40 + i), 3, 3);
    await writeFile(join(dir, 'train.txt'), 'img/2.png 1 0 1\nimg/0.png 0 1 0\n\n');
    await writeFile(join(dir, 'test.txt'), 'img/1.png 1 1 1\r\n');
    await writeFile(join(dir, 'db.txt'), 'img/3.png 0 0 1\nimg/2.png 1 0 1\nimg/0.png 0 1 0\n');

    expect((await readListFile(join(dir, 'train.txt'))).map((e) => e.path)).toEqual(['img/2.png', 'img/0.png']);
    const ds = await loadListFile(join(dir, 'train.txt'), dir, { classNames: ['a', 'b', 'c'] });
    expect(ds.sources).toEqual(['img/2.png', 'img/0.png']);
    expect(ds.classNames).toEqual(['a', 'b', 'c']);
    expect(Array.from(ds.labels)).toEqual([1, 0, 1, 0, 1, 0]);
    expect(Array.from(ds.pixels.subarray(0, 27))).toEqual(Array.from(randomBytes(27, 42)));
    expect(ds.name).toBe('train');

    const all = await loadListFiles(
      { train: join(dir, 'train.txt'), query: join(dir, 'test.txt'), database: join(dir, 'db.txt') },
      dir,
    );
    expect(all.size).toBe(4);
    expect(all.sources).toEqual(['img/2.png', 'img/0.png', 'img/1.png', 'img/3.png']);
    expect(all.classNames).toEqual(['class_0', 'class_1', 'class_2']);
    expect(Array.from(all.lists?.train ?? [])).toEqual([0, 1]);
    expect(Array.from(all.lists?.query ?? [])).toEqual([2]);
    expect(Array.from(all.lists?.database ?? [])).toEqual([0, 1, 3]);
  });

  it('rejects bad label columns, names missing list files and missing images', async () => {
    const dir = join(root, 'list-bad');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'ragged.txt'), 'a.png 0 1\nb.png 1\n');
    await writeFile(join(dir, 'nonbinary.txt'), 'a.png 0 2\n');
    await writeFile(join(dir, 'missing-img.txt'), 'nothere.png 0 1\n');
    await expect(readListFile(join(dir, 'ragged.txt'))).rejects.toThrow(/ragged\.txt:2: 1 labels, expected 2/);
    await expect(readListFile(join(dir, 'nonbinary.txt'))).rejects.toThrow(/nonbinary\.txt:1: label "2"/);
    await expect(loadListFile(join(dir, 'nope.txt'), dir)).rejects.toThrow(join(dir, 'nope.txt'));
    await expect(loadListFile(join(dir, 'missing-img.txt'), dir)).rejects.toThrow(join(dir, 'nothere.png'));
    const skipped = await loadListFile(join(dir, 'missing-img.txt'), dir, { onError: 'skip', height: 2, width: 2 });
    expect([skipped.size, skipped.skipped]).toEqual([0, 1]);
  });
});

describe('loadCifar10Jpeg', () => {
  it('loads train then test into one dataset and records the test indices', async () => {
    const dir = join(root, 'cifar-jpg');
    for (const part of ['train', 'test']) {
      for (const cls of ['cat', 'airplane']) {
        await mkdir(join(dir, part, cls), { recursive: true });
        const n = part === 'train' ? 3 : 2;
        for (let i = 0; i < n; i++) await writeSolidJpeg(join(dir, part, cls, `000${i}.jpg`), [i * 50, 0, 0], 32, 32);
      }
    }
    const ds = await loadCifar10Jpeg(dir, { cacheDir: join(root, 'cache-cifar') });
    expect(ds.size).toBe(10);
    expect(ds.classNames).toEqual(['airplane', 'cat']);
    expect(ds.sources.slice(0, 4)).toEqual([
      'train/airplane/0000.jpg',
      'train/airplane/0001.jpg',
      'train/airplane/0002.jpg',
      'train/cat/0000.jpg',
    ]);
    expect(ds.sources[6]).toBe('test/airplane/0000.jpg');
    expect(Array.from(ds.testIndices ?? [])).toEqual([6, 7, 8, 9]);
    expect(ds.loadInfo?.decoded).toBe(10);
    const again = await loadCifar10Jpeg(dir, { cacheDir: join(root, 'cache-cifar') });
    expect(again.loadInfo).toMatchObject({ cacheHit: true, decoded: 0 });
    expect(Array.from(again.pixels)).toEqual(Array.from(ds.pixels));
  });

  it('concatDatasets refuses mismatched shapes', () => {
    const mk = (h: number) => ({
      name: `d${h}`,
      size: 1,
      height: h,
      width: 1,
      channels: 1,
      classNames: ['a'],
      pixels: new Uint8Array(h),
      labels: new Uint8Array([1]),
      sources: ['x'],
    });
    expect(() => concatDatasets('c', [mk(1), mk(2)])).toThrow(/d2 is 2x1x1/);
  });
});

describe('loadCifarBinary', () => {
  it('reads 3073-byte records, converts CHW to HWC, marks test_batch as test', async () => {
    const dir = join(root, 'cifar-bin', 'cifar-10-batches-bin');
    await mkdir(dir, { recursive: true });
    const records: Uint8Array[] = [];
    const files = ['data_batch_1', 'data_batch_2', 'data_batch_3', 'data_batch_4', 'data_batch_5', 'test_batch'];
    for (let f = 0; f < files.length; f++) {
      const buf = new Uint8Array(2 * 3073);
      for (let r = 0; r < 2; r++) {
        const rec = randomBytes(3073, 1000 + f * 10 + r);
        rec[0] = (f * 2 + r) % 10;
        records.push(rec);
        buf.set(rec, r * 3073);
      }
      await writeFile(join(dir, `${files[f]}.bin`), buf);
    }
    const ds = await loadCifarBinary(join(root, 'cifar-bin'));
    expect([ds.size, ds.height, ds.width, ds.channels]).toEqual([12, 32, 32, 3]);
    expect(ds.classNames[0]).toBe('airplane');
    expect(Array.from(ds.testIndices ?? [])).toEqual([10, 11]);
    expect(ds.sources[3]).toBe('data_batch_2.bin#1');
    for (let i = 0; i < 12; i++) {
      const rec = records[i];
      expect(ds.labels[i * 10 + rec[0]]).toBe(1);
      expect(ds.labels.subarray(i * 10, i * 10 + 10).reduce((a, b) => a + b, 0)).toBe(1);
      for (const [y, x] of [
        [0, 0],
        [0, 31],
        [5, 7],
        [31, 0],
        [31, 31],
      ]) {
        for (let c = 0; c < 3; c++) {
          expect(ds.pixels[i * 3072 + (y * 32 + x) * 3 + c]).toBe(rec[1 + c * 1024 + y * 32 + x]);
        }
      }
    }
  });

  it('names a missing batch file and rejects a bad length', async () => {
    const dir = join(root, 'cifar-bin-bad');
    await mkdir(dir, { recursive: true });
    await expect(loadCifarBinary(dir)).rejects.toThrow(join(dir, 'data_batch_1.bin'));
    for (let i = 1; i <= 5; i++) await writeFile(join(dir, `data_batch_${i}.bin`), new Uint8Array(3073));
    await writeFile(join(dir, 'test_batch.bin'), new Uint8Array(3000));
    await expect(loadCifarBinary(dir)).rejects.toThrow(/test_batch\.bin: 3000 bytes/);
  });
});

describe('loadIdx', () => {
  function idx(n: number, h: number, w: number, seed: number) {
    const images = new Uint8Array(16 + n * h * w);
    const dv = new DataView(images.buffer);
    dv.setUint32(0, 0x803);
    dv.setUint32(4, n);
    dv.setUint32(8, h);
    dv.setUint32(12, w);
    images.set(randomBytes(n * h * w, seed), 16);
    const labels = new Uint8Array(8 + n);
    const lv = new DataView(labels.buffer);
    lv.setUint32(0, 0x801);
    lv.setUint32(4, n);
    for (let i = 0; i < n; i++) labels[8 + i] = (i * 3) % 10;
    return { images, labels };
  }

  it('reads raw and gzipped IDX files', async () => {
    const dir = join(root, 'idx');
    await mkdir(dir, { recursive: true });
    const { images, labels } = idx(5, 3, 4, 7);
    await writeFile(join(dir, 'train-images-idx3-ubyte'), images);
    await writeFile(join(dir, 'train-labels-idx1-ubyte'), labels);
    await writeFile(join(dir, 'train-images-idx3-ubyte.gz'), gzipSync(images));
    await writeFile(join(dir, 'train-labels-idx1-ubyte.gz'), gzipSync(labels));
    const raw = await loadIdx(join(dir, 'train-images-idx3-ubyte'), join(dir, 'train-labels-idx1-ubyte'));
    const gz = await loadIdx(join(dir, 'train-images-idx3-ubyte.gz'), join(dir, 'train-labels-idx1-ubyte.gz'));
    for (const ds of [raw, gz]) {
      expect([ds.size, ds.height, ds.width, ds.channels, ds.classNames.length]).toEqual([5, 3, 4, 1, 10]);
      expect(Array.from(ds.pixels)).toEqual(Array.from(images.subarray(16)));
      for (let i = 0; i < 5; i++) expect(ds.labels[i * 10 + ((i * 3) % 10)]).toBe(1);
      expect(ds.name).toBe('train');
      expect(ds.sources[2]).toMatch(/#2$/);
    }
  });

  it('rejects wrong magic, count mismatch, names a missing file', async () => {
    const dir = join(root, 'idx-bad');
    await mkdir(dir, { recursive: true });
    const { images, labels } = idx(4, 2, 2, 8);
    const other = idx(3, 2, 2, 9);
    await writeFile(join(dir, 'img'), images);
    await writeFile(join(dir, 'lab'), labels);
    await writeFile(join(dir, 'lab3'), other.labels);
    await expect(loadIdx(join(dir, 'lab'), join(dir, 'lab'))).rejects.toThrow(/magic 0x00000803/);
    await expect(loadIdx(join(dir, 'img'), join(dir, 'lab3'))).rejects.toThrow(/4 images but .* 3 labels/);
    await expect(loadIdx(join(dir, 'img'), join(dir, 'missing'))).rejects.toThrow(join(dir, 'missing'));
  });
});
