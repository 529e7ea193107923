/** Dataset loaders: image folders, DeepHash-pytorch list files, CIFAR-10 binary and JPEG, MNIST-style IDX. */
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DataError } from '../errors.js';
import { decodeImages } from './decode.js';
import type { ImageDataset, LoadOptions } from './types.js';

export const CIFAR10_CLASSES: readonly string[] = [
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
];

export const IMAGE_EXTENSIONS: readonly string[] = ['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff'];

async function requirePath(path: string, what: string, kind: 'dir' | 'file'): Promise<void> {
  let s: Awaited<ReturnType<typeof stat>>;
  try {
    s = await stat(path);
  } catch {
    throw new DataError(`${what} not found: ${path}`);
  }
  if (kind === 'dir' && !s.isDirectory()) throw new DataError(`${what} is not a directory: ${path}`);
  if (kind === 'file' && !s.isFile()) throw new DataError(`${what} is not a file: ${path}`);
}

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

interface Entry {
  /** Source recorded on the dataset (relative path). */
  source: string;
  /** Absolute path to decode. */
  path: string;
  /** Class indices (multi-hot positions). */
  labels: Uint8Array;
}

/** Decodes the entries and assembles a dataset; skipped images are dropped. Returns also the kept entry indices. */
async function datasetFromEntries(
  name: string,
  classNames: readonly string[],
  entries: readonly Entry[],
  opts: LoadOptions,
): Promise<{ dataset: ImageDataset; kept: Int32Array }> {
  const decoded = await decodeImages(
    entries.map((e) => e.path),
    { ...opts, name },
  );
  const k = classNames.length;
  const labels = new Uint8Array(decoded.kept.length * k);
  const sources = new Array<string>(decoded.kept.length);
  for (let j = 0; j < decoded.kept.length; j++) {
    const e = entries[decoded.kept[j]];
    labels.set(e.labels, j * k);
    sources[j] = e.source;
  }
  const dataset: ImageDataset = {
    name,
    size: decoded.kept.length,
    height: decoded.height,
    width: decoded.width,
    channels: decoded.channels,
    classNames,
    pixels: decoded.pixels,
    labels,
    sources,
    skipped: decoded.failed.length,
    skippedSources: decoded.failed.map((f) => `${entries[f.index].source}: ${f.reason}`),
    loadInfo: decoded.info,
  };
  return { dataset, kept: decoded.kept };
}

function oneHot(k: number, c: number): Uint8Array {
  const v = new Uint8Array(k);
  v[c] = 1;
  return v;
}

/** Lists an image folder: one class per subfolder (sorted), image files sorted by name. */
export async function listImageFolder(
  dir: string,
): Promise<{ classNames: string[]; files: { source: string; path: string; classIndex: number }[] }> {
  const root = resolve(dir);
  await requirePath(root, 'Image folder', 'dir');
  const classNames = (await readdir(root, { withFileTypes: true }))
    .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
    .map((d) => d.name)
    .sort(byCodePoint);
  if (classNames.length === 0) throw new DataError(`Image folder has no class subfolders: ${root}`);
  const files: { source: string; path: string; classIndex: number }[] = [];
  for (let c = 0; c < classNames.length; c++) {
    const names = (await readdir(join(root, classNames[c]), { withFileTypes: true }))
      .filter((d) => d.isFile() && !d.name.startsWith('.') && IMAGE_EXTENSIONS.includes(extname(d.name).toLowerCase()))
      .map((d) => d.name)
      .sort(byCodePoint);
    for (const f of names) {
      files.push({ source: `${classNames[c]}/${f}`, path: join(root, classNames[c], f), classIndex: c });
    }
  }
  return { classNames, files };
}

/** Loads an image folder (`dir/<class>/<image>`): class names and files sorted; labels one-hot. */
export async function loadImageFolder(dir: string, opts: LoadOptions = {}): Promise<ImageDataset> {
  const { classNames, files } = await listImageFolder(dir);
  const k = classNames.length;
  const entries = files.map((f) => ({ source: f.source, path: f.path, labels: oneHot(k, f.classIndex) }));
  const { dataset } = await datasetFromEntries(opts.name ?? basename(resolve(dir)), classNames, entries, opts);
  return dataset;
}

export interface ListEntry {
  path: string;
  labels: Uint8Array;
}

