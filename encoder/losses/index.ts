// Loss registry: one file per loss; each registers a factory here by name.
import { AdshLoss } from './adsh.js';
import { CsqLoss } from './csq.js';
import { DahLoss } from './dah.js';
import { DpnLoss } from './dpn.js';
import { DpshLoss } from './dpsh.js';
import { DshLoss } from './dsh.js';
import { GreedyHashLoss } from './greedyhash.js';
import { HashNetLoss } from './hashnet.js';
import { OrthoHashLoss } from './orthohash.js';
import { PalLoss } from './pal.js';
import type { HashLoss, LossContext } from './types.js';

export { AdshLoss } from './adsh.js';
export { hadamard, hadamardCentres, labelsToTargets, minPairwiseDistance, type SignMatrix } from './centres.js';
export { CsqLoss, csqCentres } from './csq.js';
export { DahLoss } from './dah.js';
export { DpnLoss, type DpnTargetRule, dpnTargets } from './dpn.js';
export { DpshLoss } from './dpsh.js';
export { DshLoss } from './dsh.js';
export { GreedyHashLoss, straightThroughSign } from './greedyhash.js';
export { HashNetLoss } from './hashnet.js';
export { OrthoHashLoss } from './orthohash.js';
export { PalLoss } from './pal.js';
export type { HashLoss, LossContext } from './types.js';

export type LossFactory = (ctx: LossContext) => HashLoss;

const factories = new Map<string, LossFactory>([
  ['adsh', (ctx) => new AdshLoss(ctx)],
  ['csq', (ctx) => new CsqLoss(ctx)],
  ['dah', (ctx) => new DahLoss(ctx)],
  ['dpn', (ctx) => new DpnLoss(ctx)],
  ['dpsh', (ctx) => new DpshLoss(ctx)],
  ['dsh', (ctx) => new DshLoss(ctx)],
  ['greedyhash', (ctx) => new GreedyHashLoss(ctx)],
  ['hashnet', (ctx) => new HashNetLoss(ctx)],
  ['orthohash', (ctx) => new OrthoHashLoss(ctx)],
  ['pal', (ctx) => new PalLoss(ctx)],
  // Seed 001's single loss is unpublished; OrthoHash is its documented stand-in (methods.md).
  ['single', (ctx) => new OrthoHashLoss(ctx, 'single')],
]);

export function createLoss(name: string, ctx: LossContext): HashLoss {
  const factory = factories.get(name);
  if (!factory) throw new RangeError(`unknown loss "${name}"; known: ${listLosses().join(', ')}`);
  if (!Number.isInteger(ctx.bits) || ctx.bits < 1)
    throw new RangeError(`bits must be a positive integer, got ${ctx.bits}`);
  if (!Number.isInteger(ctx.numClasses) || ctx.numClasses < 1) {
    throw new RangeError(`numClasses must be a positive integer, got ${ctx.numClasses}`);
  }
  return factory(ctx);
}

export function listLosses(): string[] {
  return [...factories.keys()].sort();
}

/** Adds a loss from outside this folder; a name may be registered once. */
export function registerLoss(name: string, factory: LossFactory): void {
  if (factories.has(name)) throw new Error(`loss "${name}" is already registered`);
  factories.set(name, factory);
}
