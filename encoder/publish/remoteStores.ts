// Remote stores: a real Cloudflare account through its REST API (KV values and keys, R2 objects), with
// credentials from the environment. Requests are built here and sent with fetch (injectable).
import { bindings } from '../../schemas/storage.js';
import { type BlobStore, type IndexStores, listAllPages } from './store.js';
import { PublishError } from './versions.js';

export interface CloudflareConfig {
  apiToken: string;
  accountId: string;
  kvNamespaceId: string;
  r2Bucket: string;
  /** Default https://api.cloudflare.com/client/v4. */
  apiBase?: string;
}

export type Fetch = (request: Request) => Promise<Response>;

/** The environment variables remote publishing reads. */
export const cloudflareEnv = {
  apiToken: 'CLOUDFLARE_API_TOKEN',
  accountId: 'CLOUDFLARE_ACCOUNT_ID',
  kvNamespaceId: `${bindings.kv}_NAMESPACE_ID`,
  r2Bucket: `${bindings.r2}_BUCKET`,
} as const;

export function cloudflareConfigFromEnv(env: NodeJS.ProcessEnv = process.env): CloudflareConfig {
  const missing = Object.values(cloudflareEnv).filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new PublishError(`remote publishing needs the environment variables ${missing.join(', ')}`);
  }
  return {
    apiToken: env[cloudflareEnv.apiToken]!,
    accountId: env[cloudflareEnv.accountId]!,
    kvNamespaceId: env[cloudflareEnv.kvNamespaceId]!,
    r2Bucket: env[cloudflareEnv.r2Bucket]!,
    apiBase: env.CLOUDFLARE_API_BASE,
  };
}

// Bulk delete takes up to 10,000 keys; listing pages hold up to 1,000.
const KV_BULK_DELETE = 10_000;
const PAGE = 1000;

class CloudflareApi {
  constructor(
    private readonly config: CloudflareConfig,
    private readonly fetchFn: Fetch,
  ) {}

  url(path: string, query: Record<string, string | undefined> = {}): string {
    const base = this.config.apiBase ?? 'https://api.cloudflare.com/client/v4';
    const url = new URL(`${base}/accounts/${encodeURIComponent(this.config.accountId)}${path}`);
    for (const [name, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(name, value);
    return url.toString();
  }

  /** Sends the request; null on 404 when `allow404`, otherwise throws naming the request on failure. */
  async send(method: string, url: string, body?: BodyInit, type?: string, allow404 = false): Promise<Response | null> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.config.apiToken}` };
    if (type) headers['content-type'] = type;
    const response = await this.fetchFn(new Request(url, { method, headers, body }));
    if (allow404 && response.status === 404) return null;
    if (!response.ok) {
      const detail = (await response.text()).slice(0, 300);
      throw new PublishError(`Cloudflare API ${method} ${url}: HTTP ${response.status} ${detail}`);
    }
    return response;
  }

  async json<T>(method: string, url: string, body?: unknown): Promise<T> {
    const response = await this.send(
      method,
      url,
      body === undefined ? undefined : JSON.stringify(body),
      'application/json',
    );
    return (await response!.json()) as T;
  }
}

interface Page<T> {
  result: T[];
  result_info?: { cursor?: string; is_truncated?: boolean };
}

/** get, has and put of one value per URL (KV values and R2 objects alike). */
function valueRequests(api: CloudflareApi, urlOf: (key: string) => string): Pick<BlobStore, 'get' | 'has' | 'put'> {
  const get = async (key: string) => {
    const response = await api.send('GET', urlOf(key), undefined, undefined, true);
    return response === null ? null : new Uint8Array(await response.arrayBuffer());
  };
  return {
    get,
    has: async (key) => (await get(key)) !== null,
    async put(key, bytes) {
      await api.send('PUT', urlOf(key), bytes as Uint8Array<ArrayBuffer>, 'application/octet-stream');
    },
  };
}

function kvRemote(api: CloudflareApi, namespaceId: string): BlobStore {
  const base = `/storage/kv/namespaces/${encodeURIComponent(namespaceId)}`;
  return {
    ...valueRequests(api, (key) => api.url(`${base}/values/${encodeURIComponent(key)}`)),
    async delete(keys) {
      for (let i = 0; i < keys.length; i += KV_BULK_DELETE) {
        await api.json('POST', api.url(`${base}/bulk/delete`), keys.slice(i, i + KV_BULK_DELETE));
      }
    },
    list(prefix) {
      return listAllPages(async (cursor) => {
        const url = api.url(`${base}/keys`, { prefix, cursor, limit: String(PAGE) });
        const page = await api.json<Page<{ name: string }>>('GET', url);
        return { keys: page.result.map((k) => k.name), next: page.result_info?.cursor };
      });
    },
  };
}

function r2Remote(api: CloudflareApi, bucket: string): BlobStore {
  const base = `/r2/buckets/${encodeURIComponent(bucket)}/objects`;
  const object = (key: string) => api.url(`${base}/${encodeURIComponent(key)}`);
  return {
    ...valueRequests(api, object),
    async delete(keys) {
      for (const key of keys) await api.send('DELETE', object(key), undefined, undefined, true);
    },
    list(prefix) {
      return listAllPages(async (cursor) => {
        const page = await api.json<Page<{ key: string }>>(
          'GET',
          api.url(base, { prefix, cursor, per_page: String(PAGE) }),
        );
        return {
          keys: page.result.map((o) => o.key),
          next: page.result_info?.is_truncated ? page.result_info.cursor : undefined,
        };
      });
    },
  };
}

/** KV and R2 of a Cloudflare account. Untested against a live account (no network where it was built). */
export function remoteStores(config: CloudflareConfig, fetchFn: Fetch = (request) => fetch(request)): IndexStores {
  const api = new CloudflareApi(config, fetchFn);
  return { kv: kvRemote(api, config.kvNamespaceId), r2: r2Remote(api, config.r2Bucket) };
}
