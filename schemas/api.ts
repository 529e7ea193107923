// The edge API's contract: request parameters, responses and errors. The Hono routes validate with
// these schemas, the OpenAPI document is generated from them, and the widget reads the same shapes.
import { z } from 'zod';
import { ItemId, ItemMetadata } from './item.js';
import { ModelCard } from './modelCard.js';

export const API_PREFIX = '/v1';
export const MAX_K = 1000;
export const DEFAULT_K = 20;
/** Deepest result a page may start at: offset + k <= MAX_DEPTH. */
export const MAX_DEPTH = 10_000;
export const MAX_IMAGE_BYTES = 10 * 1024 * 1024;
/**
 * Decoded pixels allowed per query image (a 1920 x 1080 frame), checked from the header before
 * decoding: what a Worker's 128 MB holds beside its code-table cache (64 MB) and the model, since
 * jpeg-js needs up to about 27 bytes a pixel. Models read 32-224 px, so a client loses nothing by
 * sending a smaller image.
 */
export const MAX_IMAGE_PIXELS = 1920 * 1080;
/** The longest side allowed, so a thin image within the pixel limit cannot make the resize huge. */
export const MAX_IMAGE_SIDE = 8192;

/** Stable machine-readable error codes; the message says what to change. */
export const errorCodes = [
  'empty_body',
  'unsupported_media_type',
  'invalid_image',
  'image_too_large',
  'body_too_large',
  'invalid_code',
  'invalid_parameter',
  'invalid_cursor',
  'unknown_version',
  'no_active_index',
  'not_found',
  'unauthorized',
  'forbidden_origin',
  'rate_limited',
  'index_unavailable',
] as const;
export const ErrorCode = z.enum(errorCodes);
export type ErrorCode = z.infer<typeof ErrorCode>;

/** The HTTP status each error code is served with. */
export const errorStatus = {
  empty_body: 400,
  unsupported_media_type: 415,
  invalid_image: 422,
  image_too_large: 413,
  body_too_large: 413,
  invalid_code: 400,
  invalid_parameter: 400,
  invalid_cursor: 400,
  unknown_version: 404,
  no_active_index: 404,
  not_found: 404,
  unauthorized: 401,
  forbidden_origin: 403,
  rate_limited: 429,
  index_unavailable: 503,
} as const satisfies Record<ErrorCode, number>;

export const ErrorResponse = z.object({
  error: z.object({ code: ErrorCode, message: z.string() }),
});
export type ErrorResponse = z.infer<typeof ErrorResponse>;

const intParam = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** Query-string parameters shared by every search route. */
export const SearchParams = z.object({
  k: intParam(1, MAX_K).default(DEFAULT_K),
  /** Only hits within this Hamming distance (inclusive); without it, plain top-k. */
  radius: intParam(0, 1024).optional(),
  offset: intParam(0, MAX_DEPTH).default(0),
  /** Opaque continuation token from a previous page's `next`; overrides offset and version. */
  cursor: z.string().max(200).optional(),
  /** Index version to search; defaults to the active one. */
  version: intParam(1, 2 ** 31 - 1).optional(),
});
export type SearchParams = z.infer<typeof SearchParams>;

export const SearchByCodeParams = SearchParams.extend({
  /** The query code: hex (2 digits per byte) or base64url, bits/8 bytes, bit i = MSB-first bit i. */
  code: z.string().min(1).max(400),
});

export const SearchHit = z.object({
  id: ItemId,
  distance: z.number().int().min(0),
  metadata: ItemMetadata.optional(),
});
export type SearchHit = z.infer<typeof SearchHit>;

export const SearchResponse = z.object({
  indexId: z.string(),
  version: z.number().int().positive(),
  bits: z.number().int(),
  /** The query's code in hex, so a client can search again by code. */
  code: z.string(),
  offset: z.number().int().min(0),
  hits: z.array(SearchHit),
  /** Cursor for the next page, or null at the end. */
  next: z.string().nullable(),
  timing: z.object({ decodeMs: z.number().optional(), hashMs: z.number().optional(), rankMs: z.number() }),
});
export type SearchResponse = z.infer<typeof SearchResponse>;

export const ItemResponse = z.object({
  indexId: z.string(),
  version: z.number().int().positive(),
  item: ItemMetadata,
  code: z.string(),
});
export type ItemResponse = z.infer<typeof ItemResponse>;

export const IndexResponse = z.object({
  indexId: z.string(),
  version: z.number().int().positive(),
  previous: z.number().int().positive().nullable(),
  bits: z.number().int(),
  count: z.number().int(),
  shards: z.number().int(),
  created: z.string(),
  model: ModelCard.nullable(),
});
export type IndexResponse = z.infer<typeof IndexResponse>;

/** POST /v1/warm: the version this isolate prepares for searches; ready when it already had it in memory. */
export const WarmResponse = z.object({
  indexId: z.string(),
  version: z.number().int().positive(),
  ready: z.boolean(),
});
export type WarmResponse = z.infer<typeof WarmResponse>;

export const HealthResponse = z.object({ ok: z.boolean(), version: z.number().int().nullable() });

export const ActivateRequest = z.object({ version: z.number().int().positive() });
export const AdminResponse = z.object({
  indexId: z.string(),
  version: z.number().int().positive(),
  previous: z.number().int().positive().nullable(),
});
