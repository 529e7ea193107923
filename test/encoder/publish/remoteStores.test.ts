// The Cloudflare REST requests the remote stores send (no network here, so the requests are recorded
// and answered in the shapes of the API documentation; untested against a live account).
import { describe, expect, it } from 'vitest';
import { cloudflareConfigFromEnv, remoteStores } from '../../../encoder/publish/remoteStores.js';
import { PublishError } from '../../../encoder/publish/versions.js';

const config = { apiToken: 'tok', accountId: 'acc', kvNamespaceId: 'ns1', r2Bucket: 'bkt' };
const api = 'https://api.cloudflare.com/client/v4/accounts/acc';

interface Sent {
  method: string;
  url: string;
  auth: string | null;
  type: string | null;
  body: string;
}

function recorder(answer: (request: Request) => Response) {
  const sent: Sent[] = [];
  const fetchFn = async (request: Request) => {
    sent.push({
      method: request.method,
      url: request.url,
      auth: request.headers.get('authorization'),
      type: request.headers.get('content-type'),
      body: request.body ? await request.clone().text() : '',
    });
    return answer(request);
  };
  return { sent, stores: remoteStores(config, fetchFn) };
}

describe('remote stores', () => {
  it('reads its configuration from the environment, naming what is missing', () => {
    expect(() => cloudflareConfigFromEnv({ CLOUDFLARE_API_TOKEN: 't' })).toThrow(
      /CLOUDFLARE_ACCOUNT_ID, EDGEHASH_KV_NAMESPACE_ID, EDGEHASH_R2_BUCKET/,
    );
    expect(
      cloudflareConfigFromEnv({
        CLOUDFLARE_API_TOKEN: 't',
        CLOUDFLARE_ACCOUNT_ID: 'a',
        EDGEHASH_KV_NAMESPACE_ID: 'n',
        EDGEHASH_R2_BUCKET: 'b',
      }),
    ).toEqual({ apiToken: 't', accountId: 'a', kvNamespaceId: 'n', r2Bucket: 'b', apiBase: undefined });
  });

  it('builds KV value, key-listing and bulk-delete requests', async () => {
    const { sent, stores } = recorder((request) => {
      const url = new URL(request.url);
      if (url.pathname.endsWith('/keys')) {
        const page = url.searchParams.get('cursor') === null ? 1 : 2;
        return Response.json({
          result: page === 1 ? [{ name: 'p/b' }] : [{ name: 'p/a' }],
          result_info: { cursor: page === 1 ? 'c2' : '' },
        });
      }
      if (request.method === 'GET')
        return url.pathname.endsWith('missing') ? new Response('', { status: 404 }) : new Response('v');
      return Response.json({ success: true, result: null });
    });
    await stores.kv.put('indexes/x/active', new TextEncoder().encode('{"v":1}'));
    expect(await stores.kv.get('indexes/x/active')).toEqual(new TextEncoder().encode('v'));
    expect(await stores.kv.get('missing')).toBeNull();
    expect(await stores.kv.list('p/')).toEqual(['p/a', 'p/b']);
    await stores.kv.delete(['a', 'b']);
    const value = `${api}/storage/kv/namespaces/ns1/values/indexes%2Fx%2Factive`;
    expect(sent[0]).toEqual({
      method: 'PUT',
      url: value,
      auth: 'Bearer tok',
      type: 'application/octet-stream',
      body: '{"v":1}',
    });
    expect(sent[1]).toMatchObject({ method: 'GET', url: value });
    expect(sent[3].url).toBe(`${api}/storage/kv/namespaces/ns1/keys?prefix=p%2F&limit=1000`);
    expect(sent[4].url).toBe(`${api}/storage/kv/namespaces/ns1/keys?prefix=p%2F&cursor=c2&limit=1000`);
    expect(sent[5]).toMatchObject({
      method: 'POST',
      url: `${api}/storage/kv/namespaces/ns1/bulk/delete`,
      type: 'application/json',
      body: '["a","b"]',
    });
  });

  it('builds R2 object requests and reports API failures with the request', async () => {
    const { sent, stores } = recorder((request) =>
      request.method === 'PUT' ? new Response('{"errors":[{"code":10000}]}', { status: 403 }) : new Response('x'),
    );
    await expect(stores.r2.put('models/m/1.onnx', new Uint8Array([1]))).rejects.toThrow(PublishError);
    await expect(stores.r2.put('models/m/1.onnx', new Uint8Array([1]))).rejects.toThrow(
      /PUT https:\/\/api\.cloudflare\.com\/client\/v4\/accounts\/acc\/r2\/buckets\/bkt\/objects\/models%2Fm%2F1\.onnx: HTTP 403/,
    );
    expect(await stores.r2.has('k')).toBe(true);
    await stores.r2.delete(['k1', 'k2']);
    expect(sent.slice(-2).map((s) => `${s.method} ${s.url}`)).toEqual([
      `DELETE ${api}/r2/buckets/bkt/objects/k1`,
      `DELETE ${api}/r2/buckets/bkt/objects/k2`,
    ]);
  });
});
