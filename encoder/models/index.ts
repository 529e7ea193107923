// Model registry: one file per architecture; dahNet is cnnHash with attention (cnnHash.ts).
import { buildCnnHash, buildDahNet } from './cnnHash.js';
import { buildHybridHash } from './hybridHash.js';
import { buildMaSwin } from './maSwin.js';
import type { HashModel, HashModelConfig } from './types.js';
import { buildVitHash } from './vitHash.js';

export { ChannelAttention, SpatialAttention } from './cbam.js';
export {
  buildCnnHash,
  buildDahNet,
  CNN_HASH_DEFAULTS,
  type CnnAttention,
  type CnnHashOptions,
  resolveCnnHashOptions,
} from './cnnHash.js';
export {
  buildHybridHash,
  HYBRID_HASH_DEFAULTS,
  type HybridHashOptions,
  resolveHybridHashOptions,
} from './hybridHash.js';
export { ClassToken, FirstToken, LearnedPositionEmbedding, MultiHeadSelfAttention } from './layers.js';
export { buildMaSwin, MA_SWIN_DEFAULTS, type MaSwinOptions, resolveMaSwinOptions } from './maSwin.js';
export type { HashModel, HashModelConfig } from './types.js';
export { buildVitHash, resolveVitHashOptions, VIT_HASH_DEFAULTS, type VitHashOptions } from './vitHash.js';

export type ModelBuilder = (config: HashModelConfig) => HashModel;

const builders = new Map<string, ModelBuilder>([
  ['cnnHash', buildCnnHash],
  ['dahNet', buildDahNet],
  ['hybridHash', buildHybridHash],
  ['maSwin', buildMaSwin],
  ['vitHash', buildVitHash],
]);

export function createModel(config: HashModelConfig): HashModel {
  const build = builders.get(config.architecture);
  if (!build) {
    throw new RangeError(`unknown architecture "${config.architecture}"; known: ${listArchitectures().join(', ')}`);
  }
  for (const key of ['bits', 'inputSize', 'channels', 'numClasses'] as const) {
    const v = config[key];
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${key} must be a positive integer, got ${v}`);
  }
  return build(config);
}

export function listArchitectures(): string[] {
  return [...builders.keys()].sort();
}

/** Adds an architecture; a name may be registered once. */
export function registerArchitecture(name: string, build: ModelBuilder): void {
  if (builders.has(name)) throw new Error(`architecture "${name}" is already registered`);
  builders.set(name, build);
}
