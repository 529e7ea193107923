// GET /v1/items/{id}, /v1/items/{id}/similar and /v1/items/{id}/thumbnail.
import { createRoute, z } from '@hono/zod-openapi';
import { ItemResponse, SearchParams, SearchResponse } from '../../schemas/api.js';
import { ItemId } from '../../schemas/item.js';
import { storageKeys } from '../../schemas/storage.js';
import { toHex } from '../bytes.js';
import { ApiError } from '../errors.js';
import { pageTarget, searchPage } from '../ranking/searchPage.js';
import type { EdgeServices } from '../services.js';
import type { KeepAlive } from '../storage/keepAlive.js';
import { errorResponses, json, router } from './router.js';

const ItemPath = z.object({
  id: z.coerce
    .number()
    .pipe(ItemId)
    .openapi({ param: { name: 'id', in: 'path' } }),
});
const VersionQuery = SearchParams.pick({ version: true });

const item = createRoute({
  method: 'get',
  path: '/items/{id}',
  tags: ['items'],
  summary: 'One item: metadata and stored code',
  request: { params: ItemPath, query: VersionQuery },
  responses: {
    200: json(ItemResponse, 'the item'),
    ...errorResponses('invalid_parameter', 'not_found', 'unknown_version', 'no_active_index', 'index_unavailable'),
  },
});

const similar = createRoute({
  method: 'get',
  path: '/items/{id}/similar',
  tags: ['items'],
  summary: "Items nearest to an item's stored code (the item itself included, at distance 0)",
  request: { params: ItemPath, query: SearchParams },
  responses: {
    200: json(SearchResponse, 'ranked hits'),
    ...errorResponses(
      'invalid_parameter',
      'invalid_cursor',
      'not_found',
      'unknown_version',
      'no_active_index',
      'index_unavailable',
    ),
  },
});

const thumbnail = createRoute({
  method: 'get',
  path: '/items/{id}/thumbnail',
  tags: ['items'],
  summary: 'The thumbnail the publish pipeline stored for an item (JPEG)',
  request: { params: ItemPath },
  responses: {
    200: { description: 'JPEG bytes', content: { 'image/jpeg': { schema: z.string().openapi({ format: 'binary' }) } } },
    ...errorResponses('invalid_parameter', 'not_found', 'index_unavailable'),
  },
});

async function findItem(services: EdgeServices, id: number, requested: number | undefined, keepAlive: KeepAlive) {
  const version = await services.version(requested, keepAlive);
  const location = version.locate(id);
  if (!location) throw new ApiError('not_found', `item ${id} is not in index version ${version.version}`);
  return { version, location };
}

export const itemRoutes = router()
  .openapi(item, async (c) => {
    const { id } = c.req.valid('param');
    const { version, location } = await findItem(c.var.services, id, c.req.valid('query').version, c.var.keepAlive);
    const metadata = (await version.metadataOf([location], c.var.keepAlive)).get(location) ?? { id };
    const body = {
      indexId: version.manifest.indexId,
      version: version.version,
      item: metadata,
      code: toHex(version.code(location)),
    };
    return c.json(body, 200);
  })
  .openapi(similar, async (c) => {
    const { id } = c.req.valid('param');
    const params = c.req.valid('query');
    const target = pageTarget(params);
    const { version, location } = await findItem(c.var.services, id, target.version, c.var.keepAlive);
    const code = version.code(location);
    const page = await searchPage(c.var.services, version, code, { ...params, offset: target.offset }, c.var.keepAlive);
    return c.json(page, 200);
  })
  .openapi(thumbnail, async (c) => {
    const { id } = c.req.valid('param');
    const object = await c.var.services.reader.object(storageKeys.thumbnail(c.var.services.settings.indexId, id));
    if (!object) throw new ApiError('not_found', `item ${id} has no thumbnail`);
    return new Response(object.body, {
      headers: {
        'content-type': 'image/jpeg',
        'content-length': String(object.size),
        'cache-control': 'public, max-age=86400',
      },
    });
  });
