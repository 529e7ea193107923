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

  thumbnailUrl(id: number, thumbnail: string | undefined): string {
    return this.url(thumbnail ?? `${API_PREFIX}/items/${id}/thumbnail`).href;
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
    return (await response.json()) as T;
  }

  private async send(url: URL, init?: RequestInit): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(url, init);
    } catch (error) {
      throw new ApiError('network', `cannot reach ${url.origin}: ${(error as Error).message}`);
    }
    if (response.ok) return response;
    const body = (await response.json().catch(() => undefined)) as ErrorResponse | undefined;
    if (body?.error) throw new ApiError(body.error.code, body.error.message);
    throw new ApiError(`http_${response.status}`, `${url.pathname} answered ${response.status}`);
  }
}
