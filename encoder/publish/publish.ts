// Publishing a version: upload the content-addressed files that are missing, verify every file of the
// version by reading it back, write the manifest, and only then flip the active pointer (one KV put).
// A crash anywhere before the flip leaves the live version untouched; a re-run re-uses what arrived.
import { ItemMetadata } from '../../schemas/item.js';
import { IndexManifest, type ShardEntry, type StoredFile } from '../../schemas/manifest.js';
import { ModelCard } from '../../schemas/modelCard.js';
import { type ActivePointer, DEFAULT_INDEX_ID, storageKeys } from '../../schemas/storage.js';
import type { CodeTable } from '../../wasm/codeTable.js';
import { sha256Hex } from '../export/modelCard.js';
import { storeOf, verifyVersion } from './files.js';
import { type PruneResult, pruneVersions } from './retention.js';
import { type Bytes, bytesOf, loadShard, type ShardInput } from './shardFiles.js';
import type { IndexStores } from './store.js';
import {
  durableManifest,
  jsonBytes,
  manifestVersions,
  PublishError,
  readManifest,
  readPointer,
  writeManifest,
  writePointer,
} from './versions.js';

/** A model file and its card, uploaded to R2 with the version. */
export interface ModelFiles {
  onnx: Bytes;
  /** The model card (JSON bytes or the parsed card). */
  card: Uint8Array | ModelCard;
}

/** A model named only by id and checksum: a code-only index (tests, or a model hosted elsewhere). */
export interface ModelRef {
  id: string;
  checksum: string;
}

export type PublishEvent =
  | { event: 'uploaded' | 'present'; key: string; done: number; total: number }
  | { event: 'thumbnails'; uploaded: number; present: number }
  | { event: 'verified'; key: string; done: number; total: number }
  | { event: 'manifest'; version: number; reused: boolean }
  | { event: 'activated'; version: number; previous?: number }
  | { event: 'pruned'; versions: number[]; files: number };

export interface CommitOptions {
  /** Versions to keep (the newest N, plus the active one); default DEFAULT_KEEP. */
  keep?: number;
  /** Flip the pointer to the new version (default true). */
  activate?: boolean;
  onProgress?: (event: PublishEvent) => void;
}

export interface PublishOptions extends CommitOptions {
  indexId?: string;
  shards: readonly ShardInput[];
  model: ModelFiles | ModelRef;
  /** Shard files up to this size go to KV (faster cold reads), larger ones to R2. */
  kvShardMaxBytes?: number;
}

export interface PublishResult {
  version: number;
  manifest: IndexManifest;
  /** The pointer after the operation (unchanged when activate is false). */
  pointer: ActivePointer | null;
  pruned: PruneResult;
}

export const DEFAULT_KEEP = 5;
export const DEFAULT_KV_SHARD_MAX_BYTES = 256 * 1024;

/** The manifest of a version before it has a number. */
export type ManifestDraft = Omit<IndexManifest, 'version' | 'created'>;

type Progress = CommitOptions['onProgress'];

/** Uploads counted for progress reporting (the kill tests watch these lines). */
export class Uploader {
  done = 0;
  constructor(
    private readonly stores: IndexStores,
    public total: number,
    private readonly onProgress: Progress,
  ) {}

  /** Puts the file unless its content-addressed key already exists; returns its StoredFile. */
  async put(store: 'kv' | 'r2', key: (checksum: string) => string, bytes: Uint8Array): Promise<StoredFile> {
    const checksum = sha256Hex(bytes);
    const stored = { key: key(checksum), bytes: bytes.length, checksum };
    const target = storeOf(this.stores, store);
    const present = await target.has(stored.key);
    if (!present) await target.put(stored.key, bytes);
    this.done++;
    this.onProgress?.({ event: present ? 'present' : 'uploaded', key: stored.key, done: this.done, total: this.total });
    return stored;
  }
}

function idRange(table: CodeTable): ShardEntry['ids'] {
  return table.count === 0 ? undefined : { first: table.idAt(0), last: table.idAt(table.count - 1) };
}

