// Model registry: one file per architecture (MA-Swin, ViT, DAH slot in the same way).
import { buildCnnHash } from './cnnHash.js';
import { buildHybridHash } from './hybridHash.js';
import type { HashModel, HashModelConfig } from './types.js';

export { buildCnnHash, CNN_HASH_DEFAULTS, type CnnHashOptions, resolveCnnHashOptions } from './cnnHash.js';
export {
  buildHybridHash,
  HYBRID_HASH_DEFAULTS,
  type HybridHashOptions,
  resolveHybridHashOptions,
} from './hybridHash.js';
export { LearnedPositionEmbedding, MultiHeadSelfAttention } from './layers.js';
export type { HashModel, HashModelConfig } from './types.js';

export type ModelBuilder = (config: HashModelConfig) => HashModel;

const builders = new Map<string, ModelBuilder>([
  ['cnnHash', buildCnnHash],
  ['hybridHash', buildHybridHash],
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
