// The two stores an index lives in (schemas/storage.ts: KV for manifests, the active pointer and small
// shards; R2 for shards, metadata, models and thumbnails), behind one small interface so the publish
// pipeline runs unchanged against Workers bindings, Miniflare's on-disk state and the Cloudflare API.

/** A key-value blob store. Every put is atomic: a reader sees the old value or the whole new one. */
export interface BlobStore {
  /** The value, or null when the key is absent. */
  get(key: string): Promise<Uint8Array | null>;
  has(key: string): Promise<boolean>;
  put(key: string, bytes: Uint8Array): Promise<void>;
  /** Deletes the keys; absent keys are ignored. */
  delete(keys: readonly string[]): Promise<void>;
  /** Every key starting with `prefix`, in ascending order. */
  list(prefix: string): Promise<string[]>;
}

export interface IndexStores {
  kv: BlobStore;
  r2: BlobStore;
}

/** The part of a Workers KVNamespace binding the stores use (Miniflare's getKVNamespace() has it too). */
export interface KvNamespaceLike {
  get(key: string, type: 'arrayBuffer'): Promise<ArrayBuffer | null>;
  put(key: string, value: ArrayBuffer | ArrayBufferView | string): Promise<void>;
  delete(key: string): Promise<void>;
  list(options: { prefix?: string; cursor?: string; limit?: number }): Promise<{
    keys: { name: string }[];
    list_complete: boolean;
    cursor?: string;
  }>;
}

/** The part of a Workers R2Bucket binding the stores use (Miniflare's getR2Bucket() has it too). */
export interface R2BucketLike {
  get(key: string): Promise<{ arrayBuffer(): Promise<ArrayBuffer> } | null>;
  head(key: string): Promise<unknown | null>;
  put(key: string, value: ArrayBuffer | ArrayBufferView | string): Promise<unknown>;
  delete(keys: string | string[]): Promise<void>;
  list(options: { prefix?: string; cursor?: string; limit?: number }): Promise<{
    objects: { key: string }[];
    truncated: boolean;
    cursor?: string;
  }>;
}

// R2's delete takes at most 1000 keys per call.
const R2_DELETE_BATCH = 1000;

/** A plain Uint8Array: bindings proxied by Miniflare cannot rebuild a Node Buffer on the other side. */
function plain(bytes: Uint8Array): Uint8Array {
  return bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes);
}

/** Follows a paged listing to the end; returns every key, ascending. */
export async function listAllPages(
  page: (cursor: string | undefined) => Promise<{ keys: string[]; next: string | undefined }>,
): Promise<string[]> {
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const result = await page(cursor);
    keys.push(...result.keys);
    cursor = result.next || undefined;
  } while (cursor);
  return keys.sort();
}

export function kvStore(kv: KvNamespaceLike): BlobStore {
  return {
    async get(key) {
      const value = await kv.get(key, 'arrayBuffer');
      return value === null ? null : new Uint8Array(value);
    },
    async has(key) {
      return (await kv.get(key, 'arrayBuffer')) !== null;
    },
    async put(key, bytes) {
      await kv.put(key, plain(bytes));
    },
    async delete(keys) {
      for (const key of keys) await kv.delete(key);
    },
    list(prefix) {
      return listAllPages(async (cursor) => {
        const page = await kv.list({ prefix, cursor });
        return { keys: page.keys.map((k) => k.name), next: page.list_complete ? undefined : page.cursor };
      });
    },
  };
}

export function r2Store(r2: R2BucketLike): BlobStore {
  return {
    async get(key) {
      const object = await r2.get(key);
      return object === null ? null : new Uint8Array(await object.arrayBuffer());
    },
    async has(key) {
      return (await r2.head(key)) !== null;
    },
    async put(key, bytes) {
      await r2.put(key, plain(bytes));
    },
    async delete(keys) {
      for (let i = 0; i < keys.length; i += R2_DELETE_BATCH) await r2.delete(keys.slice(i, i + R2_DELETE_BATCH));
    },
    list(prefix) {
      return listAllPages(async (cursor) => {
        const page = await r2.list({ prefix, cursor });
        return { keys: page.objects.map((o) => o.key), next: page.truncated ? page.cursor : undefined };
      });
    },
  };
}

/** Stores over a Worker's env bindings, or over Miniflare's getKVNamespace() / getR2Bucket(). */
export function storesFromBindings(kv: KvNamespaceLike, r2: R2BucketLike): IndexStores {
  return { kv: kvStore(kv), r2: r2Store(r2) };
}
