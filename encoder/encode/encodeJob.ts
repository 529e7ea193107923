// The batch encoder: streams a collection through decoding (sharp, several images at once) and the
// ONNX hasher in batches, writing a shard every `shardSize` collection positions. Resumable: the job
// file records finished shards, and a re-run starts at the first unfinished position; a finished job
// is left as it is. Hashing runs on worker threads (hasherPool.ts), one per core, while the main
// thread decodes and normalizes the next batch. Memory holds one shard's codes and metadata, one
// batch per hashing thread and the batch being prepared.
import { mkdir, readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import type { ItemMetadata } from '../../schemas/item.js';
import { ModelCard } from '../../schemas/modelCard.js';
import { imageValues, preprocessInto } from '../../schemas/preprocess.js';
import { type Collection, CollectionError, type CollectionItem } from '../collection/types.js';
import { runPool } from '../data/decode.js';
import { HasherPool } from '../hash/hasherPool.js';
import type { HashedBatch } from '../hash/threadedHasher.js';
import { thumbnailJpeg, toModelPixels } from './decodeImage.js';
import { EncodeError, type EncodeJob, type JobSource, readJob, removeTemporaries, writeJob } from './job.js';
import { withJobLock } from './jobLock.js';
import { ShardWriter } from './shardWriter.js';

export const DEFAULT_SHARD_SIZE = 65_536;
// With one batch in flight per core (bench/encode/encodeOnce.ts --n 100000 --batch B): 256 peaked
// at 508-518 MB (the target is <= 500 MB for 1,000,000 images), 192 at 462 MB and 128 at 404 MB,
// all at 8,000-8,400 img/s (differences within run-to-run noise). 192 in npm run bench:encode:
// 1,000,000 images at 8,597 img/s with a 455 MB peak.
export const DEFAULT_BATCH_SIZE = 192;
const DECODE_CONCURRENCY = 8;
const PROGRESS_INTERVAL_MS = 2000;

export type EncodeEvent =
  | { event: 'resume'; shards: number; position: number }
  | { event: 'skipped'; source: string; reason: string }
  | { event: 'progress' | 'shard'; shard: number; position: number; total?: number; img_per_s: number; eta_s?: number }
  | { event: 'done'; shards: number; count: number; skipped: number; total: number };

export interface EncodeRequest {
  /** The job directory (created when absent). */
  dir: string;
  source: JobSource;
  collection: Collection;
  /** Paths of the ONNX model and its card. */
  model: { onnx: string; card: string };
  shardSize?: number;
  batchSize?: number;
  thumbnails?: boolean;
  onError?: 'fail' | 'skip';
  firstId?: number;
  /** onnxruntime intra-op threads (default: every core). */
  threads?: number;
  /** onnxruntime-node execution providers, e.g. ['cuda', 'cpu'] where the install has CUDA (default cpu). */
  executionProviders?: string[];
  onProgress?: (event: EncodeEvent) => void;
}

interface PreparedBatch {
  entries: Decoded[];
  /** The entries that decoded, in order. */
  ok: Decoded[];
  /** Their normalized pixels, back to back; null when none decoded. */
  input: Float32Array | null;
}

interface Decoded {
  item: CollectionItem;
  position: number;
  pixels?: Uint8Array;
  thumbnail?: Uint8Array;
  error?: string;
}

export async function readCard(file: string): Promise<ModelCard> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new EncodeError(`${file}: cannot read the model card (${(error as Error).message})`);
  }
  const parsed = ModelCard.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new EncodeError(`${file}: not a model card (${issue?.path.join('.')}: ${issue?.message})`);
  }
  return parsed.data;
}

/** The job as requested; an existing job must match it in everything that decides the output. */
async function startJob(request: EncodeRequest, card: ModelCard): Promise<EncodeJob> {
  const wanted: EncodeJob = {
    format: 'edgehash-encode-job-1',
    source: request.source,
    model: {
      id: card.modelId,
      // Relative to the job folder, so a job folder can move with its model (defaults/ in the repository).
      onnx: path.relative(path.resolve(request.dir), path.resolve(request.model.onnx)),
      card: path.relative(path.resolve(request.dir), path.resolve(request.model.card)),
      checksum: card.onnx.checksum,
      bits: card.bits,
    },
    firstId: request.firstId ?? 0,
    shardSize: request.shardSize ?? DEFAULT_SHARD_SIZE,
    thumbnails: request.thumbnails ?? false,
    onError: request.onError ?? 'fail',
    shards: [],
    done: false,
  };
  const existing = await readJob(request.dir);
  if (existing === null) {
    await mkdir(request.dir, { recursive: true });
    await writeJob(request.dir, wanted);
    return wanted;
  }
  const differs = (['source', 'firstId', 'shardSize', 'thumbnails'] as const).filter(
    (key) => JSON.stringify(existing[key]) !== JSON.stringify(wanted[key]),
  );
  if (existing.model.checksum !== wanted.model.checksum) differs.push('model' as never);
  if (differs.length > 0) {
    throw new EncodeError(
      `${request.dir} holds a different encode job (${differs.join(', ')} differ); use another --out folder`,
    );
  }
  return { ...existing, onError: wanted.onError };
}

