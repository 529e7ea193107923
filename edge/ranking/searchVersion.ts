// One page of results from one loaded version: every shard ranked by the wasm kernel, the per-shard
// lists merged by the kernel's ResultMerger, tombstoned ids dropped, then the page cut. Each list is
// sorted by (distance, id), so the order is total and a page boundary never moves between calls.
import type { ResultMerger } from '../../wasm/codeTable.js';
import type { SearchResult } from '../../wasm/searchResult.js';
import type { LoadedVersion } from '../storage/loadedVersion.js';

export interface PageRequest {
  k: number;
  offset: number;
  /** Only hits within this Hamming distance (inclusive). */
  radius?: number;
}

export interface RankedPage {
  ids: number[];
  distances: number[];
  /** Whether results exist past this page. */
  more: boolean;
}

export function searchVersion(
  version: LoadedVersion,
  merger: ResultMerger,
  query: Uint8Array,
  page: PageRequest,
): RankedPage {
  // One extra result tells whether a next page exists; tombstoned ids may take places in the prefix.
  const want = page.offset + page.k + 1 + version.tombstones.size;
  const lists: SearchResult[] = version.shards.map(({ table }) =>
    table.search(query, Math.min(want, table.count), { radius: page.radius }),
  );
  const merged = lists.length === 1 ? lists[0] : merger.merge(lists, want);
  const ids: number[] = [];
  const distances: number[] = [];
  let live = 0;
  for (let i = 0; i < merged.ids.length && live <= page.offset + page.k; i++) {
    const id = merged.ids[i];
    if (version.tombstones.has(id)) continue;
    if (live >= page.offset && live < page.offset + page.k) {
      ids.push(id);
      distances.push(merged.distances[i]);
    }
    live++;
  }
  return { ids, distances, more: live > page.offset + page.k };
}
