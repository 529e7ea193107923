// Index manifest: what one immutable index version holds. The publish pipeline writes it, the edge
// reads it; both validate with this schema.
import { z } from 'zod';
import { MAX_BITS } from './codeTable.js';
import { ItemId } from './item.js';

export const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'expected a lowercase hex SHA-256');
export const IndexId = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'lowercase letters, digits, - and _, at most 64');

export const StoredFile = z.object({
  /** Storage key (schemas/storage.ts builds them). */
  key: z.string().min(1),
  bytes: z.number().int().positive(),
  /** SHA-256 of the whole file. */
  checksum: Sha256Hex,
});
export type StoredFile = z.infer<typeof StoredFile>;

export const ShardEntry = z.object({
  /** Storage key of the shard file. */
  key: z.string().min(1),
  /** Where the shard lives: R2 by default; small shards may sit in KV for faster cold reads. */
  store: z.enum(['r2', 'kv']).default('r2'),
  /** Codes in the shard. */
  count: z.number().int().min(0),
  /** Size of the shard file in bytes. */
  bytes: z.number().int().positive(),
  /** SHA-256 of the whole shard file. */
  checksum: Sha256Hex,
  /** Item metadata for the shard's ids (JSONL of ItemMetadata, in id order), in R2. */
  metadata: StoredFile.optional(),
  /** Smallest and largest item id in the shard (absent when empty or in older manifests). */
  ids: z
    .object({ first: ItemId, last: ItemId })
    .refine((r) => r.first <= r.last, { message: 'first must not exceed last' })
    .optional(),
});
export type ShardEntry = z.infer<typeof ShardEntry>;

export const IndexManifest = z
  .object({
    indexId: IndexId,
    /** Monotonic version number; a version is immutable once published. */
    version: z.number().int().positive(),
    /** The model whose codes this version holds: queries are hashed with exactly this model. */
    model: z.object({
      id: z.string().min(1),
      /** SHA-256 of the ONNX file the edge hashes queries with. */
      checksum: Sha256Hex,
      /** R2 keys of the ONNX file and its model card; absent only in code-only indexes. */
      key: z.string().min(1).optional(),
      cardKey: z.string().min(1).optional(),
    }),
    bits: z.number().int().min(8).max(MAX_BITS).multipleOf(8),
    /** Total codes over all shards. */
    count: z.number().int().min(0),
    shards: z.array(ShardEntry),
    /** Ids deleted since the shards were written (incremental delete); compaction empties it. */
    tombstones: z.array(z.number().int().min(0).max(0xffffffff)).default([]),
    /** The version this one was derived from by an incremental add/delete, if any. */
    parent: z.number().int().positive().optional(),
    created: z.iso.datetime(),
  })
  .refine((m) => m.shards.reduce((sum, s) => sum + s.count, 0) === m.count, {
    message: 'count must equal the sum of the shard counts (tombstoned ids included)',
    path: ['count'],
  })
  .refine((m) => new Set(m.shards.map((s) => s.key)).size === m.shards.length, {
    message: 'shard keys must be unique',
    path: ['shards'],
  });
export type IndexManifest = z.infer<typeof IndexManifest>;
