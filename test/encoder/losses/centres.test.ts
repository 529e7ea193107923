// Hash centres: Hadamard rows, random centres under a distance constraint, the multi-label sign rule.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  drawCentres,
  hadamard,
  hadamardCentres,
  labelsToTargets,
  minPairwiseDistance,
  type SignMatrix,
} from '../../../encoder/losses/centres.js';
import { csqCentres } from '../../../encoder/losses/csq.js';
import { dpnTargets } from '../../../encoder/losses/dpn.js';
import { mulberry32 } from '../../../encoder/random.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const row = (m: SignMatrix, i: number) => Array.from(m.values.subarray(i * m.bits, (i + 1) * m.bits));
const distinctRows = (m: SignMatrix) => new Set(Array.from({ length: m.rows }, (_, i) => row(m, i).join(','))).size;

describe('hadamard', () => {
  it('is the Sylvester matrix for n = 4', () => {
    const h = hadamard(4);
    expect([row(h, 0), row(h, 1), row(h, 2), row(h, 3)]).toEqual([
      [1, 1, 1, 1],
      [1, -1, 1, -1],
      [1, 1, -1, -1],
      [1, -1, -1, 1],
    ]);
  });

  it.each([1, 2, 8, 16, 64])('has orthogonal rows: H H^T = n I for n = %i', (n) => {
    const h = hadamard(n);
    const wrong: string[] = [];
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let dot = 0;
        for (let k = 0; k < n; k++) dot += h.values[i * n + k] * h.values[j * n + k];
        if (dot !== (i === j ? n : 0)) wrong.push(`rows ${i}, ${j}: ${dot}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('rejects sizes that are not powers of two', () => {
    expect(() => hadamard(12)).toThrow(RangeError);
    expect(() => hadamard(0)).toThrow(RangeError);
  });

  it('[H; -H] gives 2n distinct centres at distance n/2 or n', () => {
    const c = hadamardCentres(16, 8);
    expect(distinctRows(c)).toBe(16);
    expect(minPairwiseDistance(c)).toBe(4);
    expect(row(c, 8)).toEqual(row(c, 0).map((v) => -v));
  });
});

describe('csqCentres', () => {
  it('uses Hadamard rows up to 2 * bits classes', () => {
    expect(csqCentres(10, 16, 1).values).toEqual(hadamardCentres(10, 16).values);
    expect(csqCentres(32, 16, 1).values).toEqual(hadamardCentres(32, 16).values);
  });

  it('draws distinct random centres at distance > bits/4 beyond 2 * bits classes, reproducibly', () => {
    const c = csqCentres(40, 16, 7);
    expect(distinctRows(c)).toBe(40);
    expect(minPairwiseDistance(c)).toBeGreaterThan(4);
    expect(csqCentres(40, 16, 7).values).toEqual(c.values);
    expect(csqCentres(40, 16, 8).values).not.toEqual(c.values);
  });

  it('falls back to random centres when bits is not a power of two', () => {
    const c = csqCentres(10, 12, 3);
    expect(distinctRows(c)).toBe(10);
    expect(minPairwiseDistance(c)).toBeGreaterThan(3);
  });
});

describe('dpnTargets', () => {
  it('draws exactly p * bits negative bits per class, reproducibly', () => {
    const t = dpnTargets(10, 16, 5, 'random');
    for (let i = 0; i < 10; i++) expect(row(t, i).filter((v) => v === -1)).toHaveLength(8);
    expect(distinctRows(t)).toBe(10);
    expect(dpnTargets(10, 16, 5, 'random').values).toEqual(t.values);
    const sparse = dpnTargets(3, 16, 5, 'random', 0.25);
    for (let i = 0; i < 3; i++) expect(row(sparse, i).filter((v) => v === -1)).toHaveLength(4);
  });

  it('minDistance: meets 0.61 * bits when it can, never below 0.2 * bits', () => {
    expect(minPairwiseDistance(dpnTargets(2, 16, 1, 'minDistance'))).toBeGreaterThanOrEqual(Math.ceil(0.61 * 16));
    expect(minPairwiseDistance(dpnTargets(30, 16, 1, 'minDistance'))).toBeGreaterThanOrEqual(Math.ceil(0.2 * 16));
  });
});

describe('drawCentres', () => {
  it('relaxes the requirement instead of looping forever when it cannot be met', () => {
    // 3 bits hold 8 distinct vectors; 8 classes at distance >= 3 is impossible.
    const random = mulberry32(1);
    const draw = () => Float32Array.from({ length: 3 }, () => (random() < 0.5 ? -1 : 1));
    const c = drawCentres(8, 3, draw, { minDistance: 3, relaxTo: 1, triesPerLevel: 500 });
    expect(distinctRows(c)).toBe(8);
  });
});

describe('labelsToTargets', () => {
  it('takes the class centre for one-hot labels and the sign of the sum for multi-hot, ties from the fill', () => {
    const centres = tf.tensor2d(
      [
        [1, 1, 1, 1],
        [1, -1, 1, -1],
        [1, 1, -1, -1],
      ],
      [3, 4],
    );
    const fill = tf.tensor1d([-1, -1, 1, 1]);
    const labels = tf.tensor2d(
      [
        [0, 1, 0],
        [1, 1, 0], // sum [2, 0, 2, 0]: bits 1 and 3 tie
        [1, 1, 1], // sum [3, 1, 1, -1]
        [0, 0, 0], // no label: all fill
      ],
      [4, 3],
    );
    const t = labelsToTargets(labels, centres, fill);
    expect(t.arraySync()).toEqual([
      [1, -1, 1, -1],
      [1, -1, 1, 1],
      [1, 1, 1, -1],
      [-1, -1, 1, 1],
    ]);
    tf.dispose([centres, fill, labels, t]);
  });
});
