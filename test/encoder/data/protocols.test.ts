import { describe, expect, it } from 'vitest';
import { makeSplit, PROTOCOL_TOP_K } from '../../../encoder/data/protocols.js';
import type { Split } from '../../../encoder/data/types.js';
import { rng } from '../../support/random.js';

/** Labels-only CIFAR-10 stand-in: 5000/class train blocks then 1000/class test blocks, like loadCifar10Jpeg. */
function fakeCifar() {
  const k = 10;
  const size = 60_000;
  const labels = new Uint8Array(size * k);
  for (let i = 0; i < size; i++) {
    const c = i < 50_000 ? Math.floor(i / 5000) : Math.floor((i - 50_000) / 1000);
    labels[i * k + c] = 1;
  }
  return {
    size,
    labels,
    classNames: Array.from({ length: k }, (_, c) => `c${c}`),
    testIndices: Int32Array.from({ length: 10_000 }, (_, j) => 50_000 + j),
  };
}
const cifar = fakeCifar();
const classOf = (i: number) => cifar.labels.subarray(i * 10, i * 10 + 10).indexOf(1);

function perClass(idx: Int32Array): number[] {
  const counts = new Array(10).fill(0);
  for (const i of idx) counts[classOf(i)]++;
  return counts;
}
const intersect = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  const s = new Set(Array.from(b));
  return Array.from(a).filter((i) => s.has(i)).length;
};
const isSubset = (a: ArrayLike<number>, b: ArrayLike<number>) => intersect(a, b) === a.length;
function expectSortedUnique(split: Split) {
  for (const key of ['train', 'validation', 'query', 'database'] as const) {
    const a = split[key];
    for (let j = 1; j < a.length; j++) expect(a[j]).toBeGreaterThan(a[j - 1]);
  }
}