/** Parses a DeepHash-pytorch list file: lines `relative/path.jpg 0 1 0 ... 1`. */
export async function readListFile(listPath: string): Promise<ListEntry[]> {
  await requirePath(listPath, 'List file', 'file');
  const text = await readFile(listPath, 'utf8');
  const out: ListEntry[] = [];
  let width = -1;
  const lines = text.split(/\r?\n/);
  for (let ln = 0; ln < lines.length; ln++) {
    const line = lines[ln].trim();
    if (line === '') continue;
    const parts = line.split(/\s+/);
    const labels = new Uint8Array(parts.length - 1);
    for (let j = 1; j < parts.length; j++) {
      if (parts[j] !== '0' && parts[j] !== '1') {
        throw new DataError(`${listPath}:${ln + 1}: label "${parts[j]}" is not 0 or 1`);
      }
      labels[j - 1] = parts[j] === '1' ? 1 : 0;
    }
    if (width === -1) width = labels.length;
    if (labels.length !== width || width === 0) {
      throw new DataError(`${listPath}:${ln + 1}: ${labels.length} labels, expected ${width || 'at least 1'}`);
    }
    out.push({ path: parts[0], labels });
  }
  if (out.length === 0) throw new DataError(`List file has no entries: ${listPath}`);
  return out;
}

export interface ListLoadOptions extends LoadOptions {
  /** Names for the label columns; default class_0 .. class_{k-1}. */
  classNames?: readonly string[];
}

function defaultClassNames(k: number, given?: readonly string[]): readonly string[] {
  if (given) {
    if (given.length !== k) throw new DataError(`classNames has ${given.length} names, the labels have ${k} columns`);
    return given;
  }
  return Array.from({ length: k }, (_, i) => `class_${i}`);
}

/** Loads the images named by one DeepHash-pytorch list file, paths relative to `root`; labels multi-hot. */
export async function loadListFile(listPath: string, root: string, opts: ListLoadOptions = {}): Promise<ImageDataset> {
  await requirePath(root, 'Image root', 'dir');
  const list = await readListFile(listPath);
  const classNames = defaultClassNames(list[0].labels.length, opts.classNames);
  const entries = list.map((e) => ({ source: e.path, path: resolve(root, e.path), labels: e.labels }));
  const name = opts.name ?? basename(listPath).replace(/\.[^.]*$/, '');
  return (await datasetFromEntries(name, classNames, entries, opts)).dataset;
}

/**
 * Loads several list files (e.g. { train, query, database }) into ONE dataset holding each distinct image
 * once (first appearance order: lists in the given order), and records each list's membership in
 * `dataset.lists` (ascending indices). An image listed twice with different labels is an error.
 */
export async function loadListFiles(
  lists: Readonly<Record<string, string>>,
  root: string,
  opts: ListLoadOptions = {},
): Promise<ImageDataset> {
  await requirePath(root, 'Image root', 'dir');
  const names = Object.keys(lists);
  if (names.length === 0) throw new Error('no list files given');
  const entries: Entry[] = [];
  const byPath = new Map<string, number>();
  const membership: Record<string, number[]> = {};
  let k = -1;
  for (const listName of names) {
    const list = await readListFile(lists[listName]);
    if (k === -1) k = list[0].labels.length;
    if (list[0].labels.length !== k) {
      throw new DataError(`${lists[listName]}: ${list[0].labels.length} label columns, other lists have ${k}`);
    }
    const member: number[] = [];
    for (const e of list) {
      let idx = byPath.get(e.path);
      if (idx === undefined) {
        idx = entries.length;
        byPath.set(e.path, idx);
        entries.push({ source: e.path, path: resolve(root, e.path), labels: e.labels });
      } else if (!entries[idx].labels.every((v, j) => v === e.labels[j])) {
        throw new DataError(`${lists[listName]}: ${e.path} is listed with different labels in another list`);
      }
      member.push(idx);
    }
    membership[listName] = member;
  }
  const classNames = defaultClassNames(k, opts.classNames);
  const { dataset, kept } = await datasetFromEntries(opts.name ?? names.join('+'), classNames, entries, opts);
  // map entry index -> dataset index (skipped images drop out of every list)
  const remap = new Int32Array(entries.length).fill(-1);
  for (let j = 0; j < kept.length; j++) remap[kept[j]] = j;
  const out: Record<string, Int32Array> = {};
  for (const listName of names) {
    const idx = Array.from(new Set(membership[listName].map((i) => remap[i]).filter((i) => i >= 0)));
    out[listName] = Int32Array.from(idx).sort();
  }
  return { ...dataset, lists: out };
}

