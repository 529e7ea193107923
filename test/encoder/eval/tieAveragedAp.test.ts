import { describe, expect, it } from 'vitest';
import { TieAveragedAp } from '../../../encoder/eval/tieAveragedAp.js';
import { rng } from '../../support/random.js';

/** CalcTopMap's AP of one fixed order: mean precision at the relevant items within the top `depth`. */
function apOf(relevant: number[], depth: number): number {
  let hits = 0;
  let sum = 0;
  relevant.slice(0, depth).forEach((rel, r) => {
    if (rel) sum += ++hits / (r + 1);
  });
  return hits ? sum / hits : 0;
}

/** Every arrangement of each tie group's items (as distinct items), the groups kept in distance order. */
function* arrangements(groups: number[][]): Generator<number[]> {
  if (groups.length === 0) {
    yield [];
    return;
  }
  for (const head of permutations(groups[0])) {
    for (const rest of arrangements(groups.slice(1))) yield [...head, ...rest];
  }
}

function* permutations(items: number[]): Generator<number[]> {
  if (items.length <= 1) {
    yield items.slice();
    return;
  }
  for (let i = 0; i < items.length; i++) {
    const rest = [...items.slice(0, i), ...items.slice(i + 1)];
    for (const tail of permutations(rest)) yield [items[i], ...tail];
  }
}

/** The mean AP over all orders within ties, by enumeration. */
function bruteForce(relevant: number[], distances: number[], depth: number): number {
  const groups: number[][] = [];
  distances.forEach((d, i) => {
    if (i > 0 && d === distances[i - 1]) groups[groups.length - 1].push(relevant[i]);
    else groups.push([relevant[i]]);
  });
  let sum = 0;
  let count = 0;
  for (const order of arrangements(groups)) {
    sum += apOf(order, depth);
    count++;
  }
  return sum / count;
}

/** The tie groups of a ranking: items and relevant items per run of equal distances. */
function groupsOf(relevant: number[], distances: number[]) {
  const sizes: number[] = [];
  const hits: number[] = [];
  distances.forEach((d, i) => {
    if (i === 0 || d !== distances[i - 1]) {
      sizes.push(0);
      hits.push(0);
    }
    sizes[sizes.length - 1]++;
    hits[hits.length - 1] += relevant[i];
  });
  return { sizes, hits };
}

/** TieAveragedAp on an item-level ranking. */
function tieAveraged(metric: TieAveragedAp, relevant: number[], distances: number[], depth: number): number {
  const { sizes, hits } = groupsOf(relevant, distances);
  return metric.ap(sizes, hits, depth);
}

function randomCase(seed: number, n: number) {
  const next = rng(seed);
  const distances = Array.from({ length: n }, () => Math.floor(next() * 4)).sort((a, b) => a - b);
  const relevant = Array.from({ length: n }, () => (next() < 0.4 ? 1 : 0));
  return { distances, relevant };
}

describe('TieAveragedAp', () => {
  const metric = new TieAveragedAp(64);

  it('equals the mean AP over every order within ties, at every depth (brute force)', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const { distances, relevant } = randomCase(seed, 3 + (seed % 6));
      for (let depth = 1; depth <= distances.length; depth++) {
        expect(tieAveraged(metric, relevant, distances, depth)).toBeCloseTo(bruteForce(relevant, distances, depth), 12);
      }
    }
  });

  it('is the AP of the order itself when no distances tie', () => {
    const relevant = [0, 1, 1, 0, 0, 1, 0];
    const distances = [0, 1, 2, 3, 4, 5, 6];
    for (const depth of [1, 2, 3, 5, 7])
      expect(tieAveraged(metric, relevant, distances, depth)).toBeCloseTo(apOf(relevant, depth), 12);
  });

  it('does not depend on the stored order within a tie group', () => {
    const distances = [0, 0, 1, 1, 1, 1, 2, 2];
    const first = tieAveraged(metric, [1, 0, 1, 1, 0, 0, 0, 1], distances, 8);
    expect(tieAveraged(metric, [0, 1, 0, 0, 1, 1, 1, 0], distances, 8)).toBeCloseTo(first, 12);
    expect(apOf([1, 0, 1, 1, 0, 0, 0, 1], 8)).not.toBeCloseTo(apOf([0, 1, 0, 0, 1, 1, 1, 0], 8), 3);
  });

  it('scores one code for everything at about relevant / all, where ascending-index ties give more', () => {
    const n = 1000;
    const big = new TieAveragedAp(n);
    // Class-ordered database of 10 classes, the query's class stored second: the CIFAR situation.
    const relevant = Array.from({ length: n }, (_, i) => (Math.floor(i / 100) === 1 ? 1 : 0));
    const distances = new Array<number>(n).fill(7);
    const expected = tieAveraged(big, relevant, distances, n);
    expect(expected).toBeGreaterThan(0.1);
    expect(expected).toBeLessThan(0.11);
    expect(apOf(relevant, n)).toBeGreaterThan(0.15);
  });

  it('is 0 with nothing relevant, and rejects a database larger than it was sized for', () => {
    expect(tieAveraged(metric, [0, 0, 0], [1, 1, 2], 3)).toBe(0);
    expect(() => metric.ap([40, 25], [0, 0], 65)).toThrow(/sized for 64/);
  });

  it('skips empty groups (distances no item has)', () => {
    expect(metric.ap([0, 2, 0, 0, 3, 0], [0, 1, 0, 0, 2, 0], 5)).toBeCloseTo(metric.ap([2, 3], [1, 2], 5), 12);
    expect(metric.ap([0, 2, 0, 3], [0, 1, 0, 2], 3)).toBeCloseTo(
      tieAveraged(metric, [1, 0, 1, 1, 0], [1, 1, 4, 4, 4], 3),
      12,
    );
  });
});
