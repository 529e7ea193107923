// API errors: thrown anywhere in a request, turned into an ErrorResponse by the app's error handler.
import { type ErrorCode, type ErrorResponse, errorStatus } from '../schemas/api.js';

export class ApiError extends Error {
  readonly status: (typeof errorStatus)[ErrorCode];

  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = errorStatus[code];
  }

  get body(): ErrorResponse {
    return { error: { code: this.code, message: this.message } };
  }
}

export function errorResponse(error: ApiError, headers?: HeadersInit): Response {
  return Response.json(error.body, { status: error.status, headers });
}
