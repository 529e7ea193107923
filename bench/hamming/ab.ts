// Interleaved A/B of Hamming kernel builds, the way the kernel's speed figures in the README were
// compared (runs an hour apart differ more on a shared machine than kernels do):
//
//   npx tsx bench/hamming/ab.ts --runtime node|workerd [--bits 64,128] [--rounds 10] [--batch 32] A.wasm B.wasm ...
//
// Each round measures every build once, in turn, on the same 1M random codes and queries (top-100),
// and prints per build the median over rounds of each round's median ms per query. Node times single
// queries, or searchBatch with --batch; workerd times batches of 50 queries from outside, less an
// empty request, as bench/hamming/run.ts does. For workerd each build is copied over
// wasm/build/hamming.wasm (which the worker imports) for its turn, and the original is put back.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { randomBytes } from '../../test/support/random.js';
import { CodeTable } from '../../wasm/index.js';
import { median } from '../support/stats.js';
import { emptyRequestMs, repoRoot, startWorker } from '../support/workerd.js';

const { values: args, positionals: builds } = parseArgs({
  allowPositionals: true,
  options: {
    runtime: { type: 'string', default: 'node' },
    bits: { type: 'string', default: '64,128' },
    rounds: { type: 'string', default: '10' },
    batch: { type: 'string', default: '0' },
  },
});
if (builds.length < 2) throw new Error('give two or more kernel builds (.wasm files) to compare');
const n = 1_000_000;
const k = 100;
const queries = 300;
const rounds = Number(args.rounds);
const batch = Number(args.batch);
const kernelPath = path.join(repoRoot, 'wasm/build/hamming.wasm');

async function nodeRound(table: CodeTable, qs: Uint8Array, bpc: number): Promise<number> {
  const times: number[] = [];
  for (let q = 0; q < 10; q++) table.search(qs.subarray(0, bpc), k);
  if (batch > 0) {
    for (let s = 0; s + batch <= queries; s += batch) {
      const t0 = performance.now();
      table.searchBatch(qs.subarray(s * bpc, (s + batch) * bpc), k);
      times.push((performance.now() - t0) / batch);
    }
  } else {
    for (let q = 0; q < queries; q++) {
      const t0 = performance.now();
      table.search(qs.subarray(q * bpc, (q + 1) * bpc), k);
      times.push(performance.now() - t0);
    }
  }
  return median(times);
}

async function workerdRound(build: Uint8Array, bits: number): Promise<number> {
  await writeFile(kernelPath, build);
  const mf = await startWorker('bench/hamming/worker.ts', 'hamming-ab');
  try {
    const get = async (route: string) => (await mf.dispatchFetch(`http://ab${route}`)).json();
    await get(`/setup?bits=${bits}&n=${n}&seed=1&nq=${queries}&qseed=2`);
    await get(`/run?start=0&count=30&k=${k}`);
    const overhead = await emptyRequestMs(get, k);
    const perQuery: number[] = [];
    for (let s = 0; s < queries; s += 50) {
      const t0 = performance.now();
      await get(`/run?start=${s}&count=50&k=${k}`);
      perQuery.push((performance.now() - t0 - overhead) / 50);
    }
    return median(perQuery);
  } finally {
    await mf.dispose();
  }
}

// Read every build first: one of them may be wasm/build/hamming.wasm itself.
const saved = await readFile(kernelPath);
const bytes = await Promise.all(builds.map((b) => readFile(b)));
try {
  for (const bits of args.bits.split(',').map(Number)) {
    const bpc = bits / 8;
    const codes = randomBytes(n * bpc, 1);
    const qs = randomBytes(queries * bpc, 2);
    const tables =
      args.runtime === 'node'
        ? await Promise.all(bytes.map(async (b) => CodeTable.fromCodes(await WebAssembly.compile(b), codes, bits)))
        : [];
    const results = builds.map(() => [] as number[]);
    for (let round = 0; round < rounds; round++) {
      for (const i of builds.keys()) {
        results[i].push(
          args.runtime === 'node' ? await nodeRound(tables[i], qs, bpc) : await workerdRound(bytes[i], bits),
        );
      }
    }
    for (const [i, build] of builds.entries()) {
      const msPerQuery = +median(results[i]).toFixed(4);
      console.log(
        JSON.stringify({ bench: 'hamming-ab', runtime: args.runtime, bits, batch, build, ms_per_query: msPerQuery }),
      );
    }
  }
} finally {
  await writeFile(kernelPath, saved);
}