/**
 * A resumed job continues at `position`: the item before it must still be the one the last shard
 * ended with, or items were added or removed before it and the rest would get other ids.
 */
async function checkUnchangedBefore(
  dir: string,
  collection: Collection,
  position: number,
  lastSource: string | undefined,
): Promise<void> {
  if (lastSource === undefined) return;
  const items = collection.items(position - 1)[Symbol.asyncIterator]();
  const found = await items.next();
  await items.return?.();
  const now = found.done ? 'past its end' : found.value.source;
  if (now !== lastSource) {
    throw new EncodeError(
      `${dir}: ${collection.description} changed since this job started (position ${position - 1} was ${lastSource}, ` +
        `now ${now}); encode it into a new --out folder`,
    );
  }
}

/** Runs (or resumes) the job; returns the finished job. */
export async function runEncodeJob(request: EncodeRequest): Promise<EncodeJob> {
  return withJobLock(request.dir, () => runLockedJob(request));
}

async function runLockedJob(request: EncodeRequest): Promise<EncodeJob> {
  const card = await readCard(request.model.card);
  const job = await startJob(request, card);
  if (job.done) return job;
  await removeTemporaries(request.dir);
  // One hashing thread per core on the CPU; one session (all its threads) for another provider.
  const cpuOnly = (request.executionProviders ?? ['cpu']).every((p) => p === 'cpu');
  const hasher = await (cpuOnly
    ? HasherPool.create(request.model.onnx, card, request.threads ?? availableParallelism())
    : HasherPool.create(request.model.onnx, card, 1, {
        intraOpNumThreads: request.threads,
        executionProviders: request.executionProviders,
      })
  ).catch((error: Error) => {
    throw new EncodeError(error.message);
  });
  try {
    await encodeRemaining(request, job, hasher);
  } finally {
    await hasher.release();
  }
  return job;
}

