// Admin routes need `Authorization: Bearer <adminToken(ADMIN_SECRET, indexId)>`. Without ADMIN_SECRET
// configured no token exists and every admin request is unauthorized.
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../appEnv.js';
import { ApiError } from '../errors.js';
import { adminToken, constantTimeEqual } from './adminToken.js';

export const adminAuth = createMiddleware<AppEnv>(async (c, next) => {
  const { adminSecret, indexId } = c.var.services.settings;
  const presented = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
  if (!adminSecret || !presented || !constantTimeEqual(presented, await adminToken(adminSecret, indexId))) {
    throw new ApiError('unauthorized', 'admin routes need a bearer token derived from ADMIN_SECRET');
  }
  await next();
});
