// The encode job directory: job.json (what is being encoded, with which model, and every finished
// shard) next to the shard files. Every file is written to a temporary name and renamed, and a shard
// is recorded in job.json only after its files are in place, so a kill at any moment loses at most
// the shard in flight and never leaves a half-written file under a final name.
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { Sha256Hex } from '../../schemas/manifest.js';
import { ModelCard } from '../../schemas/modelCard.js';
import { SourceSpec } from '../collection/spec.js';
import { UserError } from '../errors.js';
import { writeFileAtomic } from '../export/files.js';
import { sha256Hex } from '../export/modelCard.js';
import type { ShardInput, Thumbnail } from '../publish/shardFiles.js';

export const JOB_FILE = 'job.json';

/** An encode job that cannot run as asked (a bad model card, another job in the folder, unfinished). */
export class EncodeError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'EncodeError';
  }
}

export const JobShard = z.object({
  index: z.number().int().min(0),
  /** Files relative to the job directory. */
  table: z.string(),
  metadata: z.string(),
  thumbnails: z.string().optional(),
  count: z.number().int().min(0),
  /** Position in the collection of the shard's first item (items before it are in earlier shards). */
  start: z.number().int().min(0),
  /** Collection positions the shard covers (count plus skipped). */
  items: z.number().int().min(0),
  skipped: z.number().int().min(0),
  checksum: Sha256Hex,
  /** The source at the shard's last position, which a resumed run finds there again (absent in older jobs). */
  lastSource: z.string().optional(),
});
export type JobShard = z.infer<typeof JobShard>;

/** Re-encoding: the items of an index version (its metadata), their images found through `collection`. */
export const VersionSource = z.object({
  kind: z.literal('version'),
  indexId: z.string(),
  version: z.number().int().positive(),
  collection: SourceSpec,
});
export type VersionSource = z.infer<typeof VersionSource>;

export const JobSource = z.union([SourceSpec, VersionSource]);
export type JobSource = z.infer<typeof JobSource>;

export const EncodeJob = z.object({
  format: z.literal('edgehash-encode-job-1'),
  source: JobSource,
  model: z.object({
    id: z.string(),
    /** Model files, relative to the job folder (absolute paths from older jobs still resolve). */
    onnx: z.string(),
    card: z.string(),
    checksum: Sha256Hex,
    bits: z.number().int(),
  }),
  /** Item ids are firstId + position in the collection (so a re-run assigns the same ids), unless the source fixes them. */
  firstId: z.number().int().min(0),
  shardSize: z.number().int().positive(),
  thumbnails: z.boolean(),
  onError: z.enum(['fail', 'skip']),
  shards: z.array(JobShard),
  /** Collection size, once the last shard is written. */
  total: z.number().int().min(0).optional(),
  done: z.boolean(),
});
export type EncodeJob = z.infer<typeof EncodeJob>;

export async function readJob(dir: string): Promise<EncodeJob | null> {
  const file = path.join(dir, JOB_FILE);
  if (!existsSync(file)) return null;
  const parsed = EncodeJob.safeParse(parseJson(await readJobFile(file), file, 'an encode job'));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new EncodeError(`${file}: not an encode job (${issue?.path.join('.')}: ${issue?.message})`);
  }
  return parsed.data;
}

export async function requireFinishedJob(dir: string): Promise<EncodeJob> {
  const job = await readJob(dir);
  if (job === null) throw new EncodeError(`${dir}: no ${JOB_FILE}; run edgehash encode first`);
  if (!job.done) throw new EncodeError(`${dir}: the encode job is not finished; re-run edgehash encode to finish it`);
  return job;
}

export async function writeJob(dir: string, job: EncodeJob): Promise<void> {
  await writeFileAtomic(path.join(dir, JOB_FILE), `${JSON.stringify(EncodeJob.parse(job), null, 1)}\n`);
}

/** Removes temporary files a killed run left behind. */
export async function removeTemporaries(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const sub of ['', 'shards', 'thumbnails']) {
    const folder = path.join(dir, sub);
    if (!existsSync(folder)) continue;
    for (const name of await readdir(folder)) {
      if (name.includes('.tmp-')) await rm(path.join(folder, name), { recursive: true, force: true });
    }
  }
}

async function* thumbnailsIn(folder: string): AsyncIterable<Thumbnail> {
  const names = (await readdir(folder)).filter((n) => n.endsWith('.jpg'));
  names.sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10));
  for (const name of names) {
    yield { id: Number.parseInt(name, 10), jpeg: new Uint8Array(await readFile(path.join(folder, name))) };
  }
}

/** A file of the job; a missing or unreadable one is an EncodeError naming it. */
async function readJobFile(file: string): Promise<Buffer> {
  return readFile(file).catch((error: NodeJS.ErrnoException) => {
    throw new EncodeError(`${file}: cannot read (${error.code ?? error.message})`);
  });
}

function parseJson(bytes: Uint8Array, file: string, what: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new EncodeError(`${file}: not ${what} (${(error as Error).message})`);
  }
}

const jobFileBytes = (file: string) => async () => new Uint8Array(await readJobFile(file));

/** The table file as job.json recorded it: one replaced since (even by a valid table) is refused. */
function recordedTable(file: string, checksum: string) {
  return async () => {
    const bytes = new Uint8Array(await readJobFile(file));
    const actual = sha256Hex(bytes);
    if (actual !== checksum) {
      throw new EncodeError(
        `${file}: changed since it was encoded (SHA-256 ${actual}, ${JOB_FILE} records ${checksum}); encode again into a new folder`,
      );
    }
    return bytes;
  };
}

/** The job's shards as publish inputs, each file read (and its table checked) only when published. */
export function jobShards(dir: string, job: EncodeJob): ShardInput[] {
  return job.shards
    .filter((s) => s.count > 0)
    .map((s) => ({
      name: path.join(dir, s.table),
      table: recordedTable(path.join(dir, s.table), s.checksum),
      metadata: jobFileBytes(path.join(dir, s.metadata)),
      thumbnails: s.thumbnails ? () => thumbnailsIn(path.join(dir, s.thumbnails!)) : undefined,
    }));
}

/**
 * The job's model as a publish input: ONNX read when uploaded (publish checks it against the card),
 * the card read now and checked against the model the codes were encoded with, so a model exported
 * again over the same files cannot be published beside codes of the one before.
 */
export async function jobModel(
  dir: string,
  job: EncodeJob,
): Promise<{ onnx: () => Promise<Uint8Array>; card: Uint8Array }> {
  const cardFile = path.resolve(dir, job.model.card);
  const card = new Uint8Array(await readJobFile(cardFile));
  const parsed = ModelCard.safeParse(parseJson(card, cardFile, 'a model card'));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new EncodeError(`${cardFile}: not a model card (${issue?.path.join('.')}: ${issue?.message})`);
  }
  const { modelId, onnx } = parsed.data;
  if (modelId !== job.model.id || onnx.checksum !== job.model.checksum) {
    throw new EncodeError(
      `${cardFile}: describes model ${modelId} (ONNX ${onnx.checksum}), but the codes in ${dir} were encoded with ` +
        `${job.model.id} (ONNX ${job.model.checksum}); restore that model's files or encode again with this one`,
    );
  }
  return { onnx: jobFileBytes(path.resolve(dir, job.model.onnx)), card };
}
