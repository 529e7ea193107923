// Index manifest: what one immutable index version holds. The publish pipeline writes it, the edge
// reads it; both validate with this schema.
import { z } from 'zod';
import { MAX_BITS } from './codeTable.js';

export const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'expected a lowercase hex SHA-256');
export const IndexId = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'lowercase letters, digits, - and _, at most 64');

export const ShardEntry = z.object({
  /** Storage key of the shard file (R2 or KV). */
  key: z.string().min(1),
  /** Codes in the shard. */
  count: z.number().int().min(0),
  /** Size of the shard file in bytes. */
  bytes: z.number().int().positive(),
  /** SHA-256 of the whole shard file. */
  checksum: Sha256Hex,
});
export type ShardEntry = z.infer<typeof ShardEntry>;

export const IndexManifest = z
  .object({
    indexId: IndexId,
    /** Monotonic version number; a version is immutable once published. */
    version: z.number().int().positive(),
    /** The model whose codes this version holds: queries are hashed with exactly this model. */
    model: z.object({ id: z.string().min(1), checksum: Sha256Hex }),
    bits: z.number().int().min(8).max(MAX_BITS).multipleOf(8),
    /** Total codes over all shards. */
    count: z.number().int().min(0),
    shards: z.array(ShardEntry),
    created: z.iso.datetime(),
  })
  .refine((m) => m.shards.reduce((sum, s) => sum + s.count, 0) === m.count, {
    message: 'count must equal the sum of the shard counts',
    path: ['count'],
  })
  .refine((m) => new Set(m.shards.map((s) => s.key)).size === m.shards.length, {
    message: 'shard keys must be unique',
    path: ['shards'],
  });
export type IndexManifest = z.infer<typeof IndexManifest>;
