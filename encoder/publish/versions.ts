// Reading and writing what makes a version: manifests (KV for the edge, R2 as the durable copy) and the
// one mutable key, the KV active pointer.
import { IndexManifest } from '../../schemas/manifest.js';
import { ActivePointer, storageKeys } from '../../schemas/storage.js';
import { UserError } from '../errors.js';
import type { IndexStores } from './store.js';

/** A publish-side failure the caller can explain (bad input, missing version, failed verification). */
export class PublishError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'PublishError';
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function jsonBytes(value: unknown): Uint8Array {
  return encoder.encode(`${JSON.stringify(value, null, 1)}\n`);
}

function parseJson(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(decoder.decode(bytes));
  } catch (error) {
    throw new PublishError(`${what}: not JSON (${(error as Error).message})`);
  }
}

export async function readPointer(stores: IndexStores, indexId: string): Promise<ActivePointer | null> {
  const key = storageKeys.active(indexId);
  const bytes = await stores.kv.get(key);
  if (bytes === null) return null;
  const parsed = ActivePointer.safeParse(parseJson(bytes, key));
  if (!parsed.success) throw new PublishError(`${key}: not an active pointer (${parsed.error.issues[0]?.message})`);
  return parsed.data;
}

/** The flip: one KV put of the pointer. `previous` remembers the version it replaces, for rollback. */
export async function writePointer(
  stores: IndexStores,
  indexId: string,
  version: number,
  current: ActivePointer | null,
): Promise<ActivePointer> {
  const pointer: ActivePointer = ActivePointer.parse({
    version,
    previous: current && current.version !== version ? current.version : current?.previous,
    updated: new Date().toISOString(),
  });
  await stores.kv.put(storageKeys.active(indexId), jsonBytes(pointer));
  return pointer;
}

export async function readManifest(stores: IndexStores, indexId: string, version: number): Promise<IndexManifest> {
  const key = storageKeys.manifest(indexId, version);
  const bytes = (await stores.kv.get(key)) ?? (await stores.r2.get(key));
  if (bytes === null) throw new PublishError(`index ${indexId} has no version ${version} (${key} is absent)`);
  const parsed = IndexManifest.safeParse(parseJson(bytes, key));
  if (!parsed.success) throw new PublishError(`${key}: invalid manifest (${parsed.error.issues[0]?.message})`);
  return parsed.data;
}

/** The manifest R2 holds for a version, if any: R2 reads its own writes, where KV's list can lag. */
export async function durableManifest(
  stores: IndexStores,
  indexId: string,
  version: number,
): Promise<IndexManifest | null> {
  const key = storageKeys.manifest(indexId, version);
  const bytes = await stores.r2.get(key);
  if (bytes === null) return null;
  const parsed = IndexManifest.safeParse(parseJson(bytes, key));
  if (!parsed.success) throw new PublishError(`${key}: invalid manifest (${parsed.error.issues[0]?.message})`);
  return parsed.data;
}

/**
 * Writes the manifest to R2 and KV and reads both back. Immutable: where R2 already holds another
 * manifest under this version (a publish running at the same time took the number), it stops.
 */
export async function writeManifest(stores: IndexStores, manifest: IndexManifest): Promise<void> {
  const key = storageKeys.manifest(manifest.indexId, manifest.version);
  const bytes = jsonBytes(IndexManifest.parse(manifest));
  const existing = await stores.r2.get(key);
  if (existing !== null && Buffer.compare(existing, bytes) !== 0) {
    throw new PublishError(
      `${key}: index ${manifest.indexId} already has a version ${manifest.version} with other content ` +
        '(another publish at the same time?); publish again for the next number',
    );
  }
  for (const store of [stores.r2, stores.kv]) {
    await store.put(key, bytes);
    const back = await store.get(key);
    if (back === null || Buffer.compare(back, bytes) !== 0) throw new PublishError(`${key}: read-back differs`);
  }
}

/** Versions with a manifest in KV, ascending. */
export async function manifestVersions(stores: IndexStores, indexId: string): Promise<number[]> {
  const prefix = storageKeys.manifestPrefix(indexId);
  const keys = await stores.kv.list(prefix);
  return keys
    .map((k) => /^(\d+)\.json$/.exec(k.slice(prefix.length)))
    .filter((m) => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

/** The active version and its manifest, or null when nothing was activated yet. */
export async function readActive(
  stores: IndexStores,
  indexId: string,
): Promise<{ pointer: ActivePointer; manifest: IndexManifest } | null> {
  const pointer = await readPointer(stores, indexId);
  if (pointer === null) return null;
  return { pointer, manifest: await readManifest(stores, indexId, pointer.version) };
}

export async function requireActive(stores: IndexStores, indexId: string) {
  const active = await readActive(stores, indexId);
  if (active === null) throw new PublishError(`index ${indexId} has no active version; publish one first`);
  return active;
}
