import { mulberry32 } from '../../encoder/random.js';

/** Deterministic PRNG so generated test tables are reproducible from a seed. */
export const rng = mulberry32;

export function randomBytes(length: number, seed: number): Uint8Array {
  const next = rng(seed);
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (next() * 256) | 0;
  return out;
}