/** Checks that the metadata JSONL has one valid ItemMetadata line per code, in the table's id order. */
export function checkMetadata(bytes: Uint8Array, table: CodeTable, name: string): void {
  const lines = new TextDecoder().decode(bytes).split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (lines.length !== table.count) {
    throw new PublishError(`${name}: metadata has ${lines.length} lines for ${table.count} codes`);
  }
  for (const [i, line] of lines.entries()) {
    let item: ItemMetadata;
    try {
      item = ItemMetadata.parse(JSON.parse(line));
    } catch (error) {
      throw new PublishError(`${name}: metadata line ${i + 1}: ${(error as Error).message.split('\n')[0]}`);
    }
    if (item.id !== table.idAt(i)) {
      throw new PublishError(`${name}: metadata line ${i + 1} has id ${item.id}, the table has ${table.idAt(i)}`);
    }
  }
}

/** Validates one shard, uploads it (and its metadata and thumbnails), and returns its manifest entry. */
export async function uploadShard(
  uploader: Uploader,
  stores: IndexStores,
  indexId: string,
  shard: ShardInput,
  options: { bits: number | undefined; kvShardMaxBytes: number; onProgress?: Progress },
): Promise<{ entry: ShardEntry; table: CodeTable }> {
  const bytes = await bytesOf(shard.table);
  const table = await loadShard(bytes, shard.name);
  if (options.bits !== undefined && table.bits !== options.bits) {
    throw new PublishError(`${shard.name}: ${table.bits}-bit codes, the index holds ${options.bits}-bit codes`);
  }
  const metadataBytes = shard.metadata === undefined ? undefined : await bytesOf(shard.metadata);
  if (metadataBytes) checkMetadata(metadataBytes, table, shard.name);
  const store = bytes.length <= options.kvShardMaxBytes ? 'kv' : 'r2';
  const file = await uploader.put(store, (c) => storageKeys.shard(indexId, c), bytes);
  const metadata = metadataBytes
    ? await uploader.put('r2', (c) => storageKeys.metadata(indexId, c), metadataBytes)
    : undefined;
  if (shard.thumbnails) await uploadThumbnails(stores, indexId, shard.thumbnails(), options.onProgress);
  return { entry: { ...file, store, count: table.count, metadata, ids: idRange(table) }, table };
}

async function uploadThumbnails(
  stores: IndexStores,
  indexId: string,
  thumbnails: AsyncIterable<{ id: number; jpeg: Uint8Array }>,
  onProgress: Progress,
): Promise<void> {
  let uploaded = 0;
  let present = 0;
  for await (const { id, jpeg } of thumbnails) {
    const key = storageKeys.thumbnail(indexId, id);
    if (await stores.r2.has(key)) present++;
    else {
      await stores.r2.put(key, jpeg);
      uploaded++;
    }
  }
  onProgress?.({ event: 'thumbnails', uploaded, present });
}

/** Uploads the ONNX file and its card; returns the manifest's model entry and the card. */
async function uploadModel(
  uploader: Uploader,
  model: ModelFiles,
): Promise<{ ref: IndexManifest['model']; bits: number }> {
  const onnx = await bytesOf(model.onnx);
  const cardJson = model.card instanceof Uint8Array ? JSON.parse(new TextDecoder().decode(model.card)) : model.card;
  const parsed = ModelCard.safeParse(cardJson);
  if (!parsed.success) throw new PublishError(`model card: ${parsed.error.issues[0]?.message}`);
  const card = parsed.data;
  const checksum = sha256Hex(onnx);
  if (checksum !== card.onnx.checksum) {
    throw new PublishError(`model card ${card.modelId} describes ONNX ${card.onnx.checksum}, the file is ${checksum}`);
  }
  const key = await uploader.put('r2', (c) => storageKeys.model(card.modelId, c), onnx);
  const cardBytes = model.card instanceof Uint8Array ? model.card : jsonBytes(card);
  const cardKey = await uploader.put('r2', () => storageKeys.modelCard(card.modelId, checksum), cardBytes);
  return { ref: { id: card.modelId, checksum, key: key.key, cardKey: cardKey.key }, bits: card.bits };
}

function isModelFiles(model: ModelFiles | ModelRef): model is ModelFiles {
  return 'onnx' in model;
}

/** Requires pairwise disjoint id ranges, so item ids stay unique across shards. */
export function checkDisjoint(shards: readonly ShardEntry[]): void {
  const ranges = shards.filter((s) => s.ids !== undefined).sort((a, b) => a.ids!.first - b.ids!.first);
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i].ids!.first <= ranges[i - 1].ids!.last) {
      throw new PublishError(
        `shards ${ranges[i - 1].key} and ${ranges[i].key} overlap in item ids (${ranges[i].ids!.first}..${ranges[i - 1].ids!.last})`,
      );
    }
  }
}

