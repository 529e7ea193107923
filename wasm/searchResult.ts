/** Ranked results of one query: ids and Hamming distances, sorted by (distance, id). */
export interface SearchResult {
  ids: Uint32Array;
  distances: Uint16Array;
}

export interface SearchOptions {
  /** Only codes within this Hamming distance qualify (default: no limit). */
  radius?: number;
}
