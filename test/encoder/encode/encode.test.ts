// The batch encoder on small generated collections, with a real ONNX model in onnxruntime-node: every
// source kind, shard layout and metadata, codes equal to hashing each image alone, re-runs, bad images.

import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCollection, type SourceSpec } from '../../../encoder/collection/spec.js';
import type { Collection } from '../../../encoder/collection/types.js';
import { toModelPixels } from '../../../encoder/encode/decodeImage.js';
import { type EncodeEvent, runEncodeJob } from '../../../encoder/encode/encodeJob.js';
import type { EncodeJob } from '../../../encoder/encode/job.js';
import { LOCK_FILE } from '../../../encoder/encode/jobLock.js';
import { OnnxHasher } from '../../../encoder/hash/onnxHasher.js';
import { loadShard } from '../../../encoder/publish/shardFiles.js';
import { tempDir } from '../publish/fixtures.js';
import { BITS, writeCifarBatch, writeIdx, writeImageFolder, writeModel } from './support.js';

const dir = tempDir('encode');
const model = writeModel(path.join(dir, 'model'));
let hasher: OnnxHasher;
let server: Server;
let baseUrl: string;

beforeAll(async () => {
  hasher = await OnnxHasher.create(model.bytes, model.modelCard, { intraOpNumThreads: 1 });
  await writeImageFolder(path.join(dir, 'folder'), ['cat', 'dog'], 6);
  server = createServer((request, response) => {
    if (request.url === '/cat.png') response.end(readFileSync(path.join(dir, 'folder/cat/00.png')));
    else response.writeHead(404).end('not here');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await hasher.release();
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

async function encode(source: SourceSpec, out: string, options: Partial<Parameters<typeof runEncodeJob>[0]> = {}) {
  const events: EncodeEvent[] = [];
  const job = await runEncodeJob({
    dir: path.join(dir, out),
    source,
    collection: await openCollection(source),
    model,
    shardSize: 5,
    batchSize: 3,
    threads: 1,
    onProgress: (e) => events.push(e),
    ...options,
  });
  return { job, events };
}

interface Encoded {
  id: number;
  code: string;
  source: string;
  labels?: string[];
  thumbnail?: string;
}

/** Every item of a job: id, code (hex) and metadata, in shard order. */
async function itemsOf(job: EncodeJob, out: string): Promise<Encoded[]> {
  const items: Encoded[] = [];
  for (const shard of job.shards) {
    const table = await loadShard(readFileSync(path.join(dir, out, shard.table)), shard.table);
    const codes = table.codes();
    const lines = readFileSync(path.join(dir, out, shard.metadata), 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean);
    expect(lines).toHaveLength(table.count);
    lines.forEach((line, i) => {
      const meta = JSON.parse(line);
      expect(meta.id).toBe(table.idAt(i));
      items.push({ ...meta, code: Buffer.from(codes.subarray(i * 4, i * 4 + 4)).toString('hex') });
    });
  }
  return items;
}

/** The code of one image hashed on its own (batch of one). */
async function codeAlone(image: Parameters<typeof toModelPixels>[0]): Promise<string> {
  const pixels = await toModelPixels(image, model.modelCard.input);
  return Buffer.from(await hasher.hashPixels(pixels, 1)).toString('hex');
}

describe('edgehash encode (in process)', () => {
  it('encodes an image folder into shards of S positions with metadata and thumbnails', async () => {
    const source: SourceSpec = { kind: 'folder', path: path.join(dir, 'folder') };
    const { job, events } = await encode(source, 'folder-job', { thumbnails: true, firstId: 1000 });
    expect(job.done).toBe(true);
    expect(job.total).toBe(12);
    expect(job.shards.map((s) => [s.count, s.start, s.items])).toEqual([
      [5, 0, 5],
      [5, 5, 5],
      [2, 10, 2],
    ]);
    const items = await itemsOf(job, 'folder-job');
    expect(items.map((i) => i.id)).toEqual(Array.from({ length: 12 }, (_, i) => 1000 + i));
    expect(items[7]).toMatchObject({ source: 'dog/01.jpg', labels: ['dog'], thumbnail: '/v1/items/1007/thumbnail' });
    for (const item of [items[0], items[7], items[11]]) {
      expect(item.code).toBe(await codeAlone(readFileSync(path.join(dir, 'folder', item.source))));
    }
    expect(readdirSync(path.join(dir, 'folder-job/thumbnails/000001')).sort()).toEqual(
      ['1005.jpg', '1006.jpg', '1007.jpg', '1008.jpg', '1009.jpg'].sort(),
    );
    expect(events.filter((e) => e.event === 'shard')).toHaveLength(3);
    expect(events.at(-1)).toEqual({ event: 'done', shards: 3, count: 12, skipped: 0, total: 12 });
    expect(job.model).toMatchObject({ id: 'enc-test', checksum: model.checksum, bits: BITS });
  });

  it('hashes on several threads with batches in flight, writing the same shards in the same order', async () => {
    const source: SourceSpec = { kind: 'folder', path: path.join(dir, 'folder') };
    const one = await encode(source, 'threads-1', { batchSize: 2, threads: 1 });
    const three = await encode(source, 'threads-3', { batchSize: 2, threads: 3 });
    expect(three.job.shards.map((s) => s.checksum)).toEqual(one.job.shards.map((s) => s.checksum));
    const items = await itemsOf(three.job, 'threads-3');
    expect(items.map((i) => i.source)).toEqual((await itemsOf(one.job, 'threads-1')).map((i) => i.source));
    for (const item of [items[0], items[5], items[11]]) {
      expect(item.code).toBe(await codeAlone(readFileSync(path.join(dir, 'folder', item.source))));
    }
  });

  it('leaves a finished job unchanged when re-run, and refuses a different job in the same folder', async () => {
    const source: SourceSpec = { kind: 'folder', path: path.join(dir, 'folder') };
    const first = await encode(source, 'rerun-job');
    const out = path.join(dir, 'rerun-job');
    const snapshot = () =>
      ['job.json', 'shards/000000.ehct', 'shards/000002.jsonl'].map((f) => [
        readFileSync(path.join(out, f), 'hex'),
        statSync(path.join(out, f)).mtimeMs,
      ]);
    const before = snapshot();
    const again = await encode(source, 'rerun-job');
    expect(again.job).toEqual(first.job);
    expect(again.events).toEqual([]);
    expect(snapshot()).toEqual(before);
    await expect(encode(source, 'rerun-job', { shardSize: 4 })).rejects.toThrow(
      /holds a different encode job \(shardSize/,
    );
  });

  it('resumes where a stopped job left off, and refuses to when items were added before that point', async () => {
    const folder = path.join(dir, 'growing');
    await writeImageFolder(folder, ['cat', 'dog'], 6);
    const source: SourceSpec = { kind: 'folder', path: folder };
    const { job } = await encode(source, 'growing-job');
    expect(job.shards[0].lastSource).toBe('cat/04.png');
    const jobFile = path.join(dir, 'growing-job', 'job.json');
    // As a kill after the first shard leaves it.
    const stopped = JSON.stringify({ ...job, shards: job.shards.slice(0, 1), done: false, total: undefined });
    writeFileSync(jobFile, stopped);
    const resumed = await encode(source, 'growing-job');
    expect(resumed.events[0]).toEqual({ event: 'resume', shards: 1, position: 5 });
    expect(resumed.job).toEqual(job);

    writeFileSync(jobFile, stopped);
    writeFileSync(path.join(folder, 'cat/00a.png'), readFileSync(path.join(folder, 'cat/00.png')));
    await expect(encode(source, 'growing-job')).rejects.toThrow(
      `${path.join(dir, 'growing-job')}: ${(await openCollection(source)).description} changed since this job started ` +
        '(position 4 was cat/04.png, now cat/03.jpg); encode it into a new --out folder',
    );
  });

  it('refuses a folder another running encode holds, and takes over the lock of one that was killed', async () => {
    const source: SourceSpec = { kind: 'folder', path: path.join(dir, 'folder') };
    const out = path.join(dir, 'locked-job');
    const lock = path.join(out, LOCK_FILE);
    mkdirSync(out, { recursive: true });
    const running = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      writeFileSync(lock, JSON.stringify({ host: hostname(), pid: running.pid }));
      await expect(encode(source, 'locked-job')).rejects.toThrow(
        `${out}: another encode (pid ${running.pid} on ${hostname()}) is running on this folder; wait for it, ` +
          `or delete ${lock} if it is not running`,
      );
    } finally {
      running.kill();
    }
    // Two runs in this process: the second is refused while the first holds the folder.
    const both = await Promise.allSettled([encode(source, 'locked-job'), encode(source, 'locked-job')]);
    expect(both.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    // Left by a run that was killed: another pid, or this one's (a container restarts with the same pid).
    for (const pid of [spawnSync(process.execPath, ['-e', '']).pid, process.pid]) {
      writeFileSync(lock, JSON.stringify({ host: hostname(), pid }));
      const { job } = await encode(source, 'locked-job');
      expect(job.done).toBe(true);
      expect(readdirSync(out).filter((name) => name.startsWith(LOCK_FILE))).toEqual([]);
    }
  });

  it('fails naming an unreadable image, or skips and counts it with --on-error skip', async () => {
    const folder = path.join(dir, 'broken');
    await writeImageFolder(folder, ['a'], 4);
    writeFileSync(path.join(folder, 'a', '02.png'), 'not an image');
    const source: SourceSpec = { kind: 'folder', path: folder };
    await expect(encode(source, 'broken-fail')).rejects.toThrow(
      /a\/02\.png: .*(unsupported image format|--on-error skip)/,
    );
    const { job, events } = await encode(source, 'broken-skip', { onError: 'skip' });
    expect(job.shards.map((s) => [s.count, s.skipped])).toEqual([[3, 1]]);
    expect(events).toContainEqual(expect.objectContaining({ event: 'skipped', source: 'a/02.png' }));
    expect((await itemsOf(job, 'broken-skip')).map((i) => i.id)).toEqual([0, 1, 3]);
  });

  it('reads CIFAR-10 binary batches as a stream, from any position', async () => {
    const folder = path.join(dir, 'cifar');
    mkdirSync(folder);
    writeCifarBatch(path.join(folder, 'data_batch_1.bin'), 12, 1);
    writeCifarBatch(path.join(folder, 'test_batch.bin'), 4, 2);
    const source: SourceSpec = { kind: 'cifar10', path: folder };
    const collection = await openCollection(source);
    expect(collection.size).toBe(16);
    const from = await firstItems(collection, 11, 2);
    expect(from.map((i) => [i.source, i.labels])).toEqual([
      ['data_batch_1.bin#11', ['automobile']],
      ['test_batch.bin#0', ['airplane']],
    ]);
    const { job } = await encode(source, 'cifar-job');
    const items = await itemsOf(job, 'cifar-job');
    expect(items).toHaveLength(16);
    const record = readFileSync(path.join(folder, 'test_batch.bin')).subarray(3073 * 3 + 1, 3073 * 4);
    const hwc = new Uint8Array(3072);
    for (let p = 0; p < 1024; p++) for (let c = 0; c < 3; c++) hwc[p * 3 + c] = record[c * 1024 + p];
    expect(items[15].code).toBe(await codeAlone({ pixels: hwc, width: 32, height: 32, channels: 3 }));
  });

  it('reads gzipped IDX images with labels (grey to the RGB model), a list file and a list of files and URLs', async () => {
    const idx = writeIdx(dir, 9);
    const idxJob = await encode({ kind: 'idx', path: idx.images, labels: idx.labels }, 'idx-job');
    const idxItems = await itemsOf(idxJob.job, 'idx-job');
    expect(idxItems.map((i) => i.labels?.[0])).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8']);
    expect(idxItems[4].source).toBe('images-idx3-ubyte.gz#4');
    expect((await firstItems(await openCollection({ kind: 'idx', path: idx.images }), 7, 5)).length).toBe(2);

    const list = path.join(dir, 'train.txt');
    writeFileSync(list, 'cat/00.png 1 0 1\ndog/03.jpg 0 1 0\n');
    const listJob = await encode({ kind: 'list', path: list, root: path.join(dir, 'folder') }, 'list-job');
    expect((await itemsOf(listJob.job, 'list-job')).map((i) => [i.source, i.labels])).toEqual([
      ['cat/00.png', ['0', '2']],
      ['dog/03.jpg', ['1']],
    ]);

    const files = path.join(dir, 'folder', 'files.txt');
    writeFileSync(files, `# images\ncat/01.jpg\tcat, pet\n${baseUrl}/cat.png\n\n${baseUrl}/missing.jpg\n`);
    await expect(encode({ kind: 'files', path: files }, 'files-fail')).rejects.toThrow(
      `${baseUrl}/missing.jpg: HTTP 404`,
    );
    const filesJob = await encode({ kind: 'files', path: files }, 'files-skip', { onError: 'skip' });
    const fileItems = await itemsOf(filesJob.job, 'files-skip');
    expect(fileItems.map((i) => i.source)).toEqual(['cat/01.jpg', `${baseUrl}/cat.png`]);
    // An optional tab-separated label column; lines without one have no labels.
    expect(fileItems.map((i) => i.labels)).toEqual([['cat', 'pet'], undefined]);
    expect(fileItems[1].code).toBe(await codeAlone(readFileSync(path.join(dir, 'folder/cat/00.png'))));
  });

  it('reads the CIFAR-10 JPEG layout (train then test folders) and names missing sources', async () => {
    const root = path.join(dir, 'cifar-jpg');
    await writeImageFolder(path.join(root, 'train'), ['bird', 'cat'], 2);
    await writeImageFolder(path.join(root, 'test'), ['bird', 'cat'], 1);
    const collection = await openCollection({ kind: 'cifar10-jpg', path: root });
    expect((await firstItems(collection, 0, 10)).map((i) => i.source)).toEqual([
      'train/bird/00.png',
      'train/bird/01.jpg',
      'train/cat/00.png',
      'train/cat/01.jpg',
      'test/bird/00.png',
      'test/cat/00.png',
    ]);
    await expect(openCollection({ kind: 'folder', path: path.join(dir, 'nope') })).rejects.toThrow(
      /nope: image folder not found/,
    );
    await expect(openCollection({ kind: 'cifar10', path: path.join(dir, 'nope.bin') })).rejects.toThrow(/nope\.bin/);
    await expect(openCollection({ kind: 'idx', path: path.join(dir, 'train.txt') })).rejects.toThrow(/not an IDX/);
  });
});

async function firstItems(collection: Collection, start: number, n: number) {
  const out = [];
  for await (const item of collection.items(start)) {
    out.push(item);
    if (out.length === n) break;
  }
  return out;
}
