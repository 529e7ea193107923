// The publish-side commands (add, delete, compact, versions, rollback, activate, reencode) run as the CLI
// runs them (argv parsed with each command's options) against local Miniflare state, in process to keep
// the test short; `edgehash publish` and `edgehash encode` run as child processes in the kill tests.
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openCollection, type SourceSpec } from '../../../encoder/collection/spec.js';
import { type Command, UsageError } from '../../../encoder/commands/command.js';
import { runEncodeJob } from '../../../encoder/encode/encodeJob.js';
import { jobShards } from '../../../encoder/encode/job.js';
import { openLocalStores } from '../../../encoder/publish/localStores.js';
import { publishVersion } from '../../../encoder/publish/publish.js';
import { fileBytes } from '../../../encoder/publish/shardFiles.js';
import { writeImageFolder, writeModel } from '../encode/support.js';
import { expectServing, liveIds, tempDir } from './fixtures.js';

const dir = tempDir('commands');
const state = path.join(dir, 'state');
const model = writeModel(path.join(dir, 'a'), { modelId: 'cmd-a' });
const modelB = writeModel(path.join(dir, 'b'), { modelId: 'cmd-b', seed: 5 });
const folder = path.join(dir, 'folder');
const extra = path.join(dir, 'extra');

/** Runs `edgehash <name> <argv...>` in process; returns the JSON lines it printed. */
async function edgehash(name: string, ...argv: string[]): Promise<Record<string, unknown>[]> {
  const { command } = (await import(`../../../encoder/commands/${name}.ts`)) as { command: Command };
  // No wrangler config: the stores use the binding names as ids, as openLocalStores does by default.
  const stores = ['--persist', state, '--wrangler-config', path.join(dir, 'absent.toml')];
  const parsed = parseArgs({ args: [...argv, ...stores], options: command.options });
  const lines: string[] = [];
  const log = console.log;
  const write = process.stdout.write;
  console.log = (line: string) => lines.push(line);
  process.stdout.write = ((chunk: string) => lines.push(chunk.trim())) as unknown as typeof process.stdout.write;
  try {
    await command.run(parsed.values, parsed.positionals);
  } finally {
    console.log = log;
    process.stdout.write = write;
  }
  return lines.map((l) => JSON.parse(l));
}

async function encodeFolder(source: SourceSpec, out: string, firstId: number) {
  return runEncodeJob({
    dir: out,
    source,
    collection: await openCollection(source),
    model,
    shardSize: 4,
    firstId,
    threads: 1,
  });
}

beforeAll(async () => {
  await writeImageFolder(folder, ['cat', 'dog'], 4);
  await writeImageFolder(extra, ['fox'], 3);
  const job = await encodeFolder({ kind: 'folder', path: folder }, path.join(dir, 'job1'), 0);
  await encodeFolder({ kind: 'folder', path: extra }, path.join(dir, 'job2'), 100);
  const local = await openLocalStores(state);
  await publishVersion(local, {
    shards: jobShards(path.join(dir, 'job1'), job),
    model: { onnx: fileBytes(model.onnx), card: readFileSync(model.card) },
  });
  await local.dispose();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('adds, deletes, compacts, lists, rolls back, activates and re-encodes from the command line', async () => {
  expect((await edgehash('add', '--job', path.join(dir, 'job2'))).at(-1)).toMatchObject({ version: 2, count: 11 });
  expect((await edgehash('delete', '--ids', '1, 101')).at(-1)).toMatchObject({ version: 3, tombstones: 2 });
  await expect(edgehash('delete', '--ids', '5,x')).rejects.toThrow(
    new UsageError('--ids: "x" is not an item id (0..4294967295)'),
  );
  await expect(edgehash('delete', '--ids', '999')).rejects.toThrow(/ids not in version 3: 999/);
  expect((await edgehash('compact')).at(-1)).toMatchObject({ version: 4, count: 9 });
  const versions = await edgehash('versions');
  expect(versions.map((v) => [v.version, v.active, v.count, v.tombstones])).toEqual([
    [1, false, 8, 0],
    [2, false, 11, 0],
    [3, false, 11, 2],
    [4, true, 9, 0],
  ]);
  expect((await edgehash('rollback')).at(-1)).toMatchObject({ version: 3, previous: 4 });
  expect((await edgehash('activate', '--version', '4')).at(-1)).toMatchObject({ version: 4, previous: 3 });
  await expect(edgehash('activate', '--version', '9')).rejects.toThrow(UsageError);

  // Re-encoding needs each item's image: the extra folder's items were added from another source.
  const reencode = ['--kind', 'folder', '--source', folder, '--model', modelB.onnx, '--out', path.join(dir, 'job-b')];
  await expect(edgehash('reencode', ...reencode, '--shard-size', '4')).rejects.toThrow(/fox\/00\.png: ENOENT/);
  await edgehash('delete', '--ids', '100,102');
  const events = await edgehash('reencode', ...reencode.slice(0, -1), path.join(dir, 'job-c'), '--shard-size', '4');
  expect(events.filter((e) => e.event === 'shard').map((e) => e.eta_s !== undefined)).toEqual([true, true]);
  expect(events.at(-1)).toMatchObject({ version: 6, count: 7 });
  const local = await openLocalStores(state);
  try {
    const manifest = await expectServing(local, 'default', 6);
    expect(manifest.model.id).toBe('cmd-b');
    expect(await liveIds(local, manifest)).toEqual([0, 2, 3, 4, 5, 6, 7]);
  } finally {
    await local.dispose();
  }
});
