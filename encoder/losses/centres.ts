// Hash centres / target vectors shared by the centre-based losses (CSQ, DPN): Hadamard rows, random
// +-1 vectors under a minimum Hamming distance, and the multi-label "sign of the sum" rule.
import * as tf from '@tensorflow/tfjs';
import { sampleIndices } from '../random.js';

/** A set of +-1 vectors, row-major: `values[i * bits + k]` is bit k of vector i. */
export interface SignMatrix {
  readonly rows: number;
  readonly bits: number;
  readonly values: Float32Array;
}

export function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && (n & (n - 1)) === 0;
}

/** The n x n Hadamard matrix by Sylvester's construction, H_2n = [[H, H], [H, -H]]; n must be a power of two. */
export function hadamard(n: number): SignMatrix {
  if (!isPowerOfTwo(n)) throw new RangeError(`Sylvester Hadamard matrix needs a power-of-two size, got ${n}`);
  const values = new Float32Array(n * n);
  values[0] = 1;
  for (let size = 1; size < n; size *= 2) {
    for (let i = 0; i < size; i++) {
      for (let j = 0; j < size; j++) {
        const h = values[i * n + j];
        values[i * n + j + size] = h;
        values[(i + size) * n + j] = h;
        values[(i + size) * n + j + size] = -h;
      }
    }
  }
  return { rows: n, bits: n, values };
}

/** The first `count` rows of [H; -H]: 2n mutually orthogonal-or-opposite centres (CSQ). */
export function hadamardCentres(count: number, bits: number): SignMatrix {
  if (count > 2 * bits) throw new RangeError(`[H; -H] has ${2 * bits} rows, ${count} requested`);
  const h = hadamard(bits);
  const values = new Float32Array(count * bits);
  for (let i = 0; i < count; i++) {
    for (let k = 0; k < bits; k++)
      values[i * bits + k] = i < bits ? h.values[i * bits + k] : -h.values[(i - bits) * bits + k];
  }
  return { rows: count, bits, values };
}

/** Independent fair coin per bit. */
export function bernoulliVector(bits: number, random: () => number): Float32Array {
  const v = new Float32Array(bits);
  for (let k = 0; k < bits; k++) v[k] = random() < 0.5 ? -1 : 1;
  return v;
}

/** Exactly `negatives` bits set to -1 at random positions (DeepHash-pytorch's random.sample draw). */
export function balancedVector(bits: number, negatives: number, random: () => number): Float32Array {
  const v = new Float32Array(bits).fill(1);
  for (const k of sampleIndices(bits, negatives, random)) v[k] = -1;
  return v;
}

export function hammingDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) d++;
  return d;
}

export interface MinDistanceOptions {
  /** Required distance to every earlier centre (inclusive lower bound) at the start. */
  minDistance: number;
  /** When no candidate fits after `triesPerLevel` draws, lower the requirement by one bit, down to this. */
  relaxTo?: number;
  /** Candidate draws per requirement level (default 200). */
  triesPerLevel?: number;
}

/**
 * Greedy rejection sampling of `count` centres, each at Hamming distance >= minDistance from all earlier
 * ones. The requirement relaxes one bit at a time down to `relaxTo` (default: no relaxation); if even
 * that cannot be met, the best candidate seen (largest distance to its nearest earlier centre) is kept,
 * so the draw always finishes and stays deterministic for a given random stream.
 */
export function drawCentres(
  count: number,
  bits: number,
  draw: () => Float32Array,
  options: MinDistanceOptions,
): SignMatrix {
  const tries = options.triesPerLevel ?? 200;
  const floor = Math.min(options.minDistance, options.relaxTo ?? options.minDistance);
  let required = options.minDistance;
  const values = new Float32Array(count * bits);
  let bestDistance = -1;
  const nearestDistance = (candidate: Float32Array, placed: number): number => {
    let nearest = bits;
    for (let j = 0; j < placed; j++) {
      nearest = Math.min(nearest, hammingDistance(candidate, values.subarray(j * bits, (j + 1) * bits)));
      // Cannot beat the best candidate any more: stop (the value returned is then only an upper bound).
      if (nearest <= bestDistance) break;
    }
    return nearest;
  };
  for (let i = 0; i < count; i++) {
    let best: Float32Array | undefined;
    bestDistance = -1;
    for (;;) {
      for (let t = 0; t < tries && bestDistance < required; t++) {
        const candidate = draw();
        const d = nearestDistance(candidate, i);
        if (d > bestDistance) {
          best = candidate;
          bestDistance = d;
        }
      }
      if (bestDistance >= required || required <= floor) break;
      required--;
    }
    values.set(best!, i * bits);
  }
  return { rows: count, bits, values };
}

/** Smallest pairwise Hamming distance between rows (bits when there is a single row). */
export function minPairwiseDistance(m: SignMatrix): number {
  let nearest = m.bits;
  for (let i = 0; i < m.rows; i++) {
    for (let j = i + 1; j < m.rows; j++) {
      const a = m.values.subarray(i * m.bits, (i + 1) * m.bits);
      const b = m.values.subarray(j * m.bits, (j + 1) * m.bits);
      nearest = Math.min(nearest, hammingDistance(a, b));
    }
  }
  return nearest;
}

/**
 * Per-sample targets from multi-hot labels: sign of the sum of the labels' centres, bits where the sum
 * is zero (ties, or a sample without labels) taken from the fixed `fill` vector. Single-label one-hot
 * rows give their class centre exactly. Returns +-1 float32 [B, bits]; no gradient flows through it.
 */
export function labelsToTargets(labels: tf.Tensor2D, centres: tf.Tensor2D, fill: tf.Tensor1D): tf.Tensor2D {
  return tf.tidy(() => {
    const sum = tf.matMul(labels, centres);
    const filled = tf.where(tf.equal(sum, 0), tf.broadcastTo(fill, sum.shape), sum);
    return tf.sub(tf.mul(tf.cast(tf.greater(filled, 0), 'float32'), 2), 1) as tf.Tensor2D;
  });
}

export function toTensor(m: SignMatrix): tf.Tensor2D {
  return tf.tensor2d(m.values, [m.rows, m.bits], 'float32');
}
