// <edgehash-search>: drop, paste or choose an image (or click a result) and see the nearest images of
// an edgehash index. Attributes: endpoint, k, theme (light | dark), hash (server | browser), ort-base.
// Events: `edgehash-results` (detail: response, firstResultsMs) and `edgehash-error` (detail: code,
// message). Performance: the measure `edgehash:first-results` spans query start -> results painted.
import type { SearchResponse } from '../../../schemas/api.js';
import { DEFAULT_K, MAX_K } from '../../../schemas/api.js';
import { ApiError, EdgehashApi, type PageOptions } from './api.js';
import { type BrowserHasher, loadBrowserHasher } from './browserHash.js';
import { uploadable } from './pixels.js';
import { handleGridKey, hitElement } from './results.js';
import { widgetStyles } from './styles.js';

export const MARK_START = 'edgehash:query-start';
export const MARK_RESULTS = 'edgehash:results-painted';
export const MEASURE_FIRST_RESULTS = 'edgehash:first-results';

// A constructed style sheet, not a <style> element: pages whose CSP has no 'unsafe-inline' styles
// would block that one, and show the widget unstyled. Browsers without constructed sheets (Safari
// before 16.4) get the <style> element.
let sheet: CSSStyleSheet | null | undefined;
function widgetSheet(): CSSStyleSheet | null {
  if (sheet === undefined) {
    try {
      sheet = new CSSStyleSheet();
      sheet.replaceSync(widgetStyles);
    } catch {
      sheet = null;
    }
  }
  return sheet;
}

const template = `
<section class="panel" part="panel">
  <div class="drop" part="dropzone">
    <img class="query" part="query" alt="Query image" hidden>
    <span class="hint">Drop or paste an image here, or</span>
    <button type="button" class="choose" part="choose">Choose an image…</button>
    <input type="file" accept="image/*" aria-label="Image to search with" hidden>
  </div>
  <p class="status" part="status" role="status" aria-live="polite"></p>
  <ol class="results" part="results" aria-label="Search results"></ol>
  <button type="button" class="more" part="more" hidden>More results</button>
</section>`;

type Query = (page: PageOptions, signal: AbortSignal) => Promise<SearchResponse>;

function firstImage(files: FileList | undefined): File | undefined {
  return Array.from(files ?? []).find((f) => f.type.startsWith('image/'));
}

function nextFrame(): Promise<void> {
  return new Promise((resolve) => requestAnimationFrame(() => resolve()));
}

export class EdgehashSearch extends HTMLElement {
  static observedAttributes = ['endpoint', 'hash', 'ort-base'];

  readonly #root: ShadowRoot;
  readonly #input: HTMLInputElement;
  readonly #drop: HTMLElement;
  readonly #preview: HTMLImageElement;
  readonly #status: HTMLElement;
  readonly #list: HTMLOListElement;
  readonly #more: HTMLButtonElement;
  #abort?: AbortController;
  #hasher?: Promise<BrowserHasher>;
  #last?: SearchResponse;
  #previewUrl?: string;
  #warmed?: string;

