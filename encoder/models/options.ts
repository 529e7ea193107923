// Typed reads of a model config's loose `options` record.
import { choiceOption, numberOption } from '../losses/options.js';

export { choiceOption, numberOption };

export const isPositiveInteger = (v: number) => Number.isInteger(v) && v >= 1;

export function booleanOption(options: Record<string, unknown> | undefined, key: string, fallback: boolean): boolean {
  const value = options?.[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new TypeError(`option ${key}: expected a boolean, got ${String(value)}`);
  return value;
}

export function integerListOption(
  options: Record<string, unknown> | undefined,
  key: string,
  fallback: readonly number[],
): number[] {
  const value = options?.[key];
  if (value === undefined) return [...fallback];
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    !value.every((v) => typeof v === 'number' && isPositiveInteger(v))
  ) {
    throw new TypeError(`option ${key}: expected a non-empty list of positive integers, got ${JSON.stringify(value)}`);
  }
  return value as number[];
}

export type OutputActivation = 'tanh' | 'linear';

/** Shared by all architectures: tanh-bounded hash output (CSQ, HashNet, ...) or raw (DPN). */
export function outputActivationOption(options: Record<string, unknown> | undefined): OutputActivation {
  return choiceOption(options, 'outputActivation', ['tanh', 'linear'] as const, 'tanh');
}

/** Distinct, reproducible initializer seeds for successive layers (undefined: tfjs's own randomness). */
export function seedSequence(seed: number | undefined): () => number | undefined {
  let layer = 0;
  return () => (seed === undefined ? undefined : (seed * 7919 + ++layer * 104729) % 2147483647);
}
