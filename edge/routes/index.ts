// GET /v1/index: the active (or requested) version, its size and its model card.
import { createRoute } from '@hono/zod-openapi';
import { IndexResponse, SearchParams } from '../../schemas/api.js';
import { errorResponses, json, router } from './router.js';

const index = createRoute({
  method: 'get',
  path: '/index',
  tags: ['index'],
  summary: 'The served index version: bits, counts, model card',
  request: { query: SearchParams.pick({ version: true }) },
  responses: {
    200: json(IndexResponse, 'the index version'),
    ...errorResponses('invalid_parameter', 'unknown_version', 'no_active_index', 'index_unavailable'),
  },
});

export const indexRoutes = router().openapi(index, async (c) => {
  const services = c.var.services;
  const requested = c.req.valid('query').version;
  const { keepAlive } = c.var;
  // The manifest says all this: the version's tables are not loaded for it.
  const [manifest, pointer] = await Promise.all([
    services.requireManifest(requested, keepAlive),
    services.pointer.get(keepAlive),
  ]);
  const body = {
    indexId: manifest.indexId,
    version: manifest.version,
    previous: pointer?.version === manifest.version ? (pointer.previous ?? null) : null,
    bits: manifest.bits,
    count: manifest.count - new Set(manifest.tombstones).size,
    shards: manifest.shards.length,
    created: manifest.created,
    model: await services.models.card(manifest, keepAlive),
  };
  return c.json(body, 200);
});