async function encodeRemaining(request: EncodeRequest, job: EncodeJob, hasher: HasherPool): Promise<void> {
  const { dir, collection, onProgress } = request;
  const batchSize = request.batchSize ?? DEFAULT_BATCH_SIZE;
  const { shardSize, firstId } = job;
  const input = hasher.card.input;
  const perImage = imageValues(input);
  const bpc = hasher.bits / 8;
  // Normalized batch buffers: one per hashing thread, one being filled; each comes back with its codes.
  const buffers: Float32Array[] = [];
  let position = job.shards.reduce((n, s) => n + s.items, 0);
  if (job.shards.length > 0) {
    await checkUnchangedBefore(dir, collection, position, job.shards.at(-1)!.lastSource);
    onProgress?.({ event: 'resume', shards: job.shards.length, position });
  }
  const items = collection.items(position)[Symbol.asyncIterator]();
  let exhausted = false;

  // The next batch, never crossing a shard boundary, loaded and decoded (several images at once),
  // and its decoded images normalized into one model input, ready for the hashing thread.
  const nextBatch = async (): Promise<PreparedBatch> => {
    const boundary = (Math.floor(position / shardSize) + 1) * shardSize;
    const want = Math.min(batchSize, boundary - position);
    const batch: Decoded[] = [];
    while (batch.length < want && !exhausted) {
      const next = await items.next();
      if (next.done) exhausted = true;
      else batch.push({ item: next.value, position: position + batch.length });
    }
    position += batch.length;
    await runPool(batch.length, DECODE_CONCURRENCY, async (i) => {
      const entry = batch[i];
      try {
        const image = await entry.item.load();
        entry.pixels = await toModelPixels(image, input);
        if (job.thumbnails && !entry.item.thumbnail) entry.thumbnail = await thumbnailJpeg(image);
      } catch (error) {
        const message = (error as Error).message;
        const prefix = `${entry.item.source}: `;
        entry.error = message.startsWith(prefix) ? message.slice(prefix.length) : message;
      }
    });
    const ok = batch.filter((d) => d.error === undefined);
    if (ok.length === 0) return { entries: batch, ok, input: null };
    const buffer = buffers.pop() ?? new Float32Array(batchSize * perImage);
    const values = buffer.subarray(0, ok.length * perImage);
    ok.forEach((d, i) => {
      preprocessInto(input, d.pixels!, values, i * perImage);
      d.pixels = undefined;
    });
    return { entries: batch, ok, input: values };
  };

  const started = Date.now();
  const startPosition = position;
  // Positions consumed so far (`position` runs ahead while the next batch is prefetched).
  let consumed = position;
  let lastReport = started;
  const report = (event: 'progress' | 'shard', shard: number) => {
    const rate = (consumed - startPosition) / Math.max(1e-3, (Date.now() - started) / 1000);
    const total = collection.size;
    const eta = total !== undefined && rate > 0 ? Math.round((total - consumed) / rate) : undefined;
    onProgress?.({ event, shard, position: consumed, total, img_per_s: Math.round(rate), eta_s: eta });
    lastReport = Date.now();
  };

  let writer: ShardWriter | null = null;
  let lastSource: string | undefined;
  const finishShard = async (open: ShardWriter) => {
    job.shards.push({ ...(await open.finish(consumed - open.start)), lastSource });
    await writeJob(dir, job);
    report('shard', open.index);
  };
  // Writes the oldest batch in flight once its codes are back (batches are written in order).
  const writeBatch = async ({ entries: batch, ok }: PreparedBatch, hashed: Promise<HashedBatch> | null) => {
    for (const failed of batch.filter((d) => d.error !== undefined)) {
      if (job.onError === 'fail') {
        throw new CollectionError(`${failed.item.source}: ${failed.error} (use --on-error skip to skip such images)`);
      }
      onProgress?.({ event: 'skipped', source: failed.item.source, reason: failed.error! });
    }
    const shardIndex = Math.floor(batch[0].position / shardSize);
    if (writer === null) {
      writer = new ShardWriter(dir, shardIndex, shardIndex * shardSize, shardSize, hasher.bits, job.thumbnails);
      await writer.open();
    }
    writer.skipped += batch.length - ok.length;
    if (hashed !== null) {
      const { codes, input } = await hashed;
      buffers.push(new Float32Array(input.buffer));
      for (const [i, d] of ok.entries()) {
        const id = d.item.id ?? firstId + d.position;
        const thumbnail = d.item.thumbnail ?? (d.thumbnail ? `/v1/items/${id}/thumbnail` : undefined);
        const metadata: ItemMetadata = { id, source: d.item.source, labels: d.item.labels, thumbnail };
        await writer.add(codes.subarray(i * bpc, (i + 1) * bpc), metadata, d.thumbnail);
      }
    }
    consumed = batch[batch.length - 1].position + 1;
    lastSource = batch[batch.length - 1].item.source;
    if (consumed === writer.start + shardSize) {
      await finishShard(writer);
      writer = null;
    } else if (Date.now() - lastReport > PROGRESS_INTERVAL_MS) report('progress', writer.index);
  };

  // A pipeline: while every hashing thread holds a batch, the next one is decoded and normalized.
  const inFlight: { batch: PreparedBatch; hashed: Promise<HashedBatch> | null }[] = [];
  let pending = nextBatch();
  try {
    for (;;) {
      const batch = await pending;
      if (batch.entries.length === 0) break;
      pending = nextBatch();
      const hashed = batch.input === null ? null : hasher.hash(batch.input, batch.ok.length);
      // Settled later, in order; an early failure must not go unhandled meanwhile.
      hashed?.catch(() => {});
      inFlight.push({ batch, hashed });
      if (inFlight.length > hasher.size) {
        const oldest = inFlight.shift()!;
        await writeBatch(oldest.batch, oldest.hashed);
      }
    }
    for (const { batch, hashed } of inFlight.splice(0)) await writeBatch(batch, hashed);
  } catch (error) {
    pending.catch(() => {});
    throw error;
  }
  if (writer !== null) await finishShard(writer);
  job.total = consumed;
  job.done = true;
  await writeJob(dir, job);
  const count = job.shards.reduce((n, s) => n + s.count, 0);
  const skipped = job.shards.reduce((n, s) => n + s.skipped, 0);
  onProgress?.({ event: 'done', shards: job.shards.length, count, skipped, total: consumed });
}
