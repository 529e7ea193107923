// Changing the live index without re-encoding it: add shards with new ids, delete ids (tombstones in a
// new manifest over the same shards), and compact (rewrite the shards that hold tombstoned ids). Each
// is a new immutable version derived from the active one, made live by one pointer flip.
import type { ShardEntry } from '../../schemas/manifest.js';
import { DEFAULT_INDEX_ID } from '../../schemas/storage.js';
import type { CodeTable } from '../../wasm/codeTable.js';
import { storeOf } from './files.js';
import {
  type CommitOptions,
  checkDisjoint,
  commitVersion,
  DEFAULT_KV_SHARD_MAX_BYTES,
  type ModelRef,
  type PublishResult,
  Uploader,
  uploadShard,
} from './publish.js';
import { loadShard, type ShardInput, shardFromCodes } from './shardFiles.js';
import type { IndexStores } from './store.js';
import { PublishError, requireActive } from './versions.js';

export interface AddOptions extends CommitOptions {
  indexId?: string;
  shards: readonly ShardInput[];
  /** The model the new codes were made with; must be the active version's model. */
  model: ModelRef;
  kvShardMaxBytes?: number;
}

export async function addShards(stores: IndexStores, options: AddOptions): Promise<PublishResult> {
  const indexId = options.indexId ?? DEFAULT_INDEX_ID;
  const { manifest: base } = await requireActive(stores, indexId);
  if (options.model.checksum !== base.model.checksum) {
    throw new PublishError(
      `the new shards were encoded with model ${options.model.id}@${options.model.checksum.slice(0, 12)}, ` +
        `version ${base.version} holds codes of ${base.model.id}@${base.model.checksum.slice(0, 12)}; re-encode instead`,
    );
  }
  if (options.shards.length === 0) throw new PublishError('nothing to add: no shards');
  const uploader = new Uploader(stores, options.shards.length, options.onProgress);
  const added: ShardEntry[] = [];
  for (const shard of options.shards) {
    const { entry } = await uploadShard(uploader, stores, indexId, shard, {
      bits: base.bits,
      kvShardMaxBytes: options.kvShardMaxBytes ?? DEFAULT_KV_SHARD_MAX_BYTES,
      onProgress: options.onProgress,
    });
    if (base.shards.some((s) => s.key === entry.key)) throw new PublishError(`${shard.name} is already in the index`);
    added.push(entry);
  }
  const shards = [...base.shards, ...added];
  checkDisjoint(shards);
  const { version: _v, created: _c, ...rest } = base;
  return commitVersion(
    stores,
    { ...rest, shards, count: base.count + added.reduce((n, s) => n + s.count, 0), parent: base.version },
    options,
  );
}

async function readShard(stores: IndexStores, shard: ShardEntry): Promise<CodeTable> {
  const bytes = await storeOf(stores, shard.store).get(shard.key);
  if (bytes === null) throw new PublishError(`${shard.store}:${shard.key} is missing`);
  return loadShard(bytes, shard.key);
}

