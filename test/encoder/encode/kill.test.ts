// kill -9 of `edgehash encode` at a shard boundary and in the middle of a shard: the re-run finishes
// without redoing finished shards, the result is byte for byte the uninterrupted one, and running the
// finished job again changes nothing.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openCollection } from '../../../encoder/collection/spec.js';
import { runEncodeJob } from '../../../encoder/encode/encodeJob.js';
import { readJob } from '../../../encoder/encode/job.js';
import { tempDir } from '../publish/fixtures.js';
import { writeCifarBatch, writeModel } from './support.js';

const repo = path.resolve(import.meta.dirname, '../../..');
const dir = tempDir('encode-kill');
const model = writeModel(path.join(dir, 'model'));
const batch = path.join(dir, 'data_batch_1.bin');
const SHARD = 100;
const ITEMS = 3000;
const args = (out: string) => [
  path.join(repo, 'bin/edgehash.mjs'),
  'encode',
  '--kind',
  'cifar10',
  '--source',
  batch,
  '--model',
  model.onnx,
  '--out',
  out,
  '--shard-size',
  String(SHARD),
  '--batch',
  '25',
  '--threads',
  '1',
];

beforeAll(async () => {
  writeCifarBatch(batch, ITEMS);
  const source = { kind: 'cifar10' as const, path: batch };
  await runEncodeJob({
    dir: path.join(dir, 'reference'),
    source,
    collection: await openCollection(source),
    model,
    shardSize: SHARD,
    batchSize: 60,
    threads: 1,
  });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function encode(out: string): ChildProcess {
  return spawn(process.execPath, args(out), { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs encode until `when` says so for a progress line, then SIGKILLs it `delayMs` later. */
async function killAt(out: string, when: (event: Record<string, unknown>) => boolean, delayMs = 0) {
  const child = encode(out);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  for await (const line of createInterface({ input: child.stdout! })) {
    if (line.startsWith('{') && when(JSON.parse(line))) {
      setTimeout(() => child.kill('SIGKILL'), delayMs);
      break;
    }
  }
  return exited;
}

const files = (out: string) =>
  readdirSync(path.join(out, 'shards'))
    .sort()
    .map((f) => [f, readFileSync(path.join(out, 'shards', f), 'hex')]);

it('resumes after kill -9 without redoing finished shards and ends identical to an uninterrupted run', async () => {
  const out = path.join(dir, 'killed');
  // At the first finished shard, then at an arbitrary moment of the resumed run.
  expect(await killAt(out, (e) => e.event === 'shard')).not.toBe(0);
  const afterFirst = (await readJob(out))!;
  expect(afterFirst.done).toBe(false);
  const done = afterFirst.shards.length;
  expect(done).toBeGreaterThanOrEqual(1);
  const finishedAt = statSync(path.join(out, 'shards/000000.ehct')).mtimeMs;
  let resumedAt: number | undefined;
  await killAt(
    out,
    (e) => {
      resumedAt = e.position as number;
      return e.event === 'resume';
    },
    150,
  );
  expect(resumedAt).toBe(done * SHARD);
  const afterSecond = (await readJob(out))!;
  expect(afterSecond.done).toBe(false);
  expect(afterSecond.shards.slice(0, done)).toEqual(afterFirst.shards);

  const rerun = encode(out);
  const lines: string[] = [];
  rerun.stdout!.on('data', (chunk: Buffer) => lines.push(chunk.toString()));
  expect(await new Promise((resolve) => rerun.on('exit', resolve))).toBe(0);
  const events = lines
    .join('')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  expect(events[0]).toEqual({
    event: 'resume',
    shards: afterSecond.shards.length,
    position: afterSecond.shards.length * SHARD,
  });
  expect(statSync(path.join(out, 'shards/000000.ehct')).mtimeMs).toBe(finishedAt);

  const job = (await readJob(out))!;
  const reference = (await readJob(path.join(dir, 'reference')))!;
  expect(job.shards).toEqual(reference.shards);
  expect(job.done && job.total === ITEMS).toBe(true);
  expect(files(out)).toEqual(files(path.join(dir, 'reference')));
  expect(readdirSync(out).filter((f) => f.includes('.tmp-'))).toEqual([]);

  // Again, on the finished job: nothing is rewritten.
  const before = statSync(path.join(out, 'job.json')).mtimeMs;
  const again = encode(out);
  expect(await new Promise((resolve) => again.on('exit', resolve))).toBe(0);
  expect(statSync(path.join(out, 'job.json')).mtimeMs).toBe(before);
  expect(existsSync(path.join(out, `shards/0000${ITEMS / SHARD}.ehct`))).toBe(false);
}, 240_000); // four CLI processes on a loaded 2-core machine
