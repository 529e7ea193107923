// The local stores write where `wrangler dev` reads: published with openLocalStores into a v3 state
// folder with the ids of a wrangler config, the version is visible through wrangler's own bindings for
// that config and folder (getPlatformProxy builds them with the same code as wrangler dev).
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { getPlatformProxy } from 'wrangler';
import { localBindingIds, openLocalStores } from '../../../encoder/publish/localStores.js';
import { publishVersion } from '../../../encoder/publish/publish.js';
import { type KvNamespaceLike, type R2BucketLike, storesFromBindings } from '../../../encoder/publish/store.js';
import { ActivePointer, bindings, storageKeys } from '../../../schemas/storage.js';
import { codeOnlyModel, expectServing, shardOf, tempDir } from './fixtures.js';

const dir = tempDir('wrangler');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('publishes into the state wrangler dev reads, under the ids of wrangler.toml', async () => {
  const config = path.join(dir, 'wrangler.toml');
  writeFileSync(
    config,
    [
      'name = "edgehash-state-test"',
      'compatibility_date = "2025-09-01"',
      '[[kv_namespaces]]',
      `binding = "${bindings.kv}"`,
      'id = "0f2ac74b498b48028cb68387c421e279"',
      '[[r2_buckets]]',
      `binding = "${bindings.r2}"`,
      'bucket_name = "edgehash-index"',
      '',
    ].join('\n'),
  );
  const ids = await localBindingIds(config);
  expect(ids).toEqual({ kvNamespaceId: '0f2ac74b498b48028cb68387c421e279', r2BucketName: 'edgehash-index' });
  expect(await localBindingIds(path.join(dir, 'absent.toml'))).toEqual({
    kvNamespaceId: bindings.kv,
    r2BucketName: bindings.r2,
  });

  // wrangler dev persists to <persist-to>/v3; getPlatformProxy takes that v3 folder itself.
  const state = path.join(dir, 'state', 'v3');
  const local = await openLocalStores(state, ids);
  const published = await publishVersion(local, {
    shards: [await shardOf(0, 16)],
    model: codeOnlyModel,
    kvShardMaxBytes: 0,
  });
  await local.dispose();

  const proxy = await getPlatformProxy<Record<string, unknown>>({ configPath: config, persist: { path: state } });
  try {
    const stores = storesFromBindings(
      proxy.env[bindings.kv] as KvNamespaceLike,
      proxy.env[bindings.r2] as R2BucketLike,
    );
    const pointer = ActivePointer.parse(
      JSON.parse(new TextDecoder().decode((await stores.kv.get(storageKeys.active('default')))!)),
    );
    expect(pointer.version).toBe(published.version);
    await expectServing(stores, 'default', published.version);
  } finally {
    await proxy.dispose();
  }
});
