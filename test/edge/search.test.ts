// Search by code inside workerd over an index published through the publish pipeline: exact ranking
// across an id-range shard and an id-table shard, tombstones, paging, radius and parameter errors.
import type { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteItems } from '../../encoder/publish/incremental.js';
import { MAX_DEPTH } from '../../schemas/api.js';
import { randomBytes } from '../support/random.js';
import { base64url, codeOf, expectError, getJson, hex, reference } from './support/client.js';
import { BPC, publish, type ShardData, shardData, stores } from './support/fixture.js';
import { startEdgeWorker } from './support/worker.js';

let mf: Miniflare;
const shards: ShardData[] = [shardData(300, (i) => i, 11), shardData(200, (i) => 1000 + 3 * i, 12)];
const tombstones = [5, 1003];
const query = randomBytes(BPC, 99);

beforeAll(async () => {
  mf = await startEdgeWorker({ vars: { POINTER_TTL_MS: '0', RATE_LIMIT_PER_MINUTE: '0' } });
  await publish(mf, { shards, model: null });
  await deleteItems(await stores(mf), { ids: tombstones });
});

afterAll(() => mf?.dispose());

describe('GET /v1/search by code', () => {
  it('ranks every shard exactly, ties by ascending id, tombstones dropped, metadata attached', async () => {
    const { status, body } = await getJson(mf, `/v1/search?code=${hex(query)}&k=60`);
    expect(status).toBe(200);
    const expected = reference(shards, query, 60, undefined, tombstones);
    expect(body.hits.map((h: { id: number }) => h.id)).toEqual(expected.ids);
    expect(body.hits.map((h: { distance: number }) => h.distance)).toEqual(expected.distances);
    expect(body).toMatchObject({ indexId: 'default', version: 2, bits: 64, code: hex(query), offset: 0 });
    expect(body.hits[0].metadata).toEqual({
      id: body.hits[0].id,
      source: `test:${body.hits[0].id}`,
      labels: [`class${body.hits[0].id % 10}`],
      thumbnail: `/v1/items/${body.hits[0].id}/thumbnail`,
    });
    expect(typeof body.next).toBe('string');
  });

  it('accepts base64url and finds a stored item at distance 0', async () => {
    const code = codeOf(shards, 1300);
    const { body } = await getJson(mf, `/v1/search?code=${base64url(code)}&k=3`);
    expect(body.hits[0]).toMatchObject({ id: 1300, distance: 0 });
    expect(body.code).toBe(hex(code));
  });

  it('never returns a tombstoned id, and the older version still has it', async () => {
    const { body } = await getJson(mf, `/v1/search?code=${hex(codeOf(shards, 5))}&k=5`);
    expect(body.hits.map((h: { id: number }) => h.id)).not.toContain(5);
    const old = await getJson(mf, `/v1/search?code=${hex(codeOf(shards, 5))}&k=5&version=1`);
    expect(old.body.hits[0]).toMatchObject({ id: 5, distance: 0 });
    expect(old.body.version).toBe(1);
  });

  it('pages by cursor and by offset give the same sequence as one large page', async () => {
    const whole = (await getJson(mf, `/v1/search?code=${hex(query)}&k=70`)).body.hits;
    const paged: unknown[] = [];
    let path = `/v1/search?code=${hex(query)}&k=7`;
    for (let page = 0; page < 10; page++) {
      const { body } = await getJson(mf, path);
      expect(body.offset).toBe(page * 7);
      paged.push(...body.hits);
      path = `/v1/search?code=${hex(query)}&k=7&cursor=${body.next}`;
    }
    expect(paged).toEqual(whole);
    const third = (await getJson(mf, `/v1/search?code=${hex(query)}&k=7&offset=14`)).body.hits;
    expect(third).toEqual(whole.slice(14, 21));
  });

  it('ends paging with next = null', async () => {
    const { body } = await getJson(mf, `/v1/search?code=${hex(query)}&k=10&offset=490`);
    expect(body.hits.length).toBe(500 - tombstones.length - 490);
    expect(body.next).toBeNull();
  });

  it('radius returns exactly the hits within it', async () => {
    const radius = 26;
    const expected = reference(shards, query, 1000, radius, tombstones);
    expect(expected.ids.length).toBeGreaterThan(3);
    const { body } = await getJson(mf, `/v1/search?code=${hex(query)}&k=1000&radius=${radius}`);
    expect(body.hits.map((h: { id: number }) => h.id)).toEqual(expected.ids);
    expect(body.next).toBeNull();
    const limited = await getJson(mf, `/v1/search?code=${hex(query)}&k=2&radius=${radius}`);
    expect(limited.body.hits.map((h: { id: number }) => h.id)).toEqual(expected.ids.slice(0, 2));
    expect(limited.body.next).not.toBeNull();
  });
});

describe('search parameter errors', () => {
  const q = hex(query);
  it.each([
    [`/v1/search?code=${'zz'.repeat(BPC)}`, 'invalid_code'],
    [`/v1/search?code=${q}00`, 'invalid_code'],
    [`/v1/search?code=${q.slice(0, 10)}`, 'invalid_code'],
    [`/v1/search?code=${'a'.repeat(401)}`, 'invalid_code'],
    ['/v1/search', 'invalid_code'],
    [`/v1/search?code=${q}&k=0`, 'invalid_parameter'],
    [`/v1/search?code=${q}&k=1001`, 'invalid_parameter'],
    [`/v1/search?code=${q}&k=ten`, 'invalid_parameter'],
    [`/v1/search?code=${q}&radius=-1`, 'invalid_parameter'],
    [`/v1/search?code=${q}&radius=65`, 'invalid_parameter'],
    [`/v1/search?code=${q}&offset=-3`, 'invalid_parameter'],
    [`/v1/search?code=${q}&offset=${MAX_DEPTH}&k=1`, 'invalid_parameter'],
    [`/v1/search?code=${q}&cursor=notacursor`, 'invalid_cursor'],
    [`/v1/search?code=${q}&cursor=${'x'.repeat(201)}`, 'invalid_cursor'],
    [`/v1/search?code=${q}&version=99`, 'unknown_version'],
    [`/v1/search?code=${q}&version=0`, 'invalid_parameter'],
  ] as const)('%s -> %s', async (path, code) => {
    await expectError(mf, path, code);
  });
});
