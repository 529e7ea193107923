// Small generated shards and a check that a published version serves: pointer, manifest, every file
// verified, and the shards searchable.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { sha256Hex } from '../../../encoder/export/modelCard.js';
import { verifyVersion } from '../../../encoder/publish/files.js';
import { loadShard, type ShardInput, shardFromCodes } from '../../../encoder/publish/shardFiles.js';
import type { IndexStores } from '../../../encoder/publish/store.js';
import { readActive } from '../../../encoder/publish/versions.js';
import type { ItemMetadata } from '../../../schemas/item.js';
import type { IndexManifest } from '../../../schemas/manifest.js';
import { randomBytes } from '../../support/random.js';

export const BITS = 64;

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), `edgehash-${prefix}-`));
}

/** Codes for ids first..first+count-1 (row-major, random from the seed). */
export function codesFor(first: number, count: number, seed = first + 1): Uint8Array {
  return randomBytes(count * (BITS / 8), seed);
}

export async function shardOf(first: number, count: number, name = `shard-${first}`): Promise<ShardInput> {
  const ids = Uint32Array.from({ length: count }, (_, i) => first + i);
  const metadata: ItemMetadata[] = [...ids].map((id) => ({ id, source: `img/${id}.jpg`, labels: [`c${id % 3}`] }));
  return shardFromCodes(codesFor(first, count), BITS, ids, metadata, name);
}

export const codeOnlyModel = { id: 'test-model', checksum: 'a'.repeat(64) };

/** The live version: its pointer, manifest and every file verified; returns the manifest. */
export async function expectServing(stores: IndexStores, indexId: string, version: number): Promise<IndexManifest> {
  const active = await readActive(stores, indexId);
  expect(active?.pointer.version).toBe(version);
  await verifyVersion(stores, active!.manifest);
  return active!.manifest;
}

/** All live ids of a version, by loading its shards and dropping tombstones. */
export async function liveIds(stores: IndexStores, manifest: IndexManifest): Promise<number[]> {
  const dead = new Set(manifest.tombstones);
  const ids: number[] = [];
  for (const shard of manifest.shards) {
    const bytes = await (shard.store === 'kv' ? stores.kv : stores.r2).get(shard.key);
    const table = await loadShard(bytes!, shard.key);
    for (let i = 0; i < table.count; i++) if (!dead.has(table.idAt(i))) ids.push(table.idAt(i));
  }
  return ids.sort((a, b) => a - b);
}

/** Exact search of a code against every shard of a version: the nearest live id and its distance. */
export async function nearest(stores: IndexStores, manifest: IndexManifest, query: Uint8Array) {
  const dead = new Set(manifest.tombstones);
  let best = { id: -1, distance: Number.POSITIVE_INFINITY };
  for (const shard of manifest.shards) {
    const bytes = await (shard.store === 'kv' ? stores.kv : stores.r2).get(shard.key);
    const table = await loadShard(bytes!, shard.key);
    const result = table.search(query, table.count);
    for (let i = 0; i < result.ids.length; i++) {
      if (dead.has(result.ids[i])) continue;
      if (result.distances[i] < best.distance) best = { id: result.ids[i], distance: result.distances[i] };
      break;
    }
  }
  return best;
}

/** A model card for `onnx` (any bytes: publish checks the checksum, not the graph). */
export function fakeModelCard(modelId: string, onnx: Uint8Array) {
  return {
    format: 'edgehash-model-card-1',
    modelId,
    architecture: 'cnnHash',
    bits: BITS,
    onnx: { opset: 17, checksum: sha256Hex(onnx), bytes: onnx.length },
    precision: 'float32',
    input: {
      name: 'input',
      size: 32,
      channels: 3,
      layout: 'NHWC',
      channelOrder: 'RGB',
      resize: 'fill',
      normalization: { scale: 1 / 255, mean: [0, 0, 0], std: [1, 1, 1] },
    },
    output: { name: 'codes', binarize: 'sign' },
    created: new Date().toISOString(),
  } as const;
}
