// CORS for an allow-list of widget origins (ALLOWED_ORIGINS; `*` for any). A browser request from
// an origin outside the list (its own origin excepted) is refused with forbidden_origin; requests
// without an Origin header (servers, curl) pass.
import { cors as honoCors } from 'hono/cors';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../appEnv.js';
import { ApiError } from '../errors.js';

const headers = honoCors({
  origin: (origin) => origin,
  allowMethods: ['GET', 'POST', 'OPTIONS'],
  allowHeaders: ['content-type', 'authorization'],
  exposeHeaders: ['etag', 'retry-after'],
  maxAge: 86_400,
});

export const cors = createMiddleware<AppEnv>(async (c, next) => {
  const origin = c.req.header('origin');
  if (origin === undefined) return next();
  const allowed = c.var.services.settings.allowedOrigins;
  if (origin !== new URL(c.req.url).origin && !allowed.includes('*') && !allowed.includes(origin)) {
    throw new ApiError('forbidden_origin', `origin ${origin} may not call this API; add it to ALLOWED_ORIGINS`);
  }
  return headers(c, next);
});
