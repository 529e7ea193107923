// Where everything lives in R2 and KV. The publish pipeline writes these keys and the edge reads them;
// both build keys only through this module.
//
// Content-addressed files (shards, metadata, models) are immutable and shared between versions, so an
// incremental version re-uses every shard it did not change. Manifests are per version. The one
// mutable key is the active-version pointer in KV: flipping it is how a version goes live.
import { z } from 'zod';
import { CODE_TABLE_FILE_EXTENSION } from './codeTable.js';

export const storageKeys = {
  shard: (indexId: string, checksum: string) => `indexes/${indexId}/shards/${checksum}${CODE_TABLE_FILE_EXTENSION}`,
  metadata: (indexId: string, checksum: string) => `indexes/${indexId}/metadata/${checksum}.jsonl`,
  thumbnail: (indexId: string, id: number) => `indexes/${indexId}/thumbnails/${id}.jpg`,
  model: (modelId: string, checksum: string) => `models/${modelId}/${checksum}.onnx`,
  modelCard: (modelId: string, checksum: string) => `models/${modelId}/${checksum}.card.json`,
  /** In KV (read by the edge) and R2 (the durable copy). Zero-padded so listings sort by version. */
  manifest: (indexId: string, version: number) =>
    `indexes/${indexId}/manifests/${String(version).padStart(10, '0')}.json`,
  manifestPrefix: (indexId: string) => `indexes/${indexId}/manifests/`,
  /** KV: the ActivePointer of an index. */
  active: (indexId: string) => `indexes/${indexId}/active`,
} as const;

/** The value under storageKeys.active: the live version and the one before it (for rollback). */
export const ActivePointer = z.object({
  version: z.number().int().positive(),
  previous: z.number().int().positive().optional(),
  updated: z.iso.datetime(),
});
export type ActivePointer = z.infer<typeof ActivePointer>;

/** Binding names in wrangler.toml; the publish pipeline's local store uses the same names. */
export const bindings = { kv: 'EDGEHASH_KV', r2: 'EDGEHASH_R2' } as const;

export const DEFAULT_INDEX_ID = 'default';
