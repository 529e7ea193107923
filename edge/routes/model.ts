// GET /v1/model and /v1/model/card: the ONNX model (and its card) a version's codes were made with,
// for clients that hash in the browser. ETag = the model's SHA-256. With ?version= the bytes can never
// change (versions are immutable), so they are cached for good; the active model is revalidated.
import { createRoute, z } from '@hono/zod-openapi';
import { SearchParams } from '../../schemas/api.js';
import { ModelCard } from '../../schemas/modelCard.js';
import { ApiError } from '../errors.js';
import { errorResponses, json, router } from './router.js';

const VersionQuery = SearchParams.pick({ version: true });

const model = createRoute({
  method: 'get',
  path: '/model',
  tags: ['model'],
  summary: "The version's int8 ONNX model",
  request: { query: VersionQuery },
  responses: {
    200: {
      description: 'ONNX bytes; ETag is the SHA-256',
      content: { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } },
    },
    304: { description: 'not modified (If-None-Match)' },
    ...errorResponses('invalid_parameter', 'not_found', 'unknown_version', 'no_active_index', 'index_unavailable'),
  },
});

const card = createRoute({
  method: 'get',
  path: '/model/card',
  tags: ['model'],
  summary: "The version's model card: input size, normalization, bits",
  request: { query: VersionQuery },
  responses: {
    200: json(ModelCard, 'the model card'),
    ...errorResponses('invalid_parameter', 'not_found', 'unknown_version', 'no_active_index', 'index_unavailable'),
  },
});

const noModel = (version: number) => new ApiError('not_found', `index version ${version} has no model`);

export const modelRoutes = router()
  .openapi(model, async (c) => {
    const services = c.var.services;
    const requested = c.req.valid('query').version;
    const manifest = await services.requireManifest(requested, c.var.keepAlive);
    const { key, checksum } = manifest.model;
    if (!key) throw noModel(manifest.version);
    const headers = {
      etag: `"${checksum}"`,
      'cache-control': requested === undefined ? 'no-cache' : 'public, max-age=31536000, immutable',
    };
    if (c.req.header('if-none-match')?.includes(checksum)) return new Response(null, { status: 304, headers });
    const object = await services.reader.object(key);
    if (!object) throw new ApiError('index_unavailable', `the model of version ${manifest.version} is missing`);
    return new Response(object.body, {
      headers: { ...headers, 'content-type': 'application/octet-stream', 'content-length': String(object.size) },
    });
  })
  .openapi(card, async (c) => {
    const services = c.var.services;
    const manifest = await services.requireManifest(c.req.valid('query').version, c.var.keepAlive);
    const found = await services.models.card(manifest, c.var.keepAlive);
    if (!found) throw noModel(manifest.version);
    return c.json(found, 200);
  });