describe('cifar protocols', () => {
  it('cifar10: 100/class query, 500/class train pool (400 train + 100 validation), database the other 54,000', () => {
    const s = makeSplit('cifar10', cifar, { seed: 7 });
    expect(s.protocol).toBe('cifar10');
    expect(s.topK).toBe(-1);
    expect([s.query.length, s.train.length, s.validation.length, s.database.length]).toEqual([
      1000, 4000, 1000, 54_000,
    ]);
    expect(perClass(s.query)).toEqual(new Array(10).fill(100));
    expect(perClass(s.train)).toEqual(new Array(10).fill(400));
    expect(perClass(s.validation)).toEqual(new Array(10).fill(100));
    expect(perClass(s.database)).toEqual(new Array(10).fill(5400));
    expect(intersect(s.query, s.train)).toBe(0);
    expect(intersect(s.query, s.database)).toBe(0);
    expect(intersect(s.train, s.database)).toBe(0);
    expect(intersect(s.validation, s.train)).toBe(0);
    expect(intersect(s.validation, s.query)).toBe(0);
    expect(intersect(s.validation, s.database)).toBe(0);
    expect(new Set([...s.query, ...s.train, ...s.validation, ...s.database]).size).toBe(60_000);
    expectSortedUnique(s);
    // queries come from train and test images alike (DeepHash-pytorch draws over all 60,000)
    expect(intersect(s.query, cifar.testIndices)).toBeGreaterThan(0);
    expect(intersect(s.query, cifar.testIndices)).toBeLessThan(1000);
  });

  it('validation is carved from the original train pool only', () => {
    const noVal = makeSplit('cifar10', cifar, { seed: 7, validationPerClass: 0 });
    expect([noVal.train.length, noVal.validation.length]).toEqual([5000, 0]);
    const s = makeSplit('cifar10', cifar, { seed: 7 });
    expect(isSubset(s.validation, noVal.train)).toBe(true);
    expect(isSubset(s.train, noVal.train)).toBe(true);
    // the validation size does not move the query / database draw
    expect(Array.from(s.query)).toEqual(Array.from(noVal.query));
    expect(Array.from(s.database)).toEqual(Array.from(noVal.database));
    const v50 = makeSplit('cifar10', cifar, { seed: 7, validationPerClass: 50 });
    expect(perClass(v50.validation)).toEqual(new Array(10).fill(50));
    expect(v50.train.length).toBe(4500);
  });

  it('is reproducible with the same seed and different with another', () => {
    const a = makeSplit('cifar10', cifar, { seed: 1 });
    const b = makeSplit('cifar10', cifar, { seed: 1 });
    const c = makeSplit('cifar10', cifar, { seed: 2 });
    for (const key of ['train', 'validation', 'query', 'database'] as const) {
      expect(Array.from(a[key])).toEqual(Array.from(b[key]));
    }
    expect(Array.from(a.query)).not.toEqual(Array.from(c.query));
    expect(Array.from(a.validation)).not.toEqual(Array.from(c.validation));
    expect(makeSplit('cifar10', cifar).seed).toBe(0);
  });

  it('cifar10-1: database = all but the query (59,000), train sampled from the database', () => {
    const s = makeSplit('cifar10-1', cifar, { seed: 3 });
    expect([s.query.length, s.train.length, s.validation.length, s.database.length]).toEqual([
      1000, 4000, 1000, 59_000,
    ]);
    expect(perClass(s.query)).toEqual(new Array(10).fill(100));
    expect(perClass(s.train)).toEqual(new Array(10).fill(400));
    expect(perClass(s.validation)).toEqual(new Array(10).fill(100));
    expect(intersect(s.query, s.database)).toBe(0);
    expect(intersect(s.query, s.train)).toBe(0);
    expect(intersect(s.query, s.validation)).toBe(0);
    expect(intersect(s.validation, s.train)).toBe(0);
    expect(isSubset(s.train, s.database)).toBe(true);
    expect(isSubset(s.validation, s.database)).toBe(true);
    expect(new Set([...s.query, ...s.database]).size).toBe(60_000);
    expectSortedUnique(s);
    // same seed: same query as cifar10 (same per-class draw), the database adds the train pool
    const base = makeSplit('cifar10', cifar, { seed: 3 });
    expect(Array.from(s.query)).toEqual(Array.from(base.query));
  });

  it('cifar10-2: query = the 10,000 test images, train = database = the 50,000 train images', () => {
    const s = makeSplit('cifar10-2', cifar, { seed: 5 });
    expect(Array.from(s.query)).toEqual(Array.from(cifar.testIndices));
    expect(s.database.length).toBe(50_000);
    expect(s.database[0]).toBe(0);
    expect(s.database[49_999]).toBe(49_999);
    expect([s.train.length, s.validation.length]).toEqual([49_000, 1000]);
    expect(perClass(s.validation)).toEqual(new Array(10).fill(100));
    expect(intersect(s.validation, s.train)).toBe(0);
    expect(intersect(s.query, s.train)).toBe(0);
    expect(isSubset(s.validation, s.database)).toBe(true);
    expectSortedUnique(s);
    const full = makeSplit('cifar10-2', cifar, { validationPerClass: 0 });
    expect(Array.from(full.train)).toEqual(Array.from(full.database));
  });

  it('rejects what does not fit', () => {
    expect(() => makeSplit('cifar10-2', { ...cifar, testIndices: undefined })).toThrow(/testIndices/);
    expect(() => makeSplit('cifar100', cifar)).toThrow(/unknown protocol/);
    const multi = { ...cifar, labels: cifar.labels.slice() };
    multi.labels[3] = 1;
    expect(() => makeSplit('cifar10', multi)).toThrow(/image 0 has 2 labels/);
    const small = { size: 20, labels: cifar.labels.subarray(0, 200), classNames: cifar.classNames };
    expect(() => makeSplit('cifar10', small)).toThrow(/needs 100 query \+ 500 train/);
    const tiny = makeSplit('cifar10', fakeSmall(), { queryPerClass: 2, trainPerClass: 5, validationPerClass: 1 });
    expect([tiny.query.length, tiny.train.length, tiny.validation.length, tiny.database.length]).toEqual([6, 12, 3, 9]);
  });
});

function fakeSmall() {
  // 3 classes x 10 images, interleaved
  const labels = new Uint8Array(30 * 3);
  for (let i = 0; i < 30; i++) labels[i * 3 + (i % 3)] = 1;
  return { size: 30, labels, classNames: ['a', 'b', 'c'] };
}

