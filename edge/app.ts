// The edge API as a Hono app: shared services per isolate, CORS and rate limiting on /v1, the route
// groups, the OpenAPI document and docs page generated from the same schemas, the demo and widget
// (edge/ui/), and one error handler.
import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from './appEnv.js';
import { cors } from './middleware/cors.js';
import { notFound, onError, validationHook } from './middleware/errors.js';
import { rateLimit } from './middleware/rateLimit.js';
import { openApiConfig } from './openapi.js';
import { adminRoutes } from './routes/admin.js';
import { docsPage } from './routes/docsPage.js';
import { healthRoutes } from './routes/health.js';
import { indexRoutes } from './routes/index.js';
import { itemRoutes } from './routes/items.js';
import { modelRoutes } from './routes/model.js';
import { searchRoutes } from './routes/search.js';
import { warmRoutes } from './routes/warm.js';
import { EdgeServices, type WasmModules } from './services.js';
import { uiRoutes } from './ui/routes.js';

export function createApp(wasm: WasmModules): OpenAPIHono<AppEnv> {
  let services: EdgeServices | undefined;
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  app.use('*', async (c, next) => {
    // Bindings are fixed for an isolate's lifetime: build the services on the first request.
    services ??= new EdgeServices(c.env, wasm);
    c.set('services', services);
    c.set('keepAlive', (work) => c.executionCtx.waitUntil(work));
    await next();
  });
  app.use('/v1/*', cors, rateLimit);
  app.route('/', healthRoutes);
  app.route('/v1', searchRoutes);
  app.route('/v1', itemRoutes);
  app.route('/v1', indexRoutes);
  app.route('/v1', modelRoutes);
  app.route('/v1', warmRoutes);
  app.route('/v1/admin', adminRoutes);
  app.doc31('/openapi.json', openApiConfig);
  app.get('/docs', (c) => c.html(docsPage(app.getOpenAPI31Document(openApiConfig))));
  // The demo page at / and the widget script (edge/ui/).
  app.route('/', uiRoutes);
  app.onError(onError);
  app.notFound(notFound);
  return app;
}
