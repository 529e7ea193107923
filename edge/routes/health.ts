// GET /healthz: the worker answers and can read its active pointer.
import { createRoute } from '@hono/zod-openapi';
import { HealthResponse } from '../../schemas/api.js';
import { errorResponses, json, router } from './router.js';

const health = createRoute({
  method: 'get',
  path: '/healthz',
  tags: ['health'],
  summary: 'Liveness, and the active version (null when none is active)',
  responses: { 200: json(HealthResponse, 'healthy'), ...errorResponses('index_unavailable') },
});

export const healthRoutes = router().openapi(health, async (c) => {
  const pointer = await c.var.services.pointer.get(c.var.keepAlive);
  return c.json({ ok: true, version: pointer?.version ?? null }, 200);
});
