// POST /v1/admin/activate and /v1/admin/rollback: flip the active-version pointer. Bearer token only
// (middleware/adminAuth.ts); the flip is one KV write, seen by this isolate at once and by others
// within their pointer TTL.
import { createRoute } from '@hono/zod-openapi';
import { ActivateRequest, AdminResponse } from '../../schemas/api.js';
import type { ActivePointer } from '../../schemas/storage.js';
import { ApiError } from '../errors.js';
import { adminAuth } from '../middleware/adminAuth.js';
import type { EdgeServices } from '../services.js';
import type { KeepAlive } from '../storage/keepAlive.js';
import { errorResponses, json, router } from './router.js';

const security = [{ adminBearer: [] }];

const activate = createRoute({
  method: 'post',
  path: '/activate',
  tags: ['admin'],
  summary: 'Make a published version the active one',
  security,
  request: { body: { required: true, content: { 'application/json': { schema: ActivateRequest } } } },
  responses: {
    200: json(AdminResponse, 'the new pointer'),
    ...errorResponses('invalid_parameter', 'unauthorized', 'unknown_version', 'index_unavailable'),
  },
});

const rollback = createRoute({
  method: 'post',
  path: '/rollback',
  tags: ['admin'],
  summary: 'Make the previous active version active again',
  security,
  responses: {
    200: json(AdminResponse, 'the new pointer'),
    ...errorResponses('invalid_parameter', 'unauthorized', 'no_active_index', 'index_unavailable'),
  },
});

async function flip(services: EdgeServices, version: number, previous: number | undefined, keepAlive: KeepAlive) {
  if (!(await services.manifest(version, keepAlive))) {
    throw new ApiError('unknown_version', `index "${services.settings.indexId}" has no version ${version}`);
  }
  const pointer: ActivePointer = { version, previous, updated: new Date().toISOString() };
  await services.reader.writePointer(pointer);
  services.pointer.remember(pointer);
  return { indexId: services.settings.indexId, version, previous: previous ?? null };
}

export const adminRoutes = router();
adminRoutes.use('*', adminAuth);
adminRoutes
  .openapi(activate, async (c) => {
    const { version } = c.req.valid('json');
    const current = await c.var.services.reader.pointer();
    const previous = current?.version === version ? current.previous : current?.version;
    return c.json(await flip(c.var.services, version, previous, c.var.keepAlive), 200);
  })
  .openapi(rollback, async (c) => {
    const current = await c.var.services.reader.pointer();
    if (!current) throw new ApiError('no_active_index', 'no version is active, so there is nothing to roll back');
    if (current.previous === undefined) {
      throw new ApiError('invalid_parameter', `version ${current.version} has no previous version to roll back to`);
    }
    return c.json(await flip(c.var.services, current.previous, current.version, c.var.keepAlive), 200);
  });
adminRoutes.openAPIRegistry.registerComponent('securitySchemes', 'adminBearer', {
  type: 'http',
  scheme: 'bearer',
  description: 'hex HMAC-SHA256 of the index id, keyed by the ADMIN_SECRET secret',
});
