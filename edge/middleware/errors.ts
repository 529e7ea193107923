// Every failure leaves as an ErrorResponse: ApiErrors with their own status, request validation
// failures as 400s with the parameter named, store faults and anything unexpected as a 503
// index_unavailable (logged), never a bare 500.
import type { Hook } from '@hono/zod-openapi';
import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ZodError } from 'zod';
import type { ErrorCode } from '../../schemas/api.js';
import type { AppEnv } from '../appEnv.js';
import { ApiError, errorResponse } from '../errors.js';
import { IndexStoreError } from '../storage/indexReader.js';

// Parameters whose malformed values have their own error code.
const parameterCodes: Record<string, ErrorCode> = { code: 'invalid_code', cursor: 'invalid_cursor' };

function validationError(error: ZodError): ApiError {
  const issue = error.issues[0];
  const name = issue?.path.join('.') || 'request';
  return new ApiError(parameterCodes[name] ?? 'invalid_parameter', `${name}: ${issue?.message ?? 'invalid'}`);
}

// biome-ignore lint/suspicious/noExplicitAny: the hook serves every route's input type
export const validationHook: Hook<any, AppEnv, any, undefined> = (result) => {
  if (!result.success) throw validationError(result.error);
};

export const onError: ErrorHandler<AppEnv> = (error, c: Context<AppEnv>) => {
  if (error instanceof ApiError) return errorResponse(error);
  if (error instanceof HTTPException && error.status < 500) {
    return errorResponse(new ApiError('invalid_parameter', error.message || 'bad request'));
  }
  const detail = error instanceof IndexStoreError ? error.message : `${error.name}: ${error.message}`;
  console.error(`${c.req.method} ${c.req.path}: ${error.stack ?? detail}`);
  return errorResponse(new ApiError('index_unavailable', `the index cannot be served right now (${detail})`));
};

export const notFound: NotFoundHandler<AppEnv> = (c) =>
  errorResponse(new ApiError('not_found', `no route ${c.req.method} ${c.req.path}; see /docs`));
