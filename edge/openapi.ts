// The OpenAPI document's header; its paths and schemas are generated from the routes (schemas/api.ts).
import { errorCodes } from '../schemas/api.js';

export const openApiConfig = {
  openapi: '3.1.0',
  info: {
    title: 'edgehash search API',
    version: '1',
    description:
      'Deep-hashing image search at the edge: search by image or by binary code over an immutable index version. ' +
      'Every error is JSON `{ "error": { "code", "message" } }` with one of the stable codes: ' +
      `${errorCodes.join(', ')}. Results are ordered by (Hamming distance, item id), so pages are stable; ` +
      "a page's `next` cursor pins the version the first page came from.",
  },
};
