// The demo in a real browser against the real worker: chromium opens `/`, chooses an image file, and
// the widget shows k results with thumbnails, sorted by distance; the grid works from the keyboard;
// a click (or Enter/Space) on a result, or on a gallery image, searches for similar items; with
// hash="browser" onnxruntime-web computes the same code as the worker and only the code is sent.
// Prints the time from choosing the image to results on screen, and saves a screenshot.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../edge/support/worker.js';
import { launchChromium } from './support/chromium.js';
import { classImage, pngOf } from './support/demoIndex.js';
import { type DemoServer, routeOrtAssets, startDemoServer } from './support/demoServer.js';

const K = 12;
const outDir = path.join(repoRoot, 'bench/out/widget');

interface ResultEvent {
  type: 'results' | 'error';
  code?: string;
  ids?: number[];
  distances?: number[];
  firstResultsMs?: number;
  errorCode?: string;
}

let server: DemoServer;
let browser: Browser;
let page: Page;
const requests: Request[] = [];

/** Collects the widget's events on window.edgehashEvents (registered before any page script runs). */
function recordEvents(): void {
  const events: unknown[] = [];
  Object.assign(window, { edgehashEvents: events });
  document.addEventListener('edgehash-results', (e) => {
    const { response, firstResultsMs } = (e as CustomEvent).detail;
    events.push({
      type: 'results',
      code: response.code,
      ids: response.hits.map((h: { id: number }) => h.id),
      distances: response.hits.map((h: { distance: number }) => h.distance),
      firstResultsMs,
    });
  });
  document.addEventListener('edgehash-error', (e) => {
    events.push({ type: 'error', errorCode: (e as CustomEvent).detail.code });
  });
}

async function eventCount(): Promise<number> {
  return page.evaluate(() => (window as unknown as { edgehashEvents: unknown[] }).edgehashEvents.length);
}

/** Runs `action` and returns the widget event it causes. */
async function nextEvent(action: () => Promise<unknown>): Promise<ResultEvent> {
  const before = await eventCount();
  await action();
  await page.waitForFunction(
    (n) => (window as unknown as { edgehashEvents: unknown[] }).edgehashEvents.length > n,
    before,
  );
  return page.evaluate((n) => (window as unknown as { edgehashEvents: ResultEvent[] }).edgehashEvents[n], before);
}

const widget = () => page.locator('edgehash-search');
const hits = () => widget().locator('button.hit');

function writeQuery(name: string, bytes: Uint8Array): string {
  const file = path.join(outDir, name);
  writeFileSync(file, bytes);
  return file;
}

const choose = (file: string) => widget().locator('input[type=file]').setInputFiles(file);

/** Results of a similar search for `id`: the item itself at distance 0 (ties in id order before it). */
function expectSimilarTo(id: number, event: ResultEvent): void {
  expect(event.type).toBe('results');
  const atZero = event.ids!.filter((_, i) => event.distances![i] === 0);
  expect(atZero).toContain(id);
}

/** data-id of the element focused inside the widget's shadow root. */
function focusedId(): Promise<string | undefined> {
  return page.evaluate(
    () => (document.querySelector('edgehash-search')?.shadowRoot?.activeElement as HTMLElement | null)?.dataset.id,
  );
}

