// A search request against one pinned version, from query code to SearchResponse: ranking, the
// page's metadata and the cursor of the next page.
import { MAX_DEPTH, type SearchHit, type SearchParams, type SearchResponse } from '../../schemas/api.js';
import { toHex } from '../bytes.js';
import { ApiError } from '../errors.js';
import type { EdgeServices } from '../services.js';
import type { KeepAlive } from '../storage/keepAlive.js';
import type { LoadedVersion } from '../storage/loadedVersion.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { searchVersion } from './searchVersion.js';

export interface PageTarget {
  /** The version to read: the cursor's, else the one requested, else (undefined) the active one. */
  version: number | undefined;
  offset: number;
}

/** Where a page starts: a cursor overrides offset and version. */
export function pageTarget(params: Pick<SearchParams, 'cursor' | 'offset' | 'version'>): PageTarget {
  return params.cursor ? decodeCursor(params.cursor) : { version: params.version, offset: params.offset };
}

export async function searchPage(
  services: EdgeServices,
  version: LoadedVersion,
  code: Uint8Array,
  params: Pick<SearchParams, 'k' | 'radius'> & { offset: number },
  keepAlive: KeepAlive,
  timing: { decodeMs?: number; hashMs?: number } = {},
): Promise<SearchResponse> {
  const { k, offset, radius } = params;
  if (offset + k > MAX_DEPTH) {
    throw new ApiError('invalid_parameter', `offset + k is ${offset + k}; results are served to depth ${MAX_DEPTH}`);
  }
  if (radius !== undefined && radius > version.bits) {
    throw new ApiError('invalid_parameter', `radius ${radius} exceeds the index's ${version.bits} bits`);
  }
  const merger = await services.resultMerger();
  const started = performance.now();
  const page = searchVersion(version, merger, code, { k, offset, radius });
  const rankMs = performance.now() - started;
  const locations = page.ids.map((id) => version.locate(id));
  const metadata = await version.metadataOf(
    locations.filter((l) => l !== null),
    keepAlive,
  );
  const hits: SearchHit[] = page.ids.map((id, i) => {
    const location = locations[i];
    const item = location ? metadata.get(location) : undefined;
    return item ? { id, distance: page.distances[i], metadata: item } : { id, distance: page.distances[i] };
  });
  return {
    indexId: version.manifest.indexId,
    version: version.version,
    bits: version.bits,
    code: toHex(code),
    offset,
    hits,
    next: page.more ? encodeCursor({ version: version.version, offset: offset + k }) : null,
    timing: { ...timing, rankMs },
  };
}
