// Local stores: KV and R2 persisted on disk by Miniflare exactly where `wrangler dev` keeps them, so a
// worker started with `wrangler dev` (or Miniflare with the same persist root) sees what was published.
//
// wrangler dev runs Miniflare with defaultPersistRoot = <persist>/v3 (default .wrangler/state/v3) and
// names the local KV namespace by the wrangler config's `id` (the binding name when there is none) and
// the local R2 bucket by `bucket_name`; localBindingIds() reads the same fields.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Miniflare } from 'miniflare';
import { bindings } from '../../schemas/storage.js';
import { type IndexStores, type KvNamespaceLike, type R2BucketLike, storesFromBindings } from './store.js';
import { childPids, killWithParent } from './workerdReaper.js';

export const DEFAULT_PERSIST_DIR = '.wrangler/state/v3';

/** The ids Miniflare stores the two bindings under (wrangler dev's rule). */
export interface LocalBindingIds {
  kvNamespaceId: string;
  r2BucketName: string;
}

export const defaultLocalBindingIds: LocalBindingIds = { kvNamespaceId: bindings.kv, r2BucketName: bindings.r2 };

export interface LocalStores extends IndexStores {
  persistDir: string;
  ids: LocalBindingIds;
  /** Stops the workerd process behind the stores. */
  dispose(): Promise<void>;
}

interface WranglerBinding {
  binding: string;
  id?: string;
  bucket_name?: string;
}

/** The local ids wrangler dev would use for the EDGEHASH_* bindings of a wrangler config file. */
export async function localBindingIds(configPath = 'wrangler.toml'): Promise<LocalBindingIds> {
  if (!existsSync(configPath)) return defaultLocalBindingIds;
  // wrangler's own reader (toml, jsonc, environments): same parsing as `wrangler dev`. Loaded lazily: ~2 s.
  const { unstable_readConfig } = await import('wrangler');
  const config = unstable_readConfig({ config: configPath }) as unknown as {
    kv_namespaces: WranglerBinding[];
    r2_buckets: WranglerBinding[];
  };
  const kv = config.kv_namespaces.find((b) => b.binding === bindings.kv);
  const r2 = config.r2_buckets.find((b) => b.binding === bindings.r2);
  return {
    kvNamespaceId: typeof kv?.id === 'string' ? kv.id : bindings.kv,
    r2BucketName: typeof r2?.bucket_name === 'string' ? r2.bucket_name : bindings.r2,
  };
}

/** KV and R2 on disk under `persistDir`, served by a private Miniflare instance. Call dispose() when done. */
export async function openLocalStores(
  persistDir = DEFAULT_PERSIST_DIR,
  ids: LocalBindingIds = defaultLocalBindingIds,
): Promise<LocalStores> {
  const root = path.resolve(persistDir);
  const before = new Set(childPids('workerd'));
  const mf = new Miniflare({
    modules: true,
    script: 'export default { fetch() { return new Response(null, { status: 404 }); } };',
    defaultPersistRoot: root,
    kvNamespaces: { [bindings.kv]: ids.kvNamespaceId },
    r2Buckets: { [bindings.r2]: ids.r2BucketName },
  });
  try {
    const kv = (await mf.getKVNamespace(bindings.kv)) as unknown as KvNamespaceLike;
    const r2 = (await mf.getR2Bucket(bindings.r2)) as unknown as R2BucketLike;
    const stopWatchdog = killWithParent(childPids('workerd').filter((pid) => !before.has(pid)));
    const dispose = async () => {
      await mf.dispose();
      stopWatchdog();
    };
    return { ...storesFromBindings(kv, r2), persistDir: root, ids, dispose };
  } catch (error) {
    await mf.dispose();
    throw error;
  }
}
