// POST /v1/warm: a client's hint that searches will follow (the widget sends it when it connects).
// Loading a version's tables and creating its model's onnxruntime-web session take a fresh isolate
// seconds; started here in the background (waitUntil), they are done or under way by the time the
// user has chosen an image, and that search awaits the same loads. Answers at once.
import { createRoute } from '@hono/zod-openapi';
import { WarmResponse } from '../../schemas/api.js';
import { errorResponses, json, router } from './router.js';

const warm = createRoute({
  method: 'post',
  path: '/warm',
  tags: ['index'],
  summary: 'Prepare for searches: load the active version and its model in the background',
  description:
    "Idempotent and cheap to call: starts loading the active version's code tables and its model's inference " +
    'session if this isolate lacks them, and answers without waiting for them (202), or 200 when they are loaded ' +
    'already. A search arriving meanwhile awaits the same loads. Send no body.',
  responses: {
    200: json(WarmResponse, 'already loaded (ready: true)'),
    202: json(WarmResponse, 'loading started or under way (ready: false)'),
    ...errorResponses('no_active_index', 'rate_limited', 'index_unavailable'),
  },
});

export const warmRoutes = router().openapi(warm, async (c) => {
  const { services, keepAlive } = c.var;
  const version = await services.versionNumber(undefined, keepAlive);
  const ready = services.warm(version, keepAlive);
  return c.json({ indexId: services.settings.indexId, version, ready }, ready ? 200 : 202);
});
