// Rate limiting per client address (CF-Connecting-IP, set by Cloudflare's edge), per isolate.
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../appEnv.js';
import { ApiError, errorResponse } from '../errors.js';

export const rateLimit = createMiddleware<AppEnv>(async (c, next) => {
  const client = c.req.header('cf-connecting-ip') ?? 'unknown';
  const wait = c.var.services.rateLimiter.take(client);
  if (wait > 0) {
    const error = new ApiError('rate_limited', `too many requests from ${client}; retry in ${wait} s`);
    return errorResponse(error, { 'retry-after': String(wait) });
  }
  await next();
});
