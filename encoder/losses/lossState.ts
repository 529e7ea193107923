// A loss's state across batches for checkpoints: its memory bank (DPSH, DSH, DAH, ADSH, PAL), its
// trainable variables (GreedyHash's classifier) and what it keeps beyond them (ADSH's learned
// database codes). Without it a resumed epoch starts from an empty bank, ADSH from zero database
// codes (which pull every output toward 0) and GreedyHash from a fresh classifier.
import * as tf from '@tensorflow/tfjs';
import type { HashLoss, NamedArray } from './types.js';

const variableName = (i: number) => `variables/${i}`;

/** Empty for a loss that keeps no such state (a resume then replays its epoch schedule instead). */
export async function saveLossState(loss: HashLoss): Promise<NamedArray[]> {
  // Read back asynchronously: a GPU backend (webgpu in Node) has no synchronous readback.
  const variables = await Promise.all(
    (loss.variables ?? []).map(async (v, i) => ({
      name: variableName(i),
      shape: [...v.shape],
      values: Float32Array.from((await v.data()) as Float32Array),
    })),
  );
  return [...variables, ...(loss.bank?.saveState() ?? []), ...(loss.saveState?.() ?? [])];
}

/** Loads what saveLossState wrote into a loss built from the same config. */
export function loadLossState(loss: HashLoss, entries: readonly NamedArray[]): void {
  if (entries.length === 0) return;
  const variables = loss.variables ?? [];
  if (variables.length === 0 && loss.bank === undefined && loss.loadState === undefined) {
    throw new Error(`loss ${loss.name} keeps no state, but ${entries.length} state arrays were given`);
  }
  const values = variables.map((v, i) => {
    const entry = entries.find((e) => e.name === variableName(i));
    if (entry === undefined || entry.values.length !== v.size) {
      throw new RangeError(
        `loss ${loss.name} state: ${variableName(i)} (${v.name}, shape ${v.shape}) is missing or mis-sized`,
      );
    }
    return entry;
  });
  loss.bank?.loadState(entries);
  loss.loadState?.(entries);
  variables.forEach((v, i) => {
    tf.tidy(() => v.assign(tf.tensor(values[i].values, v.shape)));
  });
}
