// Plain TypeScript Hamming ranking: the specification the wasm kernel is tested against.
import type { SearchResult } from '../../wasm/searchResult.js';

const POPCOUNT = Uint8Array.from({ length: 256 }, (_, i) => {
  let c = 0;
  for (let v = i; v; v >>= 1) c += v & 1;
  return c;
});

export function hamming(a: Uint8Array, b: Uint8Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += POPCOUNT[a[i] ^ b[i]];
  return d;
}

/** Top-k of `query` among row-major `codes`, ids ascending with position, ties by id. */
export function referenceSearch(
  codes: Uint8Array,
  bytesPerCode: number,
  ids: ArrayLike<number>,
  query: Uint8Array,
  k: number,
  radius = Number.POSITIVE_INFINITY,
): SearchResult {
  const n = codes.length / bytesPerCode;
  const hits: Array<[number, number]> = [];
  for (let i = 0; i < n; i++) {
    const d = hamming(codes.subarray(i * bytesPerCode, (i + 1) * bytesPerCode), query);
    if (d <= radius) hits.push([d, ids[i]]);
  }
  hits.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  const top = hits.slice(0, k);
  return { ids: Uint32Array.from(top, (h) => h[1]), distances: Uint16Array.from(top, (h) => h[0]) };
}