beforeAll(async () => {
  mkdirSync(outDir, { recursive: true });
  [server, browser] = await Promise.all([startDemoServer(), launchChromium()]);
  page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  page.on('request', (request) => requests.push(request));
  await page.addInitScript(recordEvents);
  await routeOrtAssets(page, server.url);
  await page.goto(server.url.href);
  await page.locator('#gallery button').first().waitFor();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('demo page', () => {
  it('shows the index and a gallery of its images', async () => {
    await expect(page.locator('#about').textContent()).resolves.toContain(`${server.count} images`);
    expect(await page.locator('#gallery button').count()).toBeGreaterThan(0);
    const loaded = await page
      .locator('#gallery img')
      .evaluateAll((images) => images.every((img) => (img as HTMLImageElement).complete));
    expect(loaded).toBe(true);
  });

  it('searches with a chosen image: k results with thumbnails, distances ascending', async () => {
    await widget().evaluate((el, k) => el.setAttribute('k', String(k)), K);
    const cold = await nextEvent(() => choose(writeQuery('query-blue.png', pngOf(classImage(2, 901))))).then(
      (e) => e.firstResultsMs,
    );
    const event = await nextEvent(() => choose(writeQuery('query-red.png', pngOf(classImage(0, 902)))));
    expect(event.type).toBe('results');
    await expect(hits().count()).resolves.toBe(K);
    const distances = await hits().evaluateAll((buttons) =>
      buttons.map((b) => Number((b as HTMLElement).dataset.distance)),
    );
    expect(distances).toEqual(event.distances);
    expect(distances).toEqual([...distances].sort((a, b) => a - b));
    await page.waitForFunction(() =>
      Array.from(document.querySelector('edgehash-search')!.shadowRoot!.querySelectorAll('.hit img')).every(
        (img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth > 0,
      ),
    );
    await expect(widget().locator('[role=status]').textContent()).resolves.toMatch(new RegExp(`^${K} results`));
    const measured = await page.evaluate(() =>
      performance.getEntriesByName('edgehash:first-results').map((m) => m.duration),
    );
    expect(measured.at(-1)).toBe(event.firstResultsMs);
    console.log(
      JSON.stringify({
        bench: 'widget',
        figure: 'first_results_ms',
        cold_worker: Number(cold?.toFixed(1)),
        warm_worker: Number(event.firstResultsMs?.toFixed(1)),
        k: K,
      }),
    );
    await page.screenshot({ path: path.join(outDir, 'demo.png'), fullPage: true });
  });

  it('moves through the results with the keyboard and searches with Enter and Space', async () => {
    const ids = await hits().evaluateAll((buttons) => buttons.map((b) => (b as HTMLElement).dataset.id));
    await widget().locator('button.choose').focus();
    await page.keyboard.press('Tab');
    expect(await focusedId()).toBe(ids[0]);
    await page.keyboard.press('ArrowRight');
    expect(await focusedId()).toBe(ids[1]);
    await page.keyboard.press('End');
    expect(await focusedId()).toBe(ids.at(-1));
    await page.keyboard.press('Home');
    await page.keyboard.press('ArrowDown');
    const below = await focusedId();
    const [first, second] = await Promise.all(
      [ids[0], below].map((id) => widget().locator(`button.hit[data-id="${id}"]`).boundingBox()),
    );
    expect(second!.x).toBeCloseTo(first!.x, 0);
    expect(second!.y).toBeGreaterThan(first!.y);

    expectSimilarTo(Number(below), await nextEvent(() => page.keyboard.press('Enter')));
    await hits().nth(2).focus();
    const target = await focusedId();
    expectSimilarTo(Number(target), await nextEvent(() => page.keyboard.press(' ')));
  });

  it('searches for similar items when a result or a gallery image is clicked', async () => {
    const id = Number(await hits().nth(3).getAttribute('data-id'));
    const [request, event] = await Promise.all([
      page.waitForRequest((r) => r.url().includes(`/v1/items/${id}/similar`)),
      nextEvent(() => hits().nth(3).click()),
    ]);
    expect(new URL(request.url()).searchParams.get('k')).toBe(String(K));
    expectSimilarTo(id, event);
    await expect(widget().locator('img.query').getAttribute('src')).resolves.toContain(`/v1/items/${id}/thumbnail`);

    const tile = page.locator('#gallery button').nth(1);
    const galleryId = Number(await tile.getAttribute('data-id'));
    expectSimilarTo(galleryId, await nextEvent(() => tile.click()));
  });

  it('says why a search failed, in the live status', async () => {
    const bogus = writeQuery('not-an-image.png', new TextEncoder().encode('plain text, not a PNG'));
    const event = await nextEvent(() => choose(bogus));
    expect(event).toMatchObject({ type: 'error', errorCode: 'invalid_image' });
    const status = widget().locator('[role=status]');
    await expect(status.getAttribute('aria-live')).resolves.toBe('polite');
    await expect(status.textContent()).resolves.toMatch(/^Search failed: /);
  });
});

describe('in-browser hashing (hash="browser")', () => {
  it('loads onnxruntime-web only when asked, and computes the code the worker computes', async () => {
    const ortRequests = () => requests.filter((r) => new URL(r.url()).pathname.startsWith('/ort/'));
    expect(ortRequests()).toHaveLength(0);
    const query = pngOf(classImage(4, 903));
    const file = writeQuery('query-violet.png', query);
    const response = await fetch(new URL(`/v1/search?k=${K}`, server.url), {
      method: 'POST',
      body: Buffer.from(query),
      headers: { 'content-type': 'image/png' },
    });
    const serverCode = ((await response.json()) as { code: string }).code;

    await page.locator('#browser-hash').check();
    const sent = requests.length;
    const event = await nextEvent(() => choose(file));
    expect(event.type).toBe('results');
    expect(event.code).toBe(serverCode);
    expect(ortRequests().map((r) => path.basename(r.url()))).toEqual(
      expect.arrayContaining(['ort.wasm.bundle.min.mjs', 'ort-wasm-simd-threaded.wasm']),
    );
    const after = requests.slice(sent).map((r) => `${r.method()} ${new URL(r.url()).pathname}`);
    expect(after).toContain('GET /v1/model');
    expect(after).toContain('GET /v1/search');
    expect(after).not.toContain('POST /v1/search');
  });
});
