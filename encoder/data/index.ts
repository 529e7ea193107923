export * from '../random.js';
export * from './augment.js';
export * from './batches.js';
export { type DecodedImages, type DecodeFailure, decodeFile, decodeImages, getDecodeCount } from './decode.js';
export * from './loaders.js';
export * from './protocols.js';
export type * from './types.js';
