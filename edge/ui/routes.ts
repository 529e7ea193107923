// The browser-facing routes the worker mounts: the demo page at `/`, the widget script at
// `/widget.js` (the same file as the standalone edgehash-widget.js) and the demo's gallery script.
// onnxruntime-web's browser files for hash="browser" (14 MB of wasm) are Workers static assets under
// /ort/ (wrangler.toml [assets] -> edge/ui/dist/public), so they never count against the script size
// limit; without that configuration /ort/ answers a JSON 404 that says what to do.
import { Hono } from 'hono';
import type { ErrorResponse } from '../../schemas/api.js';
import { demoPage } from './demoPage.js';
import { demoScript, widgetScript } from './dist/uiScripts.js';

/** Browsers re-check the scripts after this long; a deploy reaches them within it. */
const SCRIPT_MAX_AGE_S = 300;

const scriptHeaders = {
  'content-type': 'text/javascript; charset=utf-8',
  'cache-control': `public, max-age=${SCRIPT_MAX_AGE_S}`,
  // The widget is meant to be embedded from other origins.
  'access-control-allow-origin': '*',
};

export const uiRoutes = new Hono();

uiRoutes.get('/', (c) => c.html(demoPage));
uiRoutes.get('/widget.js', (c) => c.body(widgetScript, 200, scriptHeaders));
uiRoutes.get('/demo.js', (c) => c.body(demoScript, 200, scriptHeaders));
uiRoutes.get('/ort/*', (c) =>
  c.json<ErrorResponse>(
    {
      error: {
        code: 'not_found',
        message:
          'onnxruntime-web is not deployed with this worker: serve edge/ui/dist/public as static assets, or give the widget an ort-base URL',
      },
    },
    404,
  ),
);
