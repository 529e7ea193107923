// Reads one index's records from KV and R2 through schemas/storage.ts keys, validating each with
// its schema. A record that fails validation is an internal fault (IndexStoreError), not bad input.
import { IndexManifest } from '../../schemas/manifest.js';
import { ActivePointer, storageKeys } from '../../schemas/storage.js';
import type { KvBinding, R2Binding, R2ObjectBodyLike } from './bindings.js';

export class IndexStoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IndexStoreError';
  }
}

function parseJson<T>(
  text: string,
  schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { message: string } } },
  key: string,
): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new IndexStoreError(`${key}: not JSON`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new IndexStoreError(`${key}: ${parsed.error.message}`);
  return parsed.data;
}

export class IndexReader {
  constructor(
    readonly kv: KvBinding,
    readonly r2: R2Binding,
    readonly indexId: string,
  ) {}

  async pointer(): Promise<ActivePointer | null> {
    const key = storageKeys.active(this.indexId);
    const text = await this.kv.get(key, 'text');
    return text === null ? null : parseJson(text, ActivePointer, key);
  }

  /** The flip: one KV put (publish writes the pointer the same way, encoder/publish/versions.ts). */
  async writePointer(pointer: ActivePointer): Promise<void> {
    await this.kv.put(storageKeys.active(this.indexId), JSON.stringify(ActivePointer.parse(pointer)));
  }

  /** A version's manifest from KV, or from R2 (the durable copy) when KV does not have it. */
  async manifest(version: number): Promise<IndexManifest | null> {
    const key = storageKeys.manifest(this.indexId, version);
    const text = (await this.kv.get(key, 'text')) ?? (await (await this.r2.get(key))?.arrayBuffer()) ?? null;
    if (text === null) return null;
    const manifest = parseJson(typeof text === 'string' ? text : new TextDecoder().decode(text), IndexManifest, key);
    if (manifest.indexId !== this.indexId || manifest.version !== version) {
      throw new IndexStoreError(`${key}: holds ${manifest.indexId} version ${manifest.version}`);
    }
    return manifest;
  }

  async bytes(store: 'kv' | 'r2', key: string): Promise<Uint8Array> {
    const buffer =
      store === 'kv' ? await this.kv.get(key, 'arrayBuffer') : await (await this.r2.get(key))?.arrayBuffer();
    if (!buffer) throw new IndexStoreError(`${store}:${key} is missing`);
    return new Uint8Array(buffer);
  }

  /** An R2 object to stream (models, thumbnails), or null. */
  object(key: string): Promise<R2ObjectBodyLike | null> {
    return this.r2.get(key);
  }
}