/** Multi-label dataset with list membership as loadListFiles records it. */
function fakeMultiLabel(n: number, k: number, seed: number) {
  const r = rng(seed);
  const labels = new Uint8Array(n * k);
  for (let i = 0; i < n; i++) {
    labels[i * k + Math.floor(r() * k)] = 1;
    if (r() < 0.5) labels[i * k + Math.floor(r() * k)] = 1;
  }
  // train 0..999, query 1000..1199, database = train + 1200..n-1
  const range = (a: number, b: number) => Int32Array.from({ length: b - a }, (_, j) => a + j);
  return {
    size: n,
    labels,
    classNames: Array.from({ length: k }, (_, c) => `l${c}`),
    sources: Array.from({ length: n }, (_, i) => `img/${i}.jpg`),
    lists: {
      train: range(0, 1000),
      query: range(1000, 1200),
      database: Int32Array.from([...range(0, 1000), ...range(1200, n)]),
    },
  };
}

describe('list protocols', () => {
  const ml = fakeMultiLabel(3000, 21, 11);

  it('nuswide_21 / coco / imagenet100 take the lists, topK per protocol, validation a random 5% of train', () => {
    for (const p of ['nuswide_21', 'coco', 'imagenet100'] as const) {
      const s = makeSplit(p, ml, { seed: 4 });
      expect(s.topK).toBe(PROTOCOL_TOP_K[p]);
      expect(s.validation.length).toBe(50);
      expect(s.train.length).toBe(950);
      expect(Array.from(s.query)).toEqual(Array.from(ml.lists.query));
      expect(Array.from(s.database)).toEqual(Array.from(ml.lists.database));
      expect(isSubset(s.validation, ml.lists.train)).toBe(true);
      expect(intersect(s.validation, s.train)).toBe(0);
      expect(intersect(s.query, s.train)).toBe(0);
      expect(intersect(s.query, s.validation)).toBe(0);
      expectSortedUnique(s);
    }
    expect([PROTOCOL_TOP_K.nuswide_21, PROTOCOL_TOP_K.coco, PROTOCOL_TOP_K.imagenet100]).toEqual([5000, 5000, 1000]);
    const a = makeSplit('coco', ml, { seed: 4 });
    const b = makeSplit('coco', ml, { seed: 4 });
    const c = makeSplit('coco', ml, { seed: 5 });
    expect(Array.from(a.validation)).toEqual(Array.from(b.validation));
    expect(Array.from(a.validation)).not.toEqual(Array.from(c.validation));
    expect(makeSplit('coco', ml, { validationFraction: 0.1 }).validation.length).toBe(100);
  });

  it('accepts explicit lists by source path and refuses a query that overlaps train', () => {
    const lists = {
      train: ['img/5.jpg', 'img/1.jpg', 'img/3.jpg', 'img/7.jpg', 'img/9.jpg'],
      query: ['img/2.jpg'],
      database: ['img/1.jpg', 'img/5.jpg', 'img/8.jpg'],
    };
    const s = makeSplit('nuswide_21', ml, { lists, validationFraction: 0.2, seed: 1 });
    expect([...s.train, ...s.validation].sort((x, y) => x - y)).toEqual([1, 3, 5, 7, 9]);
    expect(s.validation.length).toBe(1);
    expect(Array.from(s.query)).toEqual([2]);
    expect(Array.from(s.database)).toEqual([1, 5, 8]);
    expect(() => makeSplit('coco', ml, { lists: { ...lists, query: ['img/3.jpg'] } })).toThrow(
      /also in the train list/,
    );
    expect(() => makeSplit('coco', ml, { lists: { ...lists, query: ['img/x.jpg'] } })).toThrow(/img\/x\.jpg is not/);
    expect(() => makeSplit('coco', { ...ml, lists: undefined })).toThrow(/needs train, query and database lists/);
  });

  it('single-label list data: validation stratified per class (5% default, or validationPerClass)', () => {
    const k = 10;
    const n = 3000;
    const labels = new Uint8Array(n * k);
    for (let i = 0; i < n; i++) labels[i * k + (i % k)] = 1;
    const ds = { ...ml, labels, classNames: ml.classNames.slice(0, k) };
    const s = makeSplit('imagenet100', ds, { seed: 2 });
    const counts = new Array(k).fill(0);
    for (const i of s.validation) counts[i % k]++;
    expect(counts).toEqual(new Array(k).fill(5)); // 100 train per class, 5%
    const t = makeSplit('imagenet100', ds, { seed: 2, validationPerClass: 10 });
    expect(t.validation.length).toBe(100);
    expect(t.train.length).toBe(900);
  });
});
