// The widget's client for the edge API: the shapes and constants of schemas/api.ts, without its zod
// validation (edge/ui/build.ts leaves zod out); the server validates, the widget trusts its answers.
import type { ErrorResponse, IndexResponse, SearchResponse, WarmResponse } from '../../../schemas/api.js';
import { API_PREFIX } from '../../../schemas/api.js';

/** A failed request: the API's stable error code (or `network`/`http_<status>`) and its message. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface PageOptions {
  k: number;
  offset?: number;
  version?: number;
}

function pageQuery({ k, offset, version }: PageOptions): Record<string, string> {
  const query: Record<string, string> = { k: String(k) };
  if (offset) query.offset = String(offset);
  if (version !== undefined) query.version = String(version);
  return query;
}

const THUMBNAIL_SCHEMES = new Set(['http:', 'https:', 'blob:', 'data:']);
/** How long a request may take before the widget gives up on it. */
export const REQUEST_TIMEOUT_MS = 30_000;

export class EdgehashApi {
  /** Absolute base of the API (the endpoint attribute resolved against the page). */
  readonly base: URL;

  constructor(endpoint: string, page: string) {
    const base = new URL(endpoint || '/', page);
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    this.base = base;
  }

  /** Absolute URL of an API path (`/v1/...`) or of a URL the API returned (thumbnails). */
  url(path: string, query: Record<string, string> = {}): URL {
    const url = new URL(path.replace(/^\//, ''), this.base);
    for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
    return url;
  }

  /**
   * Where a hit's thumbnail is: the URL its metadata gives (an API path, or an http(s), blob or data
   * URL; `//host/...` keeps its own host), else the API's route for the item. Anything else (a
   * malformed URL, another scheme) falls back to that route rather than failing the page.
   */
  thumbnailUrl(id: number, thumbnail: string | undefined): string {
    const route = this.url(`${API_PREFIX}/items/${id}/thumbnail`).href;
    if (thumbnail === undefined) return route;
    try {
      const url = /^\/(?!\/)/.test(thumbnail) ? this.url(thumbnail) : new URL(thumbnail, this.base);
      return THUMBNAIL_SCHEMES.has(url.protocol) ? url.href : route;
    } catch {
      return route;
    }
  }

  searchImage(image: Blob, page: PageOptions, signal?: AbortSignal): Promise<SearchResponse> {
    const headers = { 'content-type': image.type || 'application/octet-stream' };
    const init = { method: 'POST', body: image, headers, signal };
    return this.json(this.url(`${API_PREFIX}/search`, pageQuery(page)), init);
  }

  searchCode(code: string, page: PageOptions, signal?: AbortSignal): Promise<SearchResponse> {
    return this.json(this.url(`${API_PREFIX}/search`, { code, ...pageQuery(page) }), { signal });
  }

  similar(id: number, page: PageOptions, signal?: AbortSignal): Promise<SearchResponse> {
    return this.json(this.url(`${API_PREFIX}/items/${id}/similar`, pageQuery(page)), { signal });
  }

  index(): Promise<IndexResponse> {
    return this.json(this.url(`${API_PREFIX}/index`));
  }

  /** Asks the worker to load the index and its model now, so that the first search finds them ready. */
  warm(): Promise<WarmResponse> {
    return this.json(this.url(`${API_PREFIX}/warm`), { method: 'POST' });
  }

  /** The ONNX bytes of a version's model (immutable, so cached by the browser for good). */
  async model(version: number): Promise<ArrayBuffer> {
    const response = await this.send(this.url(`${API_PREFIX}/model`, { version: String(version) }));
    return response.arrayBuffer();
  }

  private async json<T>(url: URL, init?: RequestInit): Promise<T> {
    const response = await this.send(url, init);
    const type = response.headers.get('content-type') ?? 'no content type';
    if (!type.toLowerCase().includes('application/json')) {
      throw new ApiError(
        'bad_response',
        `${url.href} answered ${type}, not JSON: is the widget's endpoint the edgehash API?`,
      );
    }
    return (await response.json()) as T;
  }

  private async send(url: URL, init: RequestInit = {}): Promise<Response> {
    let response: Response;
    // Aborted by the caller's signal, or when no answer (headers) came within the timeout; reading the
    // body (a model download) is not timed. A controller of its own: AbortSignal.any is newer than the
    // browsers the widget is built for.
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), REQUEST_TIMEOUT_MS);
    const forward = () => abort.abort();
    init.signal?.addEventListener('abort', forward);
    if (init.signal?.aborted) abort.abort();
    try {
      response = await fetch(url, { ...init, signal: abort.signal });
    } catch (error) {
      if (abort.signal.aborted && !init.signal?.aborted) {
        throw new ApiError('timeout', `${url.origin} did not answer within ${REQUEST_TIMEOUT_MS / 1000} s`);
      }
      throw new ApiError('network', `cannot reach ${url.origin}: ${(error as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
    if (response.ok) return response;
    const body = (await response.json().catch(() => undefined)) as ErrorResponse | undefined;
    if (body?.error) throw new ApiError(body.error.code, body.error.message);
    throw new ApiError(`http_${response.status}`, `${url.pathname} answered ${response.status}`);
  }
}