  constructor() {
    super();
    this.#root = this.attachShadow({ mode: 'open' });
    const styles = widgetSheet();
    if (styles) this.#root.adoptedStyleSheets = [styles];
    this.#root.innerHTML = styles ? template : `<style>${widgetStyles}</style>${template}`;
    const $ = <T extends Element>(selector: string) => this.#root.querySelector<T>(selector)!;
    this.#input = $('input');
    this.#drop = $('.drop');
    this.#preview = $('.query');
    this.#status = $('.status');
    this.#list = $('.results');
    this.#more = $('.more');
    $<HTMLButtonElement>('.choose').addEventListener('click', () => this.#input.click());
    this.#input.addEventListener('change', () => {
      const file = this.#input.files?.[0];
      this.#input.value = '';
      if (file) this.searchImage(file);
    });
    this.#drop.addEventListener('dragover', (event) => {
      event.preventDefault();
      this.#drop.classList.add('dragging');
    });
    this.#drop.addEventListener('dragleave', () => this.#drop.classList.remove('dragging'));
    this.#drop.addEventListener('drop', (event) => {
      event.preventDefault();
      this.#drop.classList.remove('dragging');
      const file = firstImage(event.dataTransfer?.files);
      if (file) this.searchImage(file);
      else this.#fail(new Error('drop an image file (JPEG or PNG)'));
    });
    this.addEventListener('paste', (event) => this.#paste(event));
    this.#list.addEventListener('click', (event) => {
      const hit = (event.target as Element).closest<HTMLButtonElement>('button.hit');
      if (hit) this.searchSimilar(Number(hit.dataset.id), hit.querySelector('img')?.src);
    });
    this.#list.addEventListener('keydown', (event) => handleGridKey(this.#list, event));
    this.#more.addEventListener('click', () => this.#loadMore());
  }

  connectedCallback(): void {
    document.addEventListener('paste', this.#pageShortcut);
    this.#warm();
  }

  disconnectedCallback(): void {
    document.removeEventListener('paste', this.#pageShortcut);
    this.#abort?.abort();
  }

  attributeChangedCallback(): void {
    // A different server, model source or hashing mode invalidates the loaded model.
    this.#hasher = undefined;
    if (this.isConnected) this.#warm();
  }

  get api(): EdgehashApi {
    return new EdgehashApi(this.getAttribute('endpoint') ?? '', document.baseURI);
  }

  /** Results per page: the k attribute clamped to 1..MAX_K, DEFAULT_K when absent or invalid. */
  get k(): number {
    const k = Number.parseInt(this.getAttribute('k') ?? '', 10);
    return Number.isFinite(k) ? Math.max(1, Math.min(MAX_K, k)) : DEFAULT_K;
  }

  /** Folder holding onnxruntime-web's browser files: ort-base, else the endpoint's /ort/. */
  get ortBase(): string {
    return new URL(this.getAttribute('ort-base') ?? this.api.url('/ort/').href, document.baseURI).href;
  }

  /** Searches with an image file: hashed by the server, or in the browser when hash="browser". */
  searchImage(image: Blob): Promise<SearchResponse | undefined> {
    this.#showQuery(URL.createObjectURL(image), true);
    if (this.getAttribute('hash') !== 'browser') {
      return this.#run('Searching…', async (page, signal) =>
        this.api.searchImage(await uploadable(image), page, signal),
      );
    }
    const hashing = async (page: PageOptions, signal: AbortSignal) => {
      const hasher = await this.#browserHasher();
      const code = await hasher.hash(image);
      return this.api.searchCode(code, { ...page, version: hasher.version }, signal).catch((error) => {
        // The model's version was retired since it loaded: the next search loads the active one.
        if (error instanceof ApiError && error.code === 'unknown_version') this.#hasher = undefined;
        throw error;
      });
    };
    return this.#run('Hashing in this browser…', hashing, true);
  }

  /** Searches for the items nearest to an indexed item. */
  searchSimilar(id: number, thumbnail?: string): Promise<SearchResponse | undefined> {
    this.#showQuery(thumbnail ?? this.api.thumbnailUrl(id, undefined), false);
    return this.#run(`Finding images similar to #${id}…`, (page, signal) => this.api.similar(id, page, signal));
  }

  /** Searches by a hex code (as returned in SearchResponse.code). */
  searchCode(code: string): Promise<SearchResponse | undefined> {
    this.#showQuery(undefined, false);
    return this.#run('Searching…', (page, signal) => this.api.searchCode(code, page, signal));
  }

  /**
   * Once per endpoint: lets the server load the index and its model while the user picks an image,
   * rather than when the first search arrives. Best effort: a failure here is for a search to report.
   */
  #warm(): void {
    const api = this.api;
    if (this.#warmed === api.base.href) return;
    this.#warmed = api.base.href;
    api.warm().catch(() => undefined);
  }

  #browserHasher(): Promise<BrowserHasher> {
    this.#hasher ??= loadBrowserHasher(this.api, this.ortBase).catch((error) => {
      this.#hasher = undefined;
      throw error;
    });
    return this.#hasher;
  }

  readonly #pageShortcut = (event: ClipboardEvent) => {
    // A paste with nothing focused on the page searches; pastes into other fields stay theirs.
    if (document.activeElement === document.body) this.#paste(event);
  };

  #paste(event: ClipboardEvent): void {
    const file = firstImage(event.clipboardData?.files);
    if (!file) return;
    event.preventDefault();
    event.stopPropagation();
    this.searchImage(file);
  }

  #showQuery(src: string | undefined, owned: boolean): void {
    if (this.#previewUrl) URL.revokeObjectURL(this.#previewUrl);
    this.#previewUrl = owned ? src : undefined;
    this.#preview.hidden = !src;
    if (src) this.#preview.src = src;
  }

  async #run(busy: string, query: Query, hashedHere = false): Promise<SearchResponse | undefined> {
    this.#abort?.abort();
    const abort = new AbortController();
    this.#abort = abort;
    performance.mark(MARK_START);
    this.#setStatus(busy);
    this.#list.setAttribute('aria-busy', 'true');
    try {
      const response = await query({ k: this.k }, abort.signal);
      if (abort.signal.aborted) return undefined;
      this.#render(response, false, hashedHere);
      await nextFrame();
      performance.mark(MARK_RESULTS);
      const measure = performance.measure(MEASURE_FIRST_RESULTS, MARK_START, MARK_RESULTS);
      this.dispatchEvent(
        new CustomEvent('edgehash-results', { detail: { response, firstResultsMs: measure.duration }, bubbles: true }),
      );
      return response;
    } catch (error) {
      if (!abort.signal.aborted) this.#fail(error);
      return undefined;
    } finally {
      if (this.#abort === abort) this.#list.removeAttribute('aria-busy');
    }
  }

  /** The next page of the shown results; a new search meanwhile (it aborts the query's controller) drops it. */
  async #loadMore(): Promise<void> {
    const last = this.#last;
    const abort = this.#abort;
    if (!last || !abort || this.#more.disabled) return;
    const page = { k: this.k, offset: last.offset + last.hits.length, version: last.version };
    this.#more.disabled = true;
    try {
      const response = await this.api.searchCode(last.code, page, abort.signal);
      if (!abort.signal.aborted && this.#last === last) this.#render(response, true);
    } catch (error) {
      if (!abort.signal.aborted) this.#fail(error);
    } finally {
      this.#more.disabled = false;
    }
  }

  #render(response: SearchResponse, append: boolean, hashedHere = false): void {
    const api = this.api;
    const items = response.hits.map((hit) => hitElement(hit, api.thumbnailUrl(hit.id, hit.metadata?.thumbnail)));
    if (append) this.#list.append(...items);
    else this.#list.replaceChildren(...items);
    this.#last = response;
    this.#more.hidden = response.next === null;
    const shown = this.#list.childElementCount;
    const { rankMs, hashMs = 0, decodeMs = 0 } = response.timing;
    const where = hashedHere ? 'hashed in this browser, ' : '';
    const about = `${response.bits}-bit codes, ${where}${(rankMs + hashMs + decodeMs).toFixed(1)} ms on the server`;
    this.#setStatus(
      shown === 0
        ? 'No results.'
        : `${shown} results from index ${response.indexId} v${response.version} (${about}). Select one to search for similar images.`,
    );
  }

  #fail(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    const code = error instanceof ApiError ? error.code : 'client_error';
    this.#setStatus(`Search failed: ${message}`, true);
    this.dispatchEvent(new CustomEvent('edgehash-error', { detail: { code, message }, bubbles: true }));
  }

  #setStatus(text: string, error = false): void {
    this.#status.textContent = text;
    this.#status.classList.toggle('error', error);
  }
}
