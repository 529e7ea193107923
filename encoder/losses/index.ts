// Loss registry: one file per loss; each registers a factory here by name.
import { CsqLoss } from './csq.js';
import { DpnLoss } from './dpn.js';
import type { HashLoss, LossContext } from './types.js';

export { hadamard, hadamardCentres, labelsToTargets, minPairwiseDistance, type SignMatrix } from './centres.js';
export { CsqLoss, csqCentres } from './csq.js';
export { DpnLoss, type DpnTargetRule, dpnTargets } from './dpn.js';
export type { HashLoss, LossContext } from './types.js';

export type LossFactory = (ctx: LossContext) => HashLoss;

const factories = new Map<string, LossFactory>([
  ['csq', (ctx) => new CsqLoss(ctx)],
  ['dpn', (ctx) => new DpnLoss(ctx)],
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

/** Adds a loss (later ones: DPSH, HashNet, ADSH, PAL, ...); a name may be registered once. */
export function registerLoss(name: string, factory: LossFactory): void {
  if (factories.has(name)) throw new Error(`loss "${name}" is already registered`);
  factories.set(name, factory);
}