function indexOfId(table: CodeTable, id: number): number {
  let lo = 0;
  let hi = table.count - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const at = table.idAt(mid);
    if (at === id) return mid;
    if (at < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** Shards whose id range may hold one of `ids` (all shards when a range is unknown). */
function shardsTouching(shards: readonly ShardEntry[], ids: readonly number[]): ShardEntry[] {
  return shards.filter((s) => s.ids === undefined || ids.some((id) => id >= s.ids!.first && id <= s.ids!.last));
}

export interface DeleteOptions extends CommitOptions {
  indexId?: string;
  ids: readonly number[];
}

/** Tombstones the ids in a new version; ids already deleted are accepted, unknown ids are an error. */
export async function deleteItems(stores: IndexStores, options: DeleteOptions): Promise<PublishResult> {
  const indexId = options.indexId ?? DEFAULT_INDEX_ID;
  const { manifest: base } = await requireActive(stores, indexId);
  const tombstones = new Set(base.tombstones);
  const wanted = [...new Set(options.ids)].filter((id) => !tombstones.has(id));
  const found = new Set<number>();
  for (const shard of shardsTouching(base.shards, wanted)) {
    const table = await readShard(stores, shard);
    for (const id of wanted) if (indexOfId(table, id) >= 0) found.add(id);
  }
  const unknown = wanted.filter((id) => !found.has(id));
  if (unknown.length > 0) {
    throw new PublishError(`ids not in version ${base.version}: ${unknown.slice(0, 20).join(', ')}`);
  }
  const { version: _v, created: _c, ...rest } = base;
  const all = [...tombstones, ...wanted].sort((a, b) => a - b);
  return commitVersion(stores, { ...rest, tombstones: all, parent: base.version }, options);
}

function filterJsonl(bytes: Uint8Array, keep: (index: number) => boolean): Uint8Array {
  const lines = new TextDecoder().decode(bytes).split('\n');
  if (lines.at(-1) === '') lines.pop();
  return new TextEncoder().encode(
    lines
      .filter((_, i) => keep(i))
      .map((l) => `${l}\n`)
      .join(''),
  );
}

/** The shard without tombstoned ids, or null when it holds none. */
async function compactShard(
  stores: IndexStores,
  shard: ShardEntry,
  tombstones: Set<number>,
): Promise<{ input: ShardInput; count: number } | null> {
  const table = await readShard(stores, shard);
  const bpc = table.bytesPerCode;
  const all = table.codes();
  const kept: number[] = [];
  for (let i = 0; i < table.count; i++) if (!tombstones.has(table.idAt(i))) kept.push(i);
  if (kept.length === table.count) return null;
  const codes = new Uint8Array(kept.length * bpc);
  kept.forEach((from, to) => {
    codes.set(all.subarray(from * bpc, (from + 1) * bpc), to * bpc);
  });
  const ids = Uint32Array.from(kept, (i) => table.idAt(i));
  const rewritten = await shardFromCodes(codes, table.bits, ids, undefined, `${shard.key} (compacted)`);
  if (shard.metadata) {
    const metadata = await stores.r2.get(shard.metadata.key);
    if (metadata === null) throw new PublishError(`r2:${shard.metadata.key} is missing`);
    const keep = new Set(kept);
    rewritten.metadata = filterJsonl(metadata, (i) => keep.has(i));
  }
  return { input: rewritten, count: kept.length };
}

export interface CompactOptions extends CommitOptions {
  indexId?: string;
  kvShardMaxBytes?: number;
}

/** Rewrites every shard holding tombstoned ids without them; the new version has no tombstones. */
export async function compact(stores: IndexStores, options: CompactOptions = {}): Promise<PublishResult> {
  const indexId = options.indexId ?? DEFAULT_INDEX_ID;
  const { manifest: base } = await requireActive(stores, indexId);
  if (base.tombstones.length === 0) throw new PublishError(`version ${base.version} has no tombstones to compact`);
  const tombstones = new Set(base.tombstones);
  const touched = new Set(shardsTouching(base.shards, base.tombstones));
  const uploader = new Uploader(stores, 2 * touched.size, options.onProgress);
  const shards: ShardEntry[] = [];
  for (const shard of base.shards) {
    const rewritten = touched.has(shard) ? await compactShard(stores, shard, tombstones) : null;
    if (rewritten === null) shards.push(shard);
    else if (rewritten.count > 0) {
      const { entry } = await uploadShard(uploader, stores, indexId, rewritten.input, {
        bits: base.bits,
        kvShardMaxBytes: options.kvShardMaxBytes ?? DEFAULT_KV_SHARD_MAX_BYTES,
      });
      shards.push(entry);
    }
  }
  const { version: _v, created: _c, ...rest } = base;
  const count = shards.reduce((n, s) => n + s.count, 0);
  return commitVersion(stores, { ...rest, shards, count, tombstones: [], parent: base.version }, options);
}
