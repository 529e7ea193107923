// Versions inside workerd: a publish is served without a restart, admin activate and rollback flip
// the pointer (bearer token from ADMIN_SECRET only), a cursor keeps its version, and no response
// ever mixes two versions even while the pointer flips under concurrent queries.
import type { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminToken } from '../../edge/middleware/adminToken.js';
import { storageKeys } from '../../schemas/storage.js';
import { randomBytes } from '../support/random.js';
import { expectError, getJson, hex, reference } from './support/client.js';
import { BPC, publish, type ShardData, shardData, stores } from './support/fixture.js';
import { startEdgeWorker } from './support/worker.js';

const SECRET = 'test-admin-secret';
let mf: Miniflare;
let token: string;
// Version 1 and 2 hold different codes for overlapping ids; version 3 a third set.
const data: Record<number, ShardData[]> = {
  1: [shardData(150, (i) => i, 31)],
  2: [shardData(150, (i) => i, 32), shardData(50, (i) => 500 + i, 33)],
  3: [shardData(120, (i) => i * 2, 34)],
};
const query = randomBytes(BPC, 77);

const admin = (body?: unknown, auth = `Bearer ${token}`) =>
  ({
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  }) as RequestInit;

/** Asserts a search response holds exactly the ranking of the version it names. */
function expectConsistent(body: { version: number; hits: { id: number; distance: number }[] }, k: number) {
  const expected = reference(data[body.version], query, k);
  expect(body.hits.map((h) => h.id)).toEqual(expected.ids);
  expect(body.hits.map((h) => h.distance)).toEqual(expected.distances);
}

beforeAll(async () => {
  mf = await startEdgeWorker({ vars: { POINTER_TTL_MS: '0', RATE_LIMIT_PER_MINUTE: '0', ADMIN_SECRET: SECRET } });
  token = await adminToken(SECRET, 'default');
});

afterAll(() => mf?.dispose());

describe('versions', () => {
  it('before any publish: no_active_index, and health says version null', async () => {
    await expectError(mf, `/v1/search?code=${hex(query)}`, 'no_active_index');
    await expectError(mf, '/v1/index', 'no_active_index');
    await expectError(mf, '/v1/admin/rollback', 'no_active_index', admin());
    expect((await getJson(mf, '/healthz')).body).toEqual({ ok: true, version: null });
  });

  it('each publish is served by the next request, without a restart', async () => {
    for (const version of [1, 2, 3]) {
      await publish(mf, { shards: data[version], model: null });
      const { body } = await getJson(mf, `/v1/search?code=${hex(query)}&k=15`);
      expect(body.version).toBe(version);
      expectConsistent(body, 15);
    }
    expect((await getJson(mf, '/healthz')).body).toEqual({ ok: true, version: 3 });
    expect((await getJson(mf, '/v1/index')).body).toMatchObject({ version: 3, previous: 2, count: 120, shards: 1 });
  });

  it('concurrent first requests for a new version share its load and all succeed', async () => {
    data[4] = [shardData(3000, (i) => i, 35)];
    await publish(mf, { shards: data[4], model: null, activate: false });
    const responses = await Promise.all(
      Array.from({ length: 24 }, () => getJson(mf, `/v1/search?code=${hex(query)}&k=10&version=4`)),
    );
    for (const { status, body } of responses) {
      expect(status).toBe(200);
      expect(body.version).toBe(4);
      expectConsistent(body, 10);
    }
  });

  it('admin routes refuse a missing or wrong token', async () => {
    await expectError(mf, '/v1/admin/rollback', 'unauthorized', admin(undefined, ''));
    await expectError(mf, '/v1/admin/rollback', 'unauthorized', admin(undefined, `Bearer ${token.slice(1)}0`));
    const other = await adminToken('another-secret', 'default');
    await expectError(mf, '/v1/admin/activate', 'unauthorized', admin({ version: 1 }, `Bearer ${other}`));
    expect((await getJson(mf, '/healthz')).body.version).toBe(3);
  });

  it('rollback, activate, and their errors', async () => {
    const back = await getJson(mf, '/v1/admin/rollback', admin());
    expect(back.body).toEqual({ indexId: 'default', version: 2, previous: 3 });
    expectConsistent((await getJson(mf, `/v1/search?code=${hex(query)}&k=15`)).body, 15);
    expect((await getJson(mf, `/v1/search?code=${hex(query)}`)).body.version).toBe(2);

    const on = await getJson(mf, '/v1/admin/activate', admin({ version: 1 }));
    expect(on.body).toEqual({ indexId: 'default', version: 1, previous: 2 });
    expect((await getJson(mf, `/v1/search?code=${hex(query)}`)).body.version).toBe(1);

    await expectError(mf, '/v1/admin/activate', 'unknown_version', admin({ version: 9 }));
    await expectError(mf, '/v1/admin/activate', 'invalid_parameter', admin({ version: 'two' }));
    await expectError(mf, '/v1/admin/activate', 'invalid_parameter', admin(undefined));
    expect((await getJson(mf, '/healthz')).body.version).toBe(1);
  });

  it('a cursor keeps reading the version its first page came from', async () => {
    await getJson(mf, '/v1/admin/activate', admin({ version: 2 }));
    const first = (await getJson(mf, `/v1/search?code=${hex(query)}&k=10`)).body;
    expect(first.version).toBe(2);
    await getJson(mf, '/v1/admin/activate', admin({ version: 3 }));
    const second = (await getJson(mf, `/v1/search?code=${hex(query)}&k=10&cursor=${first.next}`)).body;
    expect(second.version).toBe(2);
    expect([...first.hits, ...second.hits].map((h: { id: number }) => h.id)).toEqual(reference(data[2], query, 20).ids);
  });

  it('a version retention deleted after this isolate read its manifest is unknown_version, not a store failure', async () => {
    data[5] = [shardData(80, (i) => i, 36)];
    const { manifest } = await publish(mf, { shards: data[5], model: null, activate: false });
    // /v1/index reads the manifest and loads no tables.
    expect((await getJson(mf, '/v1/index?version=5')).body).toMatchObject({ version: 5, count: 80 });
    const { kv, r2 } = await stores(mf);
    const keys = [storageKeys.manifest('default', 5), ...manifest.shards.map((shard) => shard.key)];
    await kv.delete(keys);
    await r2.delete(keys);
    await expectError(mf, '/v1/index?version=5', 'unknown_version');
    const message = await expectError(mf, `/v1/search?code=${hex(query)}&version=5`, 'unknown_version');
    expect(message).toBe('index "default" has no version 5');
  });

  it('no response mixes versions while the pointer flips under concurrent queries', async () => {
    const kv = (await stores(mf)).kv;
    const search = () => getJson(mf, `/v1/search?code=${hex(query)}&k=25`);
    const pending: ReturnType<typeof search>[] = [];
    for (let i = 0; i < 9; i++) {
      const pointer = { version: (i % 3) + 1, updated: new Date().toISOString() };
      await kv.put(storageKeys.active('default'), new TextEncoder().encode(JSON.stringify(pointer)));
      // Queries in flight across the next flips, and one awaited right after this flip.
      pending.push(search(), search(), search());
      pending.push(Promise.resolve(await search()));
    }
    const seen = new Set<number>();
    for (const { status, body } of await Promise.all(pending)) {
      expect(status).toBe(200);
      expectConsistent(body, 25);
      seen.add(body.version);
    }
    expect([...seen].sort()).toEqual([1, 2, 3]);
  });
});
