// The demo as a browser sees it: the real worker (test/edge's startEdgeWorker: edge/index.ts in
// workerd with KV and R2) on a 127.0.0.1 port, seeded through the publish pipeline, serving the
// widget build. Workers static assets serve onnxruntime-web's browser files under /ort/ when deployed
// or under `wrangler dev` (wrangler.toml [assets]); this Miniflare has no assets router, so the
// browser is handed the same files from edge/ui/dist/public by page.route (routeOrtAssets).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { buildWidget, distDir, ORT_FILES, ortAssetsDir } from '../../../edge/ui/build.js';
import type { IndexStores } from '../../../encoder/publish/store.js';
import { stores } from '../../edge/support/fixture.js';
import { startEdgeWorker } from '../../edge/support/worker.js';

export interface DemoServer {
  url: URL;
  stop(): Promise<void>;
}

/** Builds the widget when this checkout has no build yet (`npm test` builds it first). */
async function ensureWidgetBuilt(): Promise<void> {
  const outputs = [path.join(distDir, 'uiScripts.js'), ...ORT_FILES.map((f) => path.join(ortAssetsDir, f))];
  if (!outputs.every((file) => existsSync(file))) await buildWidget();
}

/** Starts the worker (browsers from `allowedOrigins` may call it) and publishes an index with `seed`. */
export async function startDemoServer(
  seed: (stores: IndexStores) => Promise<unknown>,
  allowedOrigins = '',
): Promise<DemoServer> {
  await ensureWidgetBuilt();
  const vars = { RATE_LIMIT_PER_MINUTE: '0', ALLOWED_ORIGINS: allowedOrigins };
  const mf = await startEdgeWorker({ port: 0, vars });
  try {
    const url = await mf.ready;
    await seed(await stores(mf));
    return { url, stop: () => mf.dispose() };
  } catch (error) {
    await mf.dispose();
    throw error;
  }
}

/** Serves /ort/* from the built static assets, as the deployed worker's assets router does. */
export async function routeOrtAssets(page: Page, origin: URL): Promise<void> {
  await page.route(new URL('/ort/**', origin).href, async (route) => {
    const file = path.join(ortAssetsDir, path.basename(new URL(route.request().url()).pathname));
    if (!existsSync(file)) return route.fulfill({ status: 404 });
    const type = file.endsWith('.wasm') ? 'application/wasm' : 'text/javascript';
    return route.fulfill({ status: 200, body: await readFile(file), contentType: type });
  });
}
