// POST /v1/warm inside workerd, on a worker of its own (so it starts cold): it answers before the
// loads finish, loads the active version and its model once however many warm-ups and searches
// arrive meanwhile (counted from the worker's log lines), reports ready once loaded, and passes
// through CORS and rate limiting like every /v1 route.
import type { Readable } from 'node:stream';
import { encode as encodePng } from 'fast-png';
import type { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { rng } from '../support/random.js';
import { expectError, getJson } from './support/client.js';
import { publish, shardData, testModel } from './support/fixture.js';
import { startEdgeWorker } from './support/worker.js';

const RATE = 8;
const ORIGIN = 'https://widget.example';
let mf: Miniflare;
let logged = '';
let client = 0;

/** A request from its own client address, so only the rate-limit test meets the limit. */
const from = (init: RequestInit = {}, ip = `10.1.0.${++client}`) =>
  ({ ...init, headers: { 'cf-connecting-ip': ip, ...(init.headers as object) } }) as RequestInit;
const warm = (init: RequestInit = {}) => getJson(mf, '/v1/warm', from({ ...init, method: 'POST' }));

function png(seed: number): Uint8Array {
  const next = rng(seed);
  const data = Uint8Array.from({ length: 32 * 32 * 3 }, () => Math.floor(next() * 256));
  return encodePng({ width: 32, height: 32, channels: 3, depth: 8, data });
}

const countLines = (pattern: RegExp) => logged.split('\n').filter((line) => pattern.test(line)).length;

beforeAll(async () => {
  const collect = (stream: Readable) => stream.on('data', (chunk: Buffer) => (logged += chunk.toString()));
  mf = await startEdgeWorker({
    vars: { POINTER_TTL_MS: '0', RATE_LIMIT_PER_MINUTE: String(RATE), ALLOWED_ORIGINS: ORIGIN },
    handleRuntimeStdio: (stdout, stderr) => {
      collect(stdout);
      collect(stderr);
    },
  });
});

afterAll(() => mf?.dispose());

describe('POST /v1/warm', () => {
  it('says no_active_index before anything is published', async () => {
    await expectError(mf, '/v1/warm', 'no_active_index', from({ method: 'POST' }));
  });

  it('starts the loads once, shared with the searches that arrive meanwhile, and reports ready', async () => {
    await publish(mf, { shards: [shardData(500, (i) => i, 61)], model: await testModel(3) });
    const image = png(5);
    const search = () =>
      getJson(
        mf,
        '/v1/search?k=5',
        from({ method: 'POST', body: image, headers: { 'content-type': 'image/png' } } as RequestInit),
      );
    // Answered before the loads finish; the searches and the second warm-up arrive while they run.
    const first = await warm();
    expect(first.status).toBe(202);
    expect(first.body).toEqual({ indexId: 'default', version: 1, ready: false });
    const [again, ...searches] = await Promise.all([warm(), search(), search(), search()]);
    expect(again.body).toMatchObject({ indexId: 'default', version: 1 });
    for (const { status, body } of searches) {
      expect(status).toBe(200);
      expect(body.hits).toHaveLength(5);
      expect(body.code).toBe(searches[0].body.code);
    }
    const ready = await warm();
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ indexId: 'default', version: 1, ready: true });
    // workerd's stdout may trail its responses by a moment.
    await vi.waitFor(() => expect(countLines(/edgehash: model test-cnn-3 .* loaded/)).toBe(1));
    expect(countLines(/edgehash: version 1 loaded/)).toBe(1);
  });

  it('is in the OpenAPI document', async () => {
    const doc = (await getJson(mf, '/openapi.json', from())).body;
    expect(Object.keys(doc.paths['/v1/warm'].post.responses)).toEqual(expect.arrayContaining(['200', '202', '429']));
  });

  it('answers allowed origins with CORS headers and refuses others', async () => {
    const response = await mf.dispatchFetch(
      'http://localhost/v1/warm',
      from({ method: 'POST', headers: { origin: ORIGIN } }) as never,
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    await response.arrayBuffer();
    const evil = from({ method: 'POST', headers: { origin: 'https://evil.example' } });
    await expectError(mf, '/v1/warm', 'forbidden_origin', evil);
  });

  it('counts against the rate limit', async () => {
    const ip = '192.0.2.9';
    for (let i = 0; i < RATE; i++) expect((await warm(from({}, ip))).status).toBe(200);
    await expectError(mf, '/v1/warm', 'rate_limited', from({ method: 'POST' }, ip));
  });
});
