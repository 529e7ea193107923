// POST /v1/search (by image) and GET /v1/search (by code).
import { createRoute, z } from '@hono/zod-openapi';
import {
  MAX_IMAGE_BYTES,
  MAX_IMAGE_PIXELS,
  SearchByCodeParams,
  SearchParams,
  SearchResponse,
} from '../../schemas/api.js';
import { ApiError } from '../errors.js';
import { decodeImage } from '../hashing/decodeImage.js';
import { readImageBody } from '../hashing/imageBody.js';
import { toModelPixels } from '../hashing/resize.js';
import { parseQueryCode } from '../ranking/queryCode.js';
import { pageTarget, searchPage } from '../ranking/searchPage.js';
import { errorResponses, json, router } from './router.js';

const imageBody = z.string().openapi({ type: 'string', format: 'binary' });

const byImage = createRoute({
  method: 'post',
  path: '/search',
  tags: ['search'],
  summary: 'Search by image',
  description:
    'The image (JPEG or PNG) is decoded in the worker, resized and normalized as the model card says, hashed by ' +
    "the index version's int8 ONNX model and ranked by Hamming distance. Send the bytes as the body, or as the " +
    `file field \`image\` of a multipart/form-data body. At most ${MAX_IMAGE_BYTES} bytes and ${MAX_IMAGE_PIXELS} pixels.`,
  request: {
    query: SearchParams,
    body: {
      required: true,
      content: {
        'image/jpeg': { schema: imageBody },
        'image/png': { schema: imageBody },
        'application/octet-stream': { schema: imageBody },
      },
    },
  },
  responses: {
    200: json(SearchResponse, 'ranked hits'),
    ...errorResponses(
      'empty_body',
      'invalid_parameter',
      'invalid_cursor',
      'unsupported_media_type',
      'invalid_image',
      'image_too_large',
      'body_too_large',
      'unknown_version',
      'no_active_index',
      'rate_limited',
      'index_unavailable',
    ),
  },
});

const byCode = createRoute({
  method: 'get',
  path: '/search',
  tags: ['search'],
  summary: 'Search by code',
  description: 'For clients that hash in the browser (GET /v1/model): the code in hex or base64url.',
  request: { query: SearchByCodeParams },
  responses: {
    200: json(SearchResponse, 'ranked hits'),
    ...errorResponses(
      'invalid_code',
      'invalid_parameter',
      'invalid_cursor',
      'unknown_version',
      'no_active_index',
      'rate_limited',
      'index_unavailable',
    ),
  },
});

export const searchRoutes = router()
  .openapi(byImage, async (c) => {
    const params = c.req.valid('query');
    const services = c.var.services;
    const target = pageTarget(params);
    // The version first: a request for one that does not exist, or has no model, is answered
    // without reading its body (up to MAX_IMAGE_BYTES).
    const version = await services.version(target.version, c.var.keepAlive);
    const hasher = services.models.hasher(version.manifest, c.var.keepAlive);
    if (!hasher) {
      throw new ApiError('not_found', `index version ${version.version} has no model; search it by code`);
    }
    // Awaited below; a bad body must not leave its failure unhandled meanwhile.
    hasher.catch(() => undefined);
    const bytes = await readImageBody(c.req.raw, MAX_IMAGE_BYTES);
    const decodeStart = performance.now();
    const image = decodeImage(bytes, MAX_IMAGE_PIXELS);
    const decodeMs = performance.now() - decodeStart;
    const { card } = await hasher;
    const hashStart = performance.now();
    const code = await services.models.hash(version.manifest, toModelPixels(image, card.input), c.var.keepAlive);
    const timing = { decodeMs, hashMs: performance.now() - hashStart };
    const page = await searchPage(
      services,
      version,
      code,
      { ...params, offset: target.offset },
      c.var.keepAlive,
      timing,
    );
    return c.json(page, 200);
  })
  .openapi(byCode, async (c) => {
    const params = c.req.valid('query');
    const target = pageTarget(params);
    const version = await c.var.services.version(target.version, c.var.keepAlive);
    const code = parseQueryCode(params.code, version.bits);
    const page = await searchPage(c.var.services, version, code, { ...params, offset: target.offset }, c.var.keepAlive);
    return c.json(page, 200);
  });
