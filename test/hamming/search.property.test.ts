// The compiled kernel against the plain TypeScript reference on random tables.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { UNROLLED_BITS } from '../../wasm/codegen/unrolledGroups.js';
import { CodeTable, ResultMerger, type SearchResult } from '../../wasm/index.js';
import { loadKernelModule } from '../../wasm/nodeModule.js';
import { randomBytes, rng } from '../support/random.js';
import { referenceSearch } from '../support/referenceRanker.js';

let module: WebAssembly.Module;
beforeAll(async () => {
  module = await loadKernelModule();
});

const sameResult = (actual: SearchResult, expected: SearchResult) => {
  expect(Array.from(actual.distances)).toEqual(Array.from(expected.distances));
  expect(Array.from(actual.ids)).toEqual(Array.from(expected.ids));
};

interface Case {
  bits: number;
  n: number;
  seed: number;
  /** How codes repeat: all distinct-ish random, few distinct values (many ties), or all equal. */
  shape: 'random' | 'duplicates' | 'equal';
  idTable: boolean;
}

function makeCodes({ bits, n, seed, shape }: Case): Uint8Array {
  const bpc = bits / 8;
  if (shape === 'random') return randomBytes(n * bpc, seed);
  const distinct = shape === 'equal' ? 1 : 7;
  const pool = randomBytes(distinct * bpc, seed);
  const pick = rng(seed + 1);
  const codes = new Uint8Array(n * bpc);
  for (let i = 0; i < n; i++) codes.set(pool.subarray(((pick() * distinct) | 0) * bpc).subarray(0, bpc), i * bpc);
  return codes;
}

function makeIds(n: number, idTable: boolean, seed: number): Uint32Array | { base: number } {
  if (!idTable) return { base: seed % 1000 };
  const next = rng(seed + 2);
  const ids = new Uint32Array(n);
  let at = 0;
  for (let i = 0; i < n; i++) ids[i] = at += 1 + ((next() * 5) | 0);
  return ids;
}

const idList = (ids: Uint32Array | { base: number }, n: number) =>
  ids instanceof Uint32Array ? ids : Array.from({ length: n }, (_, i) => ids.base + i);

const anyBits = fc.integer({ min: 1, max: 32 }).map((b) => b * 8);

const caseArb = (maxN: number, bits = anyBits) =>
  fc.record({
    bits,
    n: fc.integer({ min: 0, max: maxN }),
    seed: fc.integer({ min: 0, max: 2 ** 31 }),
    shape: fc.constantFrom<Case['shape']>('random', 'duplicates', 'equal'),
    idTable: fc.boolean(),
  });

describe('top-k and radius search match the reference', () => {
  // The query is a copy of the first code, its complement (distance = bits) or random.
  const smallTables = (bits: fc.Arbitrary<number>, numRuns: number) =>
    fc.assert(
      fc.asyncProperty(caseArb(300, bits), fc.nat(), fc.nat(), async (c, kPick, rPick) => {
        const codes = makeCodes(c);
        const ids = makeIds(c.n, c.idTable, c.seed);
        const table = await CodeTable.fromCodes(module, codes, c.bits, ids);
        const bpc = c.bits / 8;
        const first = codes.slice(0, bpc);
        const query =
          c.n === 0 || kPick % 3 === 0 ? randomBytes(bpc, c.seed + 9) : kPick % 3 === 1 ? first : first.map((b) => ~b);
        const k = kPick % (c.n + 6);
        const radius = [0, c.bits, rPick % (c.bits + 1)][rPick % 3];
        const all = idList(ids, c.n);
        sameResult(table.search(query, k), referenceSearch(codes, bpc, all, query, k));
        sameResult(table.search(query, k, { radius }), referenceSearch(codes, bpc, all, query, k, radius));
        sameResult(table.within(query, radius), referenceSearch(codes, bpc, all, query, c.n, radius));
      }),
      { numRuns },
    );

  it('on random small tables, for every k from 0 to N+5 and radius 0..bits', () => smallTables(anyBits, 150));

  it(`at the code lengths with an unrolled scan (${UNROLLED_BITS.join(', ')} bits)`, () =>
    smallTables(fc.constantFrom(...UNROLLED_BITS), 80));

  it('on large tables (N up to 100,000) with batched queries', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb(100_000), fc.integer({ min: 1, max: 40 }), async (c, nq) => {
        const codes = makeCodes(c);
        const ids = makeIds(c.n, c.idTable, c.seed);
        const table = await CodeTable.fromCodes(module, codes, c.bits, ids);
        const bpc = c.bits / 8;
        const queries = randomBytes(nq * bpc, c.seed + 3);
        if (c.n > 0) queries.set(codes.subarray(0, bpc));
        const k = [0, 1, 100, c.n, c.n + 5][c.seed % 5];
        const results = table.searchBatch(queries, k);
        expect(results).toHaveLength(nq);
        const all = idList(ids, c.n);
        for (const q of [0, nq - 1]) {
          sameResult(results[q], referenceSearch(codes, bpc, all, queries.subarray(q * bpc, (q + 1) * bpc), k));
        }
      }),
      { numRuns: 12 },
    );
  });

  it('for codes of 264 to 1024 bits (16-bit distance lanes)', async () => {
    for (const bits of [264, 512, 1024]) {
      const n = 777;
      const codes = randomBytes(n * (bits / 8), bits);
      const table = await CodeTable.fromCodes(module, codes, bits);
      const query = randomBytes(bits / 8, bits + 1);
      const all = idList({ base: 0 }, n);
      sameResult(table.search(query, 50), referenceSearch(codes, bits / 8, all, query, 50));
      sameResult(table.within(query, bits / 2), referenceSearch(codes, bits / 8, all, query, n, bits / 2));
    }
  });

  it('adversarial order: every code closer than the last keeps the candidate buffer compacting', async () => {
    const bits = 64;
    const n = 5000;
    const query = new Uint8Array(8);
    const codes = new Uint8Array(n * 8);
    for (let i = 0; i < n; i++) {
      const distance = 64 - Math.floor((i * 64) / n);
      for (let b = 0; b < distance; b++) codes[i * 8 + (b >> 3)] |= 0x80 >> (b & 7);
    }
    const table = await CodeTable.fromCodes(module, codes, bits);
    sameResult(table.search(query, 10), referenceSearch(codes, 8, idList({ base: 0 }, n), query, 10));
  });
});

describe('multi-shard merge', () => {
  it('merging per-shard top-k equals top-k over the whole table', async () => {
    const bits = 32;
    const n = 20_000;
    const codes = makeCodes({ bits, n, seed: 5, shape: 'duplicates', idTable: false });
    const whole = await CodeTable.fromCodes(module, codes, bits);
    const bounds = [0, 3000, 3001, 12_000, n];
    const shards = await Promise.all(
      bounds
        .slice(1)
        .map((end, i) =>
          CodeTable.fromCodes(module, codes.subarray(bounds[i] * 4, end * 4), bits, { base: bounds[i] }),
        ),
    );
    const merger = await ResultMerger.create(module);
    const query = randomBytes(4, 77);
    for (const k of [0, 1, 10, 500, n + 1]) {
      const merged = merger.merge(
        shards.map((s) => s.search(query, k)),
        k,
      );
      sameResult(merged, whole.search(query, k));
    }
  });
});