/** Concatenates datasets of equal size, channels and classes; testIndices and lists are offset. */
export function concatDatasets(name: string, parts: readonly ImageDataset[]): ImageDataset {
  if (parts.length === 0) throw new Error('concatDatasets: no datasets');
  const a = parts[0];
  for (const p of parts) {
    if (p.height !== a.height || p.width !== a.width || p.channels !== a.channels) {
      throw new Error(
        `concatDatasets: ${p.name} is ${p.height}x${p.width}x${p.channels}, ${a.name} is ${a.height}x${a.width}x${a.channels}`,
      );
    }
    if (p.classNames.length !== a.classNames.length || p.classNames.some((c, i) => c !== a.classNames[i])) {
      throw new Error(`concatDatasets: ${p.name} has classes [${p.classNames}], ${a.name} has [${a.classNames}]`);
    }
  }
  const size = parts.reduce((s, p) => s + p.size, 0);
  const pixels = new Uint8Array(parts.reduce((s, p) => s + p.pixels.length, 0));
  const labels = new Uint8Array(size * a.classNames.length);
  const sources: string[] = [];
  const test: number[] = [];
  let offset = 0;
  let pOff = 0;
  for (const p of parts) {
    pixels.set(p.pixels, pOff);
    labels.set(p.labels, offset * a.classNames.length);
    for (const s of p.sources) sources.push(s);
    if (p.testIndices) for (const t of p.testIndices) test.push(t + offset);
    pOff += p.pixels.length;
    offset += p.size;
  }
  const skipped = parts.reduce((s, p) => s + (p.skipped ?? 0), 0);
  return {
    name,
    size,
    height: a.height,
    width: a.width,
    channels: a.channels,
    classNames: a.classNames,
    pixels,
    labels,
    sources,
    skipped,
    skippedSources: parts.flatMap((p) => p.skippedSources ?? []),
    ...(test.length > 0 ? { testIndices: Int32Array.from(test) } : {}),
  };
}

/**
 * Loads CIFAR-10 as JPEG folders `root/train/<class>/*.jpg` then `root/test/<class>/*.jpg` into one
 * dataset (train first; class-sorted, file-sorted), recording the test images in `testIndices`.
 * Sources are prefixed `train/` or `test/`. Both parts share one decode and one cache entry.
 */
export async function loadCifar10Jpeg(root: string, opts: LoadOptions = {}): Promise<ImageDataset> {
  await requirePath(root, 'CIFAR-10 JPEG root', 'dir');
  const train = await listImageFolder(join(root, 'train'));
  const test = await listImageFolder(join(root, 'test'));
  if (train.classNames.join('/') !== test.classNames.join('/')) {
    throw new Error(`CIFAR-10 train classes [${train.classNames}] differ from test classes [${test.classNames}]`);
  }
  const k = train.classNames.length;
  // one decode (and one cache file) for both parts: no 184 MB concatenation copy
  const entries: Entry[] = [];
  for (const [part, list] of [
    ['train', train],
    ['test', test],
  ] as const) {
    for (const f of list.files) {
      entries.push({ source: `${part}/${f.source}`, path: f.path, labels: oneHot(k, f.classIndex) });
    }
  }
  const { dataset, kept } = await datasetFromEntries(opts.name ?? 'cifar10', train.classNames, entries, opts);
  const testIndices: number[] = [];
  for (let j = 0; j < kept.length; j++) if (kept[j] >= train.files.length) testIndices.push(j);
  return { ...dataset, testIndices: Int32Array.from(testIndices) };
}

const CIFAR_RECORD = 3073;

/**
 * Loads the CIFAR-10 binary version: data_batch_1..5.bin then test_batch.bin (in `dir` or
 * `dir/cifar-10-batches-bin`), records of 1 label byte + 1024 R + 1024 G + 1024 B (CHW, converted to
 * HWC). The test_batch images are recorded in `testIndices`. Class names from batches.meta.txt if present.
 */
