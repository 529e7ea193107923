// Requests to the worker in Miniflare, and the reference answers the tests compare with.
import type { Miniflare } from 'miniflare';
import { type ErrorCode, errorStatus } from '../../../schemas/api.js';
import { referenceSearch } from '../../support/referenceRanker.js';
import { BPC, type ShardData } from './fixture.js';

export async function getJson(mf: Miniflare, path: string, init?: RequestInit) {
  const response = await mf.dispatchFetch(`http://localhost${path}`, init as never);
  // biome-ignore lint/suspicious/noExplicitAny: tests read the JSON field by field and compare exactly
  return { status: response.status, headers: response.headers, body: (await response.json()) as any };
}

/** Asserts an ErrorResponse with this code and returns its message. */
export async function expectError(mf: Miniflare, path: string, code: ErrorCode, init?: RequestInit): Promise<string> {
  const { status, body } = await getJson(mf, path, init);
  if (body?.error?.code !== code || status !== errorStatus[code] || typeof body.error.message !== 'string') {
    throw new Error(`${path}: expected error ${code}, got ${status} ${JSON.stringify(body)}`);
  }
  return body.error.message;
}

export const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
export const base64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');

/** Exact top-k over the shards' codes, tombstoned ids removed, ties by ascending id. */
export function reference(
  shards: readonly ShardData[],
  query: Uint8Array,
  k: number,
  radius?: number,
  tombstones: readonly number[] = [],
) {
  const dead = new Set(tombstones);
  const keep = shards.flatMap((s) => s.ids.map((id, i) => ({ id, code: s.codes.subarray(i * BPC, (i + 1) * BPC) })));
  const live = keep.filter((item) => !dead.has(item.id));
  const codes = new Uint8Array(live.length * BPC);
  for (const [i, item] of live.entries()) codes.set(item.code, i * BPC);
  const order = live.map((item) => item.id);
  const result = referenceSearch(codes, BPC, order, query, k, radius);
  return { ids: [...result.ids], distances: [...result.distances] };
}

/** The stored code of an item. */
export function codeOf(shards: readonly ShardData[], id: number): Uint8Array {
  for (const s of shards) {
    const i = s.ids.indexOf(id);
    if (i >= 0) return s.codes.slice(i * BPC, (i + 1) * BPC);
  }
  throw new Error(`no item ${id}`);
}
