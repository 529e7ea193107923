// Collections stored as fixed-size records: CIFAR-10 binary batches and MNIST-style IDX files. Records
// are read in chunks from disk (gzip files through a decompressing stream), never the whole file.
import { createReadStream, existsSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { createGunzip } from 'node:zlib';
import { CIFAR10_CLASSES } from '../data/loaders.js';
import { gunzipFile, readMaybeGzipHead } from './gzip.js';
import { type Collection, CollectionError, type CollectionItem, type RawPixels, type SourceResolver } from './types.js';

/** One file of records: `count` records of `recordBytes` after `headerBytes`. */
interface RecordFile {
  file: string;
  name: string;
  headerBytes: number;
  recordBytes: number;
  count: number;
  gzip: boolean;
}

const CHUNK_RECORDS = 512;

/** Records from `start` on, as views into chunk buffers (valid until the next chunk is read). */
async function* readRecords(part: RecordFile, start: number): AsyncIterable<{ index: number; record: Uint8Array }> {
  const { recordBytes, headerBytes } = part;
  const first = headerBytes + start * recordBytes;
  const stream = part.gzip
    ? createReadStream(part.file).pipe(createGunzip())
    : createReadStream(part.file, { start: first, highWaterMark: CHUNK_RECORDS * recordBytes });
  let skip = part.gzip ? first : 0;
  let pending: Buffer = Buffer.alloc(0);
  let index = start;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let data = chunk;
    if (skip > 0) {
      const dropped = Math.min(skip, data.length);
      skip -= dropped;
      data = data.subarray(dropped);
    }
    pending = pending.length === 0 ? data : Buffer.concat([pending, data]);
    let offset = 0;
    while (offset + recordBytes <= pending.length && index < part.count) {
      yield { index: index++, record: pending.subarray(offset, offset + recordBytes) };
      offset += recordBytes;
    }
    pending = pending.subarray(offset);
  }
  if (index < part.count) throw new CollectionError(`${part.file}: truncated after ${index} of ${part.count} records`);
}

/** One record by index: a positioned read (a gzip file is decompressed once and kept). */
function recordReader(part: RecordFile): (index: number) => Promise<Uint8Array> {
  let whole: Promise<Buffer> | undefined;
  return async (index) => {
    if (!Number.isInteger(index) || index < 0 || index >= part.count) {
      throw new CollectionError(`${part.file}: no record ${index} (it has ${part.count})`);
    }
    const at = part.headerBytes + index * part.recordBytes;
    if (part.gzip) {
      whole ??= gunzipFile(part.file);
      return (await whole).subarray(at, at + part.recordBytes);
    }
    const handle = await open(part.file, 'r');
    try {
      const out = new Uint8Array(part.recordBytes);
      await handle.read(out, 0, out.length, at);
      return out;
    } finally {
      await handle.close();
    }
  };
}

function recordCollection(
  description: string,
  parts: RecordFile[],
  item: (part: RecordFile, index: number, record: Uint8Array) => Omit<CollectionItem, 'source'>,
): Collection {
  const size = parts.reduce((n, p) => n + p.count, 0);
  return {
    description,
    size,
    async *items(start) {
      let before = 0;
      for (const part of parts) {
        if (start < before + part.count) {
          for await (const { index, record } of readRecords(part, Math.max(0, start - before))) {
            yield { source: `${part.name}#${index}`, ...item(part, index, record.slice()) };
          }
        }
        before += part.count;
      }
    },
  };
}

function resolverFor(parts: RecordFile[], toPixels: (record: Uint8Array) => RawPixels): SourceResolver {
  const readers = new Map(parts.map((p) => [p.name, recordReader(p)]));
  return (source) => {
    const match = /^(.+)#(\d+)$/.exec(source);
    const read = match ? readers.get(match[1]) : undefined;
    if (!match || !read) throw new CollectionError(`${source}: not a record of ${parts.map((p) => p.name).join(', ')}`);
    return async () => toPixels(await read(Number(match[2])));
  };
}

// CIFAR-10 binary: 1 label byte, then 1024 R, 1024 G, 1024 B (planar 32x32).
const CIFAR_RECORD = 3073;
const CIFAR_FILES = [
  'data_batch_1.bin',
  'data_batch_2.bin',
  'data_batch_3.bin',
  'data_batch_4.bin',
  'data_batch_5.bin',
  'test_batch.bin',
];

function cifarPixels(record: Uint8Array): RawPixels {
  const pixels = new Uint8Array(3072);
  for (let p = 0; p < 1024; p++) {
    pixels[p * 3] = record[1 + p];
    pixels[p * 3 + 1] = record[1025 + p];
    pixels[p * 3 + 2] = record[2049 + p];
  }
  return { pixels, width: 32, height: 32, channels: 3 };
}

