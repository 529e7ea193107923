// Moving the pointer between existing versions: activate a given version, roll back, list versions.
// Each move verifies the target version's files first and is one KV put.
import type { IndexManifest } from '../../schemas/manifest.js';
import { type ActivePointer, DEFAULT_INDEX_ID } from '../../schemas/storage.js';
import { verifyVersion } from './files.js';
import type { IndexStores } from './store.js';
import { manifestVersions, PublishError, readManifest, readPointer, writePointer } from './versions.js';

export async function activate(
  stores: IndexStores,
  version: number,
  indexId: string = DEFAULT_INDEX_ID,
): Promise<ActivePointer> {
  const manifest = await readManifest(stores, indexId, version);
  await verifyVersion(stores, manifest);
  return writePointer(stores, indexId, version, await readPointer(stores, indexId));
}

/** Back to the pointer's previous version when it is older and retained, else the newest older one. */
export async function rollback(stores: IndexStores, indexId: string = DEFAULT_INDEX_ID): Promise<ActivePointer> {
  const pointer = await readPointer(stores, indexId);
  if (pointer === null) throw new PublishError(`index ${indexId} has no active version to roll back from`);
  const older = (await manifestVersions(stores, indexId)).filter((v) => v < pointer.version);
  const target = pointer.previous !== undefined && older.includes(pointer.previous) ? pointer.previous : older.at(-1);
  if (target === undefined) {
    throw new PublishError(`index ${indexId}: no retained version older than the active version ${pointer.version}`);
  }
  return activate(stores, target, indexId);
}

export interface VersionInfo {
  version: number;
  active: boolean;
  created: string;
  count: number;
  shards: number;
  tombstones: number;
  model: string;
  parent?: number;
}

export async function listVersions(stores: IndexStores, indexId: string = DEFAULT_INDEX_ID): Promise<VersionInfo[]> {
  const active = (await readPointer(stores, indexId))?.version;
  const versions = await manifestVersions(stores, indexId);
  return Promise.all(
    versions.map(async (version) => {
      const m: IndexManifest = await readManifest(stores, indexId, version);
      return {
        version,
        active: version === active,
        created: m.created,
        count: m.count,
        shards: m.shards.length,
        tombstones: m.tombstones.length,
        model: `${m.model.id}@${m.model.checksum.slice(0, 12)}`,
        parent: m.parent,
      };
    }),
  );
}
