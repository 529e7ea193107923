// The demo page in chromium, with the widget's events recorded so a test can wait for the result of
// an action (`nextEvent`) rather than for a fixed time.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page, Request } from 'playwright-core';
import { repoRoot } from '../../edge/support/worker.js';
import { routeOrtAssets } from './demoServer.js';

/** Screenshots and query files (gitignored). */
export const outDir = path.join(repoRoot, 'bench/out/widget');

export interface ResultEvent {
  type: 'results' | 'error';
  code?: string;
  ids?: number[];
  distances?: number[];
  labels?: (string | undefined)[];
  firstResultsMs?: number;
  errorCode?: string;
}

type Recorded = { edgehashEvents: ResultEvent[] };

/** Runs in the page before its scripts: collects the widget's events on window.edgehashEvents. */
function recordEvents(): void {
  const events: unknown[] = [];
  Object.assign(window, { edgehashEvents: events });
  document.addEventListener('edgehash-results', (e) => {
    const { response, firstResultsMs } = (e as CustomEvent).detail;
    const hits = response.hits as { id: number; distance: number; metadata?: { labels?: string[] } }[];
    events.push({
      type: 'results',
      code: response.code,
      ids: hits.map((h) => h.id),
      distances: hits.map((h) => h.distance),
      labels: hits.map((h) => h.metadata?.labels?.[0]),
      firstResultsMs,
    });
  });
  document.addEventListener('edgehash-error', (e) => {
    events.push({ type: 'error', errorCode: (e as CustomEvent).detail.code });
  });
}

export class DemoPage {
  /** Every request the page made, in order. */
  readonly requests: Request[] = [];

  private constructor(readonly page: Page) {
    page.on('request', (request) => this.requests.push(request));
  }

  /** Opens the demo at `url` and waits for its gallery. */
  static async open(browser: Browser, url: URL): Promise<DemoPage> {
    mkdirSync(outDir, { recursive: true });
    const demo = new DemoPage(await browser.newPage({ viewport: { width: 1100, height: 900 } }));
    await demo.page.addInitScript(recordEvents);
    await routeOrtAssets(demo.page, url);
    await demo.page.goto(url.href);
    await demo.page.locator('#gallery button').first().waitFor();
    return demo;
  }

  widget() {
    return this.page.locator('edgehash-search');
  }

  hits() {
    return this.widget().locator('button.hit');
  }

  /** Chooses an image file in the widget, as the file picker does. */
  choose(file: string): Promise<void> {
    return this.widget().locator('input[type=file]').setInputFiles(file);
  }

  /** Runs `action` and returns the widget event it causes. */
  async nextEvent(action: () => Promise<unknown>): Promise<ResultEvent> {
    const before = await this.page.evaluate(() => (window as unknown as Recorded).edgehashEvents.length);
    await action();
    await this.page.waitForFunction((n) => (window as unknown as Recorded).edgehashEvents.length > n, before);
    return this.page.evaluate((n) => (window as unknown as Recorded).edgehashEvents[n], before);
  }
}

/** Writes a query image under outDir and returns its path. */
export function writeQuery(name: string, bytes: Uint8Array): string {
  const file = path.join(outDir, name);
  writeFileSync(file, bytes);
  return file;
}
