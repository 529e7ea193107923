// Item metadata: one JSON object per indexed item, written by `edgehash encode` (JSONL, one line per
// item in id order) and returned by the edge with each hit.
import { z } from 'zod';

export const ItemId = z.number().int().min(0).max(0xffffffff);

export const ItemMetadata = z.object({
  id: ItemId,
  /** Where the item came from: a file path relative to the collection root, a URL, or dataset:index. */
  source: z.string().optional(),
  /** Class names (single-label datasets give one). */
  labels: z.array(z.string()).optional(),
  /** Absolute URL or a path served by the edge (e.g. /v1/items/12/thumbnail). */
  thumbnail: z.string().optional(),
});
export type ItemMetadata = z.infer<typeof ItemMetadata>;
