// A route group: OpenAPIHono (routes validated by, and documented from, the schemas/api.ts shapes)
// with the shared validation hook, and the error responses each route documents.
import { OpenAPIHono } from '@hono/zod-openapi';
import { type ErrorCode, ErrorResponse, errorStatus } from '../../schemas/api.js';
import type { AppEnv } from '../appEnv.js';
import { validationHook } from '../middleware/errors.js';

export function router(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
}

/** OpenAPI response entries for the error codes a route can return, grouped by status. */
export function errorResponses(...codes: ErrorCode[]) {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(errorStatus[code], [...(byStatus.get(errorStatus[code]) ?? []), code]);
  return Object.fromEntries(
    [...byStatus].map(([status, list]) => [
      status,
      { description: `error: ${list.join(', ')}`, content: { 'application/json': { schema: ErrorResponse } } },
    ]),
  );
}

export const json = <T>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});
