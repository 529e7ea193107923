// Retention: keep the newest N versions and always the active one; delete the other manifests, then
// every shard and metadata file of the index that no retained manifest references (which also sweeps
// files left by interrupted publishes), model files only the deleted versions used, and thumbnails
// of items no retained version holds.
// Assumes one publisher per index at a time: a concurrent publish's not-yet-manifested uploads would
// look unreferenced.
import type { IndexManifest } from '../../schemas/manifest.js';
import { storageKeys } from '../../schemas/storage.js';
import { manifestFiles } from './files.js';
import type { IndexStores } from './store.js';
import { manifestVersions, PublishError, readManifest, readPointer } from './versions.js';

export interface PruneResult {
  /** Versions whose manifests were deleted. */
  versions: number[];
  /** Files deleted (shards, metadata, models, cards, thumbnails). */
  files: number;
}

const indexPrefix = (indexId: string) => `indexes/${indexId}/`;

// Thumbnails are stored per item id (storageKeys.thumbnail), shared by every version holding the item.
const THUMBNAIL_KEY = /\/thumbnails\/(\d+)\.jpg$/;

/**
 * Whether some manifest holds item `id`: inside one of its shards' id ranges and not tombstoned.
 * A range may include ids an id-table shard skips, so this keeps a thumbnail too many, never too few.
 */
function holdsItem(manifests: readonly IndexManifest[], tombstones: readonly Set<number>[], id: number): boolean {
  return manifests.some(
    (m, i) =>
      !tombstones[i].has(id) && m.shards.some((s) => s.ids !== undefined && s.ids.first <= id && id <= s.ids.last),
  );
}

async function pruneThumbnails(
  stores: IndexStores,
  indexId: string,
  retained: readonly IndexManifest[],
): Promise<number> {
  // Without id ranges (shards from older manifests) which items a version holds is unknown: keep all.
  if (retained.some((m) => m.shards.some((s) => s.count > 0 && s.ids === undefined))) return 0;
  const tombstones = retained.map((m) => new Set(m.tombstones));
  const stale = (await stores.r2.list(`${indexPrefix(indexId)}thumbnails/`)).filter((key) => {
    const id = THUMBNAIL_KEY.exec(key);
    return id !== null && !holdsItem(retained, tombstones, Number(id[1]));
  });
  await stores.r2.delete(stale);
  return stale.length;
}

function referencedKeys(manifests: readonly IndexManifest[]): Set<string> {
  return new Set(manifests.flatMap((m) => manifestFiles(m).map((f) => f.key)));
}

/** Manifests of every other index in the stores (they may share model files with this one). */
async function otherIndexManifests(stores: IndexStores, indexId: string): Promise<IndexManifest[]> {
  const keys = await stores.kv.list('indexes/');
  const others = keys
    .map((k) => /^indexes\/([^/]+)\/manifests\/(\d+)\.json$/.exec(k))
    .filter((m) => m !== null && m[1] !== indexId);
  return Promise.all(others.map((m) => readManifest(stores, m![1], Number(m![2]))));
}

export async function pruneVersions(stores: IndexStores, indexId: string, keep: number): Promise<PruneResult> {
  if (!Number.isInteger(keep) || keep < 1) throw new PublishError(`keep must be a positive integer, got ${keep}`);
  const versions = await manifestVersions(stores, indexId);
  const pointer = await readPointer(stores, indexId);
  const retained = new Set(versions.slice(-keep));
  // The active version, and the one it replaced: edges that have not seen the flip yet (a KV write
  // takes up to a minute to reach every location) still read it.
  for (const live of [pointer?.version, pointer?.previous]) if (live !== undefined) retained.add(live);
  const removed = versions.filter((v) => !retained.has(v));
  const retainedManifests = await Promise.all([...retained].map((v) => readManifest(stores, indexId, v)));
  const removedManifests = await Promise.all(removed.map((v) => readManifest(stores, indexId, v)));
  const manifestKeys = removed.map((v) => storageKeys.manifest(indexId, v));
  await stores.kv.delete(manifestKeys);
  await stores.r2.delete(manifestKeys);

  const keepKeys = referencedKeys(retainedManifests);
  let files = 0;
  for (const store of [stores.kv, stores.r2]) {
    const stale = [
      ...(await store.list(`${indexPrefix(indexId)}shards/`)),
      ...(await store.list(`${indexPrefix(indexId)}metadata/`)),
    ].filter((k) => !keepKeys.has(k));
    await store.delete(stale);
    files += stale.length;
  }
  const removedModels = new Set(
    removedManifests.flatMap((m) => [m.model.key, m.model.cardKey]).filter((k) => k !== undefined),
  );
  if (removedModels.size > 0) {
    const stillUsed = referencedKeys([...retainedManifests, ...(await otherIndexManifests(stores, indexId))]);
    const stale = [...removedModels].filter((k) => !stillUsed.has(k));
    await stores.r2.delete(stale);
    files += stale.length;
  }
  // The items versions hold only shrink when a version goes (a delete keeps the older version).
  if (removed.length > 0) files += await pruneThumbnails(stores, indexId, retainedManifests);
  return { versions: removed, files };
}
