// The remaining routes inside workerd: items, similar, thumbnails, index, model and card, health,
// the OpenAPI document and docs page, the demo page, CORS, rate limiting and unknown routes.
import type { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCodes } from '../../schemas/api.js';
import { codeOf, expectError, getJson, hex, reference } from './support/client.js';
import {
  metadataOf,
  publish,
  type ShardData,
  shardData,
  type TestModel,
  testModel,
  thumbnailBytes,
} from './support/fixture.js';
import { startEdgeWorker } from './support/worker.js';

const RATE = 20;
const ORIGIN = 'https://widget.example';
let mf: Miniflare;
let client = 0;
let model: TestModel;
const shards: ShardData[] = [shardData(100, (i) => i, 41), shardData(60, (i) => 200 + 5 * i, 42)];

/** A request from its own client address, so only the rate-limit test meets the limit. */
const from = (init: RequestInit = {}, ip = `10.0.0.${++client}`) =>
  ({ ...init, headers: { 'cf-connecting-ip': ip, ...(init.headers as object) } }) as RequestInit;
const get = (path: string, init?: RequestInit) => getJson(mf, path, from(init));
const raw = (path: string, init?: RequestInit) => mf.dispatchFetch(`http://localhost${path}`, from(init) as never);

beforeAll(async () => {
  mf = await startEdgeWorker({
    vars: { POINTER_TTL_MS: '0', RATE_LIMIT_PER_MINUTE: String(RATE), ALLOWED_ORIGINS: ORIGIN },
  });
  model = await testModel(2);
  await publish(mf, { shards, model, thumbnails: [3, 205] });
  await publish(mf, { shards: [shardData(30, (i) => i, 43)], model: null, activate: false });
});

afterAll(() => mf?.dispose());

describe('items', () => {
  it('GET /v1/items/:id returns metadata and the stored code, from either shard', async () => {
    for (const id of [0, 99, 200, 205, 495]) {
      const { status, body } = await get(`/v1/items/${id}`);
      expect(status).toBe(200);
      expect(body).toEqual({ indexId: 'default', version: 1, item: metadataOf(id), code: hex(codeOf(shards, id)) });
    }
    expect((await get('/v1/items/5?version=2')).body.version).toBe(2);
  });

  it('GET /v1/items/:id/similar ranks by the item code, the item first', async () => {
    const { body } = await get('/v1/items/210/similar?k=8');
    expect(body.hits[0]).toMatchObject({ id: 210, distance: 0 });
    expect(body.hits.map((h: { id: number }) => h.id)).toEqual(reference(shards, codeOf(shards, 210), 8).ids);
  });

  it('GET /v1/items/:id/thumbnail streams the stored bytes', async () => {
    const response = await raw('/v1/items/205/thumbnail');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/jpeg');
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(thumbnailBytes(205));
  });

  it('item errors', async () => {
    await expectError(mf, '/v1/items/201', 'not_found', from());
    await expectError(mf, '/v1/items/201/similar', 'not_found', from());
    await expectError(mf, '/v1/items/4/thumbnail', 'not_found', from());
    await expectError(mf, '/v1/items/abc', 'invalid_parameter', from());
    await expectError(mf, '/v1/items/-1', 'invalid_parameter', from());
    await expectError(mf, '/v1/items/4294967296', 'invalid_parameter', from());
    await expectError(mf, '/v1/items/3?version=5', 'unknown_version', from());
    await expectError(mf, '/v1/items/3/similar?k=5000', 'invalid_parameter', from());
  });
});

describe('index and model', () => {
  it('GET /v1/index describes the active version and its model card', async () => {
    const { body } = await get('/v1/index');
    expect(body).toMatchObject({ indexId: 'default', version: 1, previous: null, bits: 64, count: 160, shards: 2 });
    expect(body.model).toEqual(model.card);
    expect((await get('/v1/index?version=2')).body).toMatchObject({ version: 2, count: 30, model: null });
  });

  it('GET /v1/model serves the ONNX bytes with the checksum as ETag', async () => {
    const response = await raw('/v1/model');
    expect(response.status).toBe(200);
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(model.onnx);
    expect(response.headers.get('etag')).toBe(`"${model.card.onnx.checksum}"`);
    expect(response.headers.get('cache-control')).toBe('no-cache');
    const pinned = await raw('/v1/model?version=1');
    expect(pinned.headers.get('cache-control')).toContain('immutable');
    await pinned.arrayBuffer();
    const again = await raw('/v1/model', { headers: { 'if-none-match': `"${model.card.onnx.checksum}"` } });
    expect(again.status).toBe(304);
    expect((await get('/v1/model/card')).body).toEqual(model.card);
  });

  it('a code-only version has no model: model routes and image search say so', async () => {
    await expectError(mf, '/v1/model?version=2', 'not_found', from());
    await expectError(mf, '/v1/model/card?version=2', 'not_found', from());
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const post = { method: 'POST', body: png, headers: { 'content-type': 'image/png' } };
    await expectError(mf, '/v1/search?version=2', 'not_found', from(post));
  });
});

describe('service routes', () => {
  it('health, OpenAPI document, docs page, demo page, unknown routes', async () => {
    expect((await get('/healthz')).body).toEqual({ ok: true, version: 1 });
    const doc = (await get('/openapi.json')).body;
    expect(doc.openapi).toBe('3.1.0');
    for (const path of [
      '/v1/search',
      '/v1/items/{id}',
      '/v1/items/{id}/similar',
      '/v1/index',
      '/v1/model',
      '/v1/warm',
      '/healthz',
    ]) {
      expect(doc.paths, path).toHaveProperty([path]);
    }
    expect(doc.paths['/v1/admin/activate'].post.security).toEqual([{ adminBearer: [] }]);
    expect(doc.info.description).toContain(errorCodes.join(', '));
    const docs = await raw('/docs');
    expect(docs.headers.get('content-type')).toContain('text/html');
    expect(await docs.text()).toContain('GET /v1/search');
    const demo = await raw('/');
    expect(demo.status).toBe(200);
    expect(await demo.text()).toContain('edgehash-search');
    await expectError(mf, '/v2/search', 'not_found', from());
  });

  it('admin is unreachable without ADMIN_SECRET', async () => {
    const post = { method: 'POST', headers: { authorization: 'Bearer anything', 'content-type': 'application/json' } };
    await expectError(mf, '/v1/admin/rollback', 'unauthorized', from(post));
  });

  it('CORS: allowed and own origins get headers, others are refused', async () => {
    const allowed = await raw('/v1/index', { headers: { origin: ORIGIN } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    await allowed.arrayBuffer();
    const preflight = await raw('/v1/search', {
      method: 'OPTIONS',
      headers: {
        origin: ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    const own = await raw('/v1/index', { headers: { origin: 'http://localhost' } });
    expect(own.status).toBe(200);
    await own.arrayBuffer();
    await expectError(mf, '/v1/index', 'forbidden_origin', from({ headers: { origin: 'https://evil.example' } }));
  });

  it('rate limiting per client address', async () => {
    const ip = '192.0.2.7';
    for (let i = 0; i < RATE; i++) expect((await getJson(mf, '/v1/index', from({}, ip))).status).toBe(200);
    const limited = await raw('/v1/index', { headers: { 'cf-connecting-ip': ip } });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await limited.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
    expect((await get('/v1/index')).status).toBe(200);
  });
});
