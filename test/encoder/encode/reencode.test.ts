// Re-encoding the live index with a new model in real Miniflare stores: the old version serves until the
// flip, the new one holds the same live ids (tombstones dropped), metadata and thumbnails, with codes of
// the new model; publishing an encode job uploads its thumbnails.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { SourceSpec } from '../../../encoder/collection/spec.js';
import { openCollection } from '../../../encoder/collection/spec.js';
import { toModelPixels } from '../../../encoder/encode/decodeImage.js';
import { runEncodeJob } from '../../../encoder/encode/encodeJob.js';
import { jobModel, jobShards, readJob } from '../../../encoder/encode/job.js';
import { reencode } from '../../../encoder/encode/reencode.js';
import { OnnxHasher } from '../../../encoder/hash/onnxHasher.js';
import { deleteItems } from '../../../encoder/publish/incremental.js';
import { type LocalStores, openLocalStores } from '../../../encoder/publish/localStores.js';
import { publishVersion } from '../../../encoder/publish/publish.js';
import { bytesOf, fileBytes, loadShard } from '../../../encoder/publish/shardFiles.js';
import { readPointer } from '../../../encoder/publish/versions.js';
import { storageKeys } from '../../../schemas/storage.js';
import { expectServing, liveIds, tempDir } from '../publish/fixtures.js';
import { writeImageFolder, writeModel } from './support.js';

const dir = tempDir('reencode');
const modelA = writeModel(path.join(dir, 'a'), { seed: 1, modelId: 'model-a' });
const modelB = writeModel(path.join(dir, 'b'), { seed: 2, modelId: 'model-b' });
const folder = path.join(dir, 'folder');
const source: SourceSpec = { kind: 'folder', path: folder };
let local: LocalStores;

beforeAll(async () => {
  await writeImageFolder(folder, ['cat', 'dog'], 6);
  local = await openLocalStores(path.join(dir, 'state'));
});

afterAll(async () => {
  await local.dispose();
  rmSync(dir, { recursive: true, force: true });
});

it('publishes an encoded job with thumbnails, then re-encodes the live version with a new model', async () => {
  const jobDir = path.join(dir, 'job-a');
  const job = await runEncodeJob({
    dir: jobDir,
    source,
    collection: await openCollection(source),
    model: modelA,
    shardSize: 5,
    thumbnails: true,
    threads: 1,
  });
  await publishVersion(local, {
    shards: jobShards(jobDir, job),
    model: { onnx: fileBytes(modelA.onnx), card: readFileSync(modelA.card) },
  });
  expect(await local.r2.get(storageKeys.thumbnail('default', 7))).toEqual(
    new Uint8Array(readFileSync(path.join(jobDir, 'thumbnails/000001/7.jpg'))),
  );
  await deleteItems(local, { ids: [3] });

  const pointerDuringEncode: Promise<number | undefined>[] = [];
  const result = await reencode(local, {
    dir: path.join(dir, 'job-b'),
    collection: source,
    model: modelB,
    shardSize: 4,
    threads: 1,
    onProgress: (e) => {
      if (e.event === 'shard') pointerDuringEncode.push(readPointer(local, 'default').then((p) => p?.version));
    },
  });
  expect(await Promise.all(pointerDuringEncode)).toEqual([2, 2, 2]);
  expect(result.version).toBe(3);
  const manifest = await expectServing(local, 'default', 3);
  expect(manifest).toMatchObject({ count: 11, tombstones: [], model: { id: 'model-b', checksum: modelB.checksum } });
  expect(await liveIds(local, manifest)).toEqual([0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11]);

  const hasher = await OnnxHasher.create(modelB.bytes, modelB.modelCard, { intraOpNumThreads: 1 });
  try {
    const shard = manifest.shards[1];
    const table = await loadShard((await local.r2.get(shard.key)) ?? (await local.kv.get(shard.key))!, shard.key);
    const lines = new TextDecoder()
      .decode((await local.r2.get(shard.metadata!.key))!)
      .trim()
      .split('\n');
    const meta = JSON.parse(lines[0]);
    expect(meta).toEqual({ id: 5, source: 'cat/05.jpg', labels: ['cat'], thumbnail: '/v1/items/5/thumbnail' });
    const pixels = await toModelPixels(readFileSync(path.join(folder, meta.source)), modelB.modelCard.input);
    expect(table.codes().subarray(0, 4)).toEqual(await hasher.hashPixels(pixels, 1));
  } finally {
    await hasher.release();
  }

  // Running it again finds the job finished and the version already published: nothing changes.
  const again = await reencode(local, {
    dir: path.join(dir, 'job-b'),
    collection: source,
    model: modelB,
    shardSize: 4,
  });
  expect(again.version).toBe(3);
  expect((await readPointer(local, 'default'))?.version).toBe(3);
});

it('refuses to publish a job beside a model exported again over its files, or a table replaced since', async () => {
  const jobDir = path.join(dir, 'job-a');
  const job = (await readJob(jobDir))!;
  const [first] = jobShards(jobDir, job);
  const tableFile = path.join(jobDir, job.shards[0].table);
  const table = readFileSync(tableFile);
  expect(await bytesOf(first.table)).toEqual(new Uint8Array(table));
  writeFileSync(tableFile, readFileSync(path.join(dir, 'job-b', job.shards[0].table)));
  await expect(bytesOf(first.table)).rejects.toThrow(
    new RegExp(
      `^${tableFile}: changed since it was encoded \\(SHA-256 [0-9a-f]{64}, job.json records ${job.shards[0].checksum}\\)`,
    ),
  );
  writeFileSync(tableFile, table);

  await expect(jobModel(jobDir, job)).resolves.toMatchObject({ card: new Uint8Array(readFileSync(modelA.card)) });
  writeFileSync(modelA.card, readFileSync(modelB.card));
  await expect(jobModel(jobDir, job)).rejects.toThrow(
    `${modelA.card}: describes model model-b (ONNX ${modelB.checksum}), but the codes in ${jobDir} were encoded with ` +
      `model-a (ONNX ${modelA.checksum}); restore that model's files or encode again with this one`,
  );
  writeFileSync(modelA.card, '{"modelId":');
  await expect(jobModel(jobDir, job)).rejects.toThrow(`${modelA.card}: not a model card (`);
  rmSync(modelA.card);
  await expect(jobModel(jobDir, job)).rejects.toThrow(`${modelA.card}: cannot read (ENOENT)`);
});
