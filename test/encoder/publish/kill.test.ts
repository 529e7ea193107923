// kill -9 of `edgehash publish` at several points: the previous version keeps serving unchanged
// (pointer, manifest and every file verified), no workerd is left behind, and a re-run completes.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { jobModel, jobShards, readJob, writeJob } from '../../../encoder/encode/job.js';
import { sha256Hex } from '../../../encoder/export/modelCard.js';
import { openLocalStores } from '../../../encoder/publish/localStores.js';
import { publishVersion } from '../../../encoder/publish/publish.js';
import { bytesOf } from '../../../encoder/publish/shardFiles.js';
import { childPids } from '../../../encoder/publish/workerdReaper.js';
import { storageKeys } from '../../../schemas/storage.js';
import { BITS, expectServing, fakeModelCard, shardOf, tempDir } from './fixtures.js';

const repo = path.resolve(import.meta.dirname, '../../..');
const SHARDS = 12;
const dir = tempDir('kill');
const state = path.join(dir, 'state');

/** A finished encode job on disk: SHARDS shards of 200 codes with metadata, and a model with its card. */
async function writeJobDir(jobDir: string, first: number): Promise<void> {
  mkdirSync(path.join(jobDir, 'shards'), { recursive: true });
  const onnx = new TextEncoder().encode(`model bytes ${first}`);
  const checksum = sha256Hex(onnx);
  writeFileSync(path.join(jobDir, 'model.onnx'), onnx);
  writeFileSync(path.join(jobDir, 'model.card.json'), JSON.stringify(fakeModelCard('kill-test', onnx)));
  const shards = [];
  for (let i = 0; i < SHARDS; i++) {
    const shard = await shardOf(first + i * 200, 200);
    const table = `shards/${i}.ehct`;
    const metadata = `shards/${i}.jsonl`;
    const bytes = await bytesOf(shard.table);
    writeFileSync(path.join(jobDir, table), bytes);
    writeFileSync(path.join(jobDir, metadata), await bytesOf(shard.metadata!));
    shards.push({
      index: i,
      table,
      metadata,
      count: 200,
      start: i * 200,
      items: 200,
      skipped: 0,
      checksum: sha256Hex(bytes),
    });
  }
  await writeJob(jobDir, {
    format: 'edgehash-encode-job-1',
    source: { kind: 'folder', path: '/nowhere' },
    model: {
      id: 'kill-test',
      onnx: path.join(jobDir, 'model.onnx'),
      card: path.join(jobDir, 'model.card.json'),
      checksum,
      bits: BITS,
    },
    firstId: first,
    shardSize: 200,
    thumbnails: false,
    onError: 'fail',
    shards,
    total: SHARDS * 200,
    done: true,
  });
}

function publish(jobDir: string): ChildProcess {
  return spawn(
    process.execPath,
    [path.join(repo, 'bin/edgehash.mjs'), 'publish', '--job', jobDir, '--persist', state, '--kv-shard-max-bytes', '0'],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
}

/** Running, and not a zombie waiting for its new parent to reap it. */
function alive(pid: number): boolean {
  try {
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z');
  } catch {
    return false;
  }
}

/** Runs publish until a progress line matches, then SIGKILLs it; returns the workerd pids it had. */
async function killWhen(jobDir: string, when: (event: Record<string, unknown>) => boolean): Promise<number[]> {
  const child = publish(jobDir);
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  let workerd: number[] = [];
  for await (const line of createInterface({ input: child.stdout! })) {
    if (!line.startsWith('{')) continue;
    const event = JSON.parse(line);
    if (event.event && when(event)) {
      workerd = childPids('workerd', child.pid);
      child.kill('SIGKILL');
      break;
    }
  }
  await exited;
  return workerd;
}

async function expectNoOrphans(pids: number[]): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const orphans = pids.filter(alive);
  for (const pid of orphans) process.kill(pid, 'SIGKILL');
  expect(orphans).toEqual([]);
}

let v1Pointer: Uint8Array;
let v1Manifest: Uint8Array;

beforeAll(async () => {
  await writeJobDir(path.join(dir, 'job1'), 0);
  await writeJobDir(path.join(dir, 'job2'), 100_000);
  const local = await openLocalStores(state);
  const job1 = (await readJob(path.join(dir, 'job1')))!;
  await publishVersion(local, {
    shards: jobShards(path.join(dir, 'job1'), job1),
    model: await jobModel(path.join(dir, 'job1'), job1),
    kvShardMaxBytes: 0,
  });
  v1Pointer = (await local.kv.get(storageKeys.active('default')))!;
  v1Manifest = (await local.kv.get(storageKeys.manifest('default', 1)))!;
  await local.dispose();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function expectV1Unchanged(): Promise<void> {
  const local = await openLocalStores(state);
  try {
    expect(await local.kv.get(storageKeys.active('default'))).toEqual(v1Pointer);
    expect(await local.kv.get(storageKeys.manifest('default', 1))).toEqual(v1Manifest);
    await expectServing(local, 'default', 1);
  } finally {
    await local.dispose();
  }
}

it('leaves the previous version serving when killed while uploading or verifying, then completes', async () => {
  const job2 = path.join(dir, 'job2');
  const points: [string, (e: Record<string, unknown>) => boolean][] = [
    ['after 1 upload', (e) => e.event === 'uploaded' && e.done === 1],
    ['after 9 uploads', (e) => e.event === 'uploaded' && e.done === 9],
    [
      'after 20 files (some already present)',
      (e) => (e.event === 'uploaded' || e.event === 'present') && e.done === 20,
    ],
    ['while verifying', (e) => e.event === 'verified' && e.done === 4],
  ];
  for (const [, when] of points) {
    const workerd = await killWhen(job2, when);
    expect(workerd.length).toBeGreaterThan(0);
    await expectNoOrphans(workerd);
    await expectV1Unchanged();
  }

  const rerun = publish(job2);
  const lines: string[] = [];
  rerun.stdout!.on('data', (chunk: Buffer) => lines.push(chunk.toString()));
  expect(await new Promise((resolve) => rerun.on('exit', resolve))).toBe(0);
  const events = lines
    .join('')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  // Everything the killed runs uploaded is re-used.
  expect(events.filter((e) => e.event === 'present').length).toBeGreaterThanOrEqual(9);
  const local = await openLocalStores(state);
  try {
    const manifest = await expectServing(local, 'default', 2);
    expect(manifest.count).toBe(SHARDS * 200);
    expect((await local.kv.get(storageKeys.manifest('default', 1)))!).toEqual(v1Manifest);
  } finally {
    await local.dispose();
  }
}, 300_000); // six CLI processes, each starting workerd: slow on a loaded 2-core machine