/** Publishes a complete version from shards and a model; activates it unless activate is false. */
export async function publishVersion(stores: IndexStores, options: PublishOptions): Promise<PublishResult> {
  const indexId = options.indexId ?? DEFAULT_INDEX_ID;
  if (options.shards.length === 0) throw new PublishError('nothing to publish: no shards');
  const withModel = isModelFiles(options.model);
  const perShard = options.shards.map((s) => 1 + (s.metadata ? 1 : 0)).reduce((a, b) => a + b, 0);
  const uploader = new Uploader(stores, perShard + (withModel ? 2 : 0), options.onProgress);
  let model: IndexManifest['model'];
  let bits: number | undefined;
  if (isModelFiles(options.model)) ({ ref: model, bits } = await uploadModel(uploader, options.model));
  else model = { id: options.model.id, checksum: options.model.checksum };
  const shards: ShardEntry[] = [];
  for (const shard of options.shards) {
    const { entry, table } = await uploadShard(uploader, stores, indexId, shard, {
      bits,
      kvShardMaxBytes: options.kvShardMaxBytes ?? DEFAULT_KV_SHARD_MAX_BYTES,
      onProgress: options.onProgress,
    });
    bits ??= table.bits;
    shards.push(entry);
  }
  checkDisjoint(shards);
  const count = shards.reduce((sum, s) => sum + s.count, 0);
  return commitVersion(stores, { indexId, model, bits: bits!, count, shards, tombstones: [] }, options);
}

function sameContent(a: ManifestDraft, b: ManifestDraft): boolean {
  const strip = ({ version: _v, created: _c, ...rest }: IndexManifest) => rest;
  const at = new Date(0).toISOString();
  return (
    JSON.stringify(strip(IndexManifest.parse({ ...a, version: 1, created: at }))) ===
    JSON.stringify(strip(IndexManifest.parse({ ...b, version: 1, created: at })))
  );
}

/**
 * Turns a draft whose files are all uploaded into a live version: verify every file, write the
 * manifest, flip, prune. When the newest version already has this content (left unactivated by an
 * interrupted run, or the same publish run twice) it is re-used instead of a new identical version.
 */
export async function commitVersion(
  stores: IndexStores,
  draft: ManifestDraft,
  options: CommitOptions,
): Promise<PublishResult> {
  const { indexId } = draft;
  const pointer = await readPointer(stores, indexId);
  const versions = await manifestVersions(stores, indexId);
  const newest = versions.at(-1);
  let manifest: IndexManifest | undefined;
  if (newest !== undefined && newest >= (pointer?.version ?? 0)) {
    const candidate = await readManifest(stores, indexId, newest);
    if (sameContent(candidate, draft)) manifest = candidate;
  }
  const reused = manifest !== undefined;
  // KV's list can lag behind a version just written; the pointer and R2 do not. A manifest R2 holds
  // past the listed ones is this content's own (a run interrupted before KV had it), taken up again,
  // or another publish's, whose number this one goes past.
  for (let version = Math.max(newest ?? 0, pointer?.version ?? 0, pointer?.previous ?? 0) + 1; !manifest; version++) {
    const unlisted = await durableManifest(stores, indexId, version);
    if (unlisted === null) manifest = IndexManifest.parse({ ...draft, version, created: new Date().toISOString() });
    else if (sameContent(unlisted, draft)) manifest = unlisted;
  }
  await verifyVersion(stores, manifest, (file, done, total) =>
    options.onProgress?.({ event: 'verified', key: file.key, done, total }),
  );
  if (!reused) await writeManifest(stores, manifest);
  options.onProgress?.({ event: 'manifest', version: manifest.version, reused });
  let live = pointer;
  if ((options.activate ?? true) && pointer?.version !== manifest.version) {
    live = await writePointer(stores, indexId, manifest.version, pointer);
    options.onProgress?.({ event: 'activated', version: live.version, previous: live.previous });
  }
  const pruned = await pruneVersions(stores, indexId, options.keep ?? DEFAULT_KEEP);
  if (pruned.versions.length > 0) options.onProgress?.({ event: 'pruned', ...pruned });
  return { version: manifest.version, manifest, pointer: live, pruned };
}