async function cifarParts(location: string): Promise<RecordFile[]> {
  const info = await stat(location).catch(() => null);
  if (!info) throw new CollectionError(`${location}: CIFAR-10 binary batch file or folder not found`);
  let files: string[];
  if (info.isFile()) files = [location];
  else {
    const base = existsSync(path.join(location, 'cifar-10-batches-bin'))
      ? path.join(location, 'cifar-10-batches-bin')
      : location;
    files = CIFAR_FILES.map((f) => path.join(base, f)).filter((f) => existsSync(f));
    if (files.length === 0)
      throw new CollectionError(`${location}: no CIFAR-10 batch files (${CIFAR_FILES.join(', ')})`);
  }
  return Promise.all(
    files.map(async (file) => {
      const bytes = (await stat(file)).size;
      if (bytes % CIFAR_RECORD !== 0) {
        throw new CollectionError(`${file}: ${bytes} bytes is not a multiple of the ${CIFAR_RECORD}-byte CIFAR record`);
      }
      return {
        file,
        name: path.basename(file),
        headerBytes: 0,
        recordBytes: CIFAR_RECORD,
        count: bytes / CIFAR_RECORD,
        gzip: false,
      };
    }),
  );
}

/** CIFAR-10 binary: one batch file, or a folder with data_batch_1..5.bin and test_batch.bin. */
export async function cifar10Binary(location: string): Promise<Collection> {
  const parts = await cifarParts(location);
  return recordCollection(`CIFAR-10 binary ${location}`, parts, (part, index, record) => {
    const label = CIFAR10_CLASSES[record[0]];
    if (label === undefined)
      throw new CollectionError(`${part.file}#${index}: label ${record[0]} is not a CIFAR-10 class`);
    return { labels: [label], load: async () => cifarPixels(record) };
  });
}

export async function cifar10BinaryResolver(location: string): Promise<SourceResolver> {
  return resolverFor(await cifarParts(location), cifarPixels);
}

// IDX (MNIST, Fashion-MNIST): magic 0x00000803, count, rows, cols (big-endian u32), then bytes.
async function idxPart(file: string): Promise<RecordFile & { rows: number; cols: number }> {
  const { head, gzip } = await readMaybeGzipHead(file, 16).catch((error: NodeJS.ErrnoException) => {
    throw new CollectionError(`${file}: IDX images file ${error.code === 'ENOENT' ? 'not found' : error.message}`);
  });
  const view = Buffer.from(head);
  if (head.length < 16 || view.readUInt32BE(0) !== 0x00000803) {
    throw new CollectionError(`${file}: not an IDX ubyte rank-3 image file (magic 0x00000803)`);
  }
  const rows = view.readUInt32BE(8);
  const cols = view.readUInt32BE(12);
  return {
    file,
    name: path.basename(file),
    headerBytes: 16,
    recordBytes: rows * cols,
    count: view.readUInt32BE(4),
    gzip,
    rows,
    cols,
  };
}

async function idxLabels(file: string, count: number): Promise<Uint8Array> {
  const bytes = await gunzipFile(file).catch((error: NodeJS.ErrnoException) => {
    throw new CollectionError(`${file}: IDX labels file ${error.code === 'ENOENT' ? 'not found' : error.message}`);
  });
  if (bytes.length < 8 || bytes.readUInt32BE(0) !== 0x00000801) {
    throw new CollectionError(`${file}: not an IDX ubyte rank-1 label file (magic 0x00000801)`);
  }
  if (bytes.readUInt32BE(4) !== count || bytes.length < 8 + count) {
    throw new CollectionError(`${file}: ${bytes.readUInt32BE(4)} labels for ${count} images`);
  }
  return bytes.subarray(8, 8 + count);
}

/** An IDX image file (raw or gzip), with an optional IDX label file (labels are class indices). */
export async function idxImages(imagesFile: string, labelsFile?: string): Promise<Collection> {
  const part = await idxPart(imagesFile);
  const labels = labelsFile ? await idxLabels(labelsFile, part.count) : undefined;
  const { rows, cols } = part;
  return recordCollection(`IDX ${imagesFile}`, [part], (_, index, record) => ({
    labels: labels ? [String(labels[index])] : undefined,
    load: async () => ({ pixels: record, width: cols, height: rows, channels: 1 }),
  }));
}

export async function idxResolver(imagesFile: string): Promise<SourceResolver> {
  const part = await idxPart(imagesFile);
  return resolverFor([part], (record) => ({ pixels: record, width: part.cols, height: part.rows, channels: 1 }));
}