export async function loadCifarBinary(dir: string, opts: { name?: string } = {}): Promise<ImageDataset> {
  await requirePath(dir, 'CIFAR binary folder', 'dir');
  const base = existsSync(join(dir, 'cifar-10-batches-bin', 'data_batch_1.bin'))
    ? join(dir, 'cifar-10-batches-bin')
    : dir;
  const files = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'];
  files.push('test_batch.bin');
  const buffers: Buffer[] = [];
  for (const f of files) {
    const p = join(base, f);
    await requirePath(p, 'CIFAR batch file', 'file');
    const buf = await readFile(p);
    if (buf.byteLength % CIFAR_RECORD !== 0) {
      throw new Error(`${p}: ${buf.byteLength} bytes is not a multiple of the ${CIFAR_RECORD}-byte record`);
    }
    buffers.push(buf);
  }
  let classNames = CIFAR10_CLASSES;
  const metaPath = join(base, 'batches.meta.txt');
  if (existsSync(metaPath)) {
    const names = (await readFile(metaPath, 'utf8'))
      .split(/\r?\n/)
      .map((s) => s.trim())
      .filter(Boolean);
    if (names.length > 0) classNames = names;
  }
  const k = classNames.length;
  const size = buffers.reduce((s, b) => s + b.byteLength / CIFAR_RECORD, 0);
  const pixels = new Uint8Array(size * 3072);
  const labels = new Uint8Array(size * k);
  const sources: string[] = new Array(size);
  const testStart = size - buffers[buffers.length - 1].byteLength / CIFAR_RECORD;
  let i = 0;
  for (let b = 0; b < buffers.length; b++) {
    const buf = buffers[b];
    const n = buf.byteLength / CIFAR_RECORD;
    for (let r = 0; r < n; r++, i++) {
      const rec = r * CIFAR_RECORD;
      const label = buf[rec];
      if (label >= k) throw new Error(`${join(base, files[b])}#${r}: label ${label} >= ${k} classes`);
      labels[i * k + label] = 1;
      const o = i * 3072;
      for (let p = 0; p < 1024; p++) {
        pixels[o + p * 3] = buf[rec + 1 + p];
        pixels[o + p * 3 + 1] = buf[rec + 1025 + p];
        pixels[o + p * 3 + 2] = buf[rec + 2049 + p];
      }
      sources[i] = `${files[b]}#${r}`;
    }
  }
  return {
    name: opts.name ?? 'cifar10',
    size,
    height: 32,
    width: 32,
    channels: 3,
    classNames,
    pixels,
    labels,
    sources,
    testIndices: Int32Array.from({ length: size - testStart }, (_, j) => testStart + j),
  };
}

async function readMaybeGzip(path: string, what: string): Promise<Buffer> {
  await requirePath(path, what, 'file');
  const raw = await readFile(path);
  return raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw;
}

/** Loads an MNIST / Fashion-MNIST IDX pair (images ubyte rank 3, labels ubyte rank 1), gzipped or raw. */
export async function loadIdx(
  imagesPath: string,
  labelsPath: string,
  opts: { name?: string; classNames?: readonly string[] } = {},
): Promise<ImageDataset> {
  const img = await readMaybeGzip(imagesPath, 'IDX images file');
  const lab = await readMaybeGzip(labelsPath, 'IDX labels file');
  if (img.length < 16 || img.readUInt32BE(0) !== 0x00000803) {
    throw new Error(`${imagesPath}: not an IDX ubyte rank-3 image file (magic 0x00000803)`);
  }
  if (lab.length < 8 || lab.readUInt32BE(0) !== 0x00000801) {
    throw new Error(`${labelsPath}: not an IDX ubyte rank-1 label file (magic 0x00000801)`);
  }
  const n = img.readUInt32BE(4);
  const height = img.readUInt32BE(8);
  const width = img.readUInt32BE(12);
  const nl = lab.readUInt32BE(4);
  if (nl !== n) throw new Error(`${imagesPath} has ${n} images but ${labelsPath} has ${nl} labels`);
  if (img.length < 16 + n * height * width) throw new Error(`${imagesPath}: truncated (${img.length} bytes)`);
  if (lab.length < 8 + n) throw new Error(`${labelsPath}: truncated (${lab.length} bytes)`);
  let maxLabel = 0;
  for (let i = 0; i < n; i++) maxLabel = Math.max(maxLabel, lab[8 + i]);
  const classNames = opts.classNames ?? Array.from({ length: Math.max(10, maxLabel + 1) }, (_, i) => String(i));
  const k = classNames.length;
  if (maxLabel >= k) throw new Error(`${labelsPath}: label ${maxLabel} >= ${k} class names`);
  const labels = new Uint8Array(n * k);
  for (let i = 0; i < n; i++) labels[i * k + lab[8 + i]] = 1;
  const pixels = new Uint8Array(n * height * width);
  pixels.set(img.subarray(16, 16 + n * height * width));
  const file = basename(imagesPath);
  return {
    name: opts.name ?? file.replace(/(\.gz)?$/, '').replace(/(-images)?-idx3-ubyte$/, ''),
    size: n,
    height,
    width,
    channels: 1,
    classNames,
    pixels,
    labels,
    sources: Array.from({ length: n }, (_, i) => `${file}#${i}`),
  };
}
