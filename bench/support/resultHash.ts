import type { SearchResult } from '../../wasm/searchResult.js';

/** FNV-1a over ids and distances: two runtimes agree on every result iff their hashes agree. */
export function hashResults(results: Iterable<SearchResult>, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  const mix = (v: number) => {
    h = Math.imul(h ^ v, 0x01000193) >>> 0;
  };
  for (const { ids, distances } of results) {
    mix(ids.length);
    for (let i = 0; i < ids.length; i++) {
      mix(ids[i]);
      mix(distances[i]);
    }
  }
  return h;
}
