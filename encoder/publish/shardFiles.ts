// Shards as the publish pipeline takes them: a code-table file, its item metadata (JSONL) and optional
// thumbnails, each read only when needed so publishing holds one shard in memory at a time.
import { readFile } from 'node:fs/promises';
import type { ItemMetadata } from '../../schemas/item.js';
import { CodeTable, type ItemIds } from '../../wasm/codeTable.js';
import { loadKernelModule } from '../../wasm/nodeModule.js';

export type Bytes = Uint8Array | (() => Promise<Uint8Array>);

export interface Thumbnail {
  id: number;
  jpeg: Uint8Array;
}

export interface ShardInput {
  /** Name for messages (a file path, or shard-N). */
  name: string;
  /** The code-table file (schemas/codeTable.ts format). */
  table: Bytes;
  /** JSONL of ItemMetadata for the shard's ids, in id order. */
  metadata?: Bytes;
  thumbnails?: () => AsyncIterable<Thumbnail>;
}

export async function bytesOf(bytes: Bytes): Promise<Uint8Array> {
  return typeof bytes === 'function' ? bytes() : bytes;
}

export function fileBytes(path: string): () => Promise<Uint8Array> {
  return async () => new Uint8Array(await readFile(path));
}

/** Loads and fully validates a shard file (header, length, trailer checksum, id order). */
export async function loadShard(bytes: Uint8Array, name: string): Promise<CodeTable> {
  return CodeTable.load(await loadKernelModule(), bytes, name);
}

export function metadataJsonl(items: readonly ItemMetadata[]): Uint8Array {
  return new TextEncoder().encode(items.map((item) => `${JSON.stringify(item)}\n`).join(''));
}

/**
 * A shard built in memory from row-major packed codes (schemas/codeTable.ts packCodes), with an id
 * table (or an id range) and optional metadata: how tests and the edge's fixtures seed an index.
 */
export async function shardFromCodes(
  codes: Uint8Array,
  bits: number,
  ids: ItemIds,
  metadata?: readonly ItemMetadata[],
  name = 'shard',
): Promise<ShardInput> {
  const table = await CodeTable.fromCodes(await loadKernelModule(), codes, bits, ids);
  return { name, table: await table.serialize(), metadata: metadata ? metadataJsonl(metadata) : undefined };
}
