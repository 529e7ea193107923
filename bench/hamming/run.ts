// npm run bench:hamming: exact top-k over 1M random codes in Node and in workerd, with FAISS
// IndexBinaryFlat (one thread) on the same codes and queries in the same run.
// Prints one JSON line per (runtime, bits). ms_per_query is the median over queries in Node and, as
// workerd can only time batches, the median over batches of 50 of the mean per query in workerd;
// ms_per_query_batched is that batch statistic in both runtimes, for comparing them.
// Options: --n --queries --k --bits 64,128
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { randomBytes } from '../../test/support/random.js';
import { hamming } from '../../test/support/referenceRanker.js';
import { CodeTable, type SearchResult } from '../../wasm/index.js';
import { loadKernelModule } from '../../wasm/nodeModule.js';
import { hashResults } from '../support/resultHash.js';
import { median } from '../support/stats.js';
import { emptyRequestMs, repoRoot, startWorker } from '../support/workerd.js';

const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: '1000000' },
    queries: { type: 'string', default: '1000' },
    k: { type: 'string', default: '100' },
    bits: { type: 'string', default: '64,128' },
  },
});
const n = Number(args.n);
const nq = Number(args.queries);
const k = Number(args.k);
const python = process.env.EDGEHASH_PYTHON ?? '/usr/bin/python3';
const SEED = 42;
const QSEED = 4242;
const WORKERD_BATCH = 50;
const run = promisify(execFile);

interface FaissRun {
  msPerQuery: number | null;
  matches: boolean | null;
  message?: string;
}

/** Same distances everywhere; ids equal except in the order of ties at the k-th distance. */
function matchesFaiss(
  ours: SearchResult[],
  D: Int32Array,
  I: BigInt64Array,
  codes: Uint8Array,
  queries: Uint8Array,
  bpc: number,
): boolean {
  return ours.every((result, q) => {
    const last = result.distances[k - 1];
    const query = queries.subarray(q * bpc, (q + 1) * bpc);
    for (let i = 0; i < k; i++) {
      if (D[q * k + i] !== result.distances[i]) return false;
      const id = Number(I[q * k + i]);
      if (hamming(codes.subarray(id * bpc, (id + 1) * bpc), query) !== D[q * k + i]) return false;
      if (result.distances[i] < last && !result.ids.includes(id)) return false;
    }
    return true;
  });
}

async function runFaiss(codes: Uint8Array, queries: Uint8Array, bits: number, ours: SearchResult[]): Promise<FaissRun> {
  const dir = await mkdtemp(path.join(tmpdir(), 'edgehash-faiss-'));
  try {
    await writeFile(path.join(dir, 'codes.bin'), codes);
    await writeFile(path.join(dir, 'queries.bin'), queries);
    const out = path.join(dir, 'out');
    const script = path.join(repoRoot, 'bench/hamming/faiss_knn.py');
    const { stdout } = await run(python, [script, `${dir}/codes.bin`, `${dir}/queries.bin`, `${bits}`, `${k}`, out], {
      maxBuffer: 1 << 20,
    });
    const { ms_per_query } = JSON.parse(stdout);
    const D = new Int32Array((await readFile(`${out}.D`)).buffer.slice(0));
    const I = new BigInt64Array((await readFile(`${out}.I`)).buffer.slice(0));
    return { msPerQuery: ms_per_query, matches: matchesFaiss(ours, D, I, codes, queries, bits / 8) };
  } catch (error) {
    const message = `FAISS not run (${python} with faiss; Debian package python3-faiss): ${(error as Error).message.split('\n')[0]}`;
    return { msPerQuery: null, matches: null, message };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function timeWorkerd(bits: number): Promise<{ msPerQuery: number; hash: number; memoryBytes: number }> {
  const mf = await startWorker('bench/hamming/worker.ts', 'hamming-worker');
  try {
    const get = async (route: string) => {
      const response = await mf.dispatchFetch(`http://bench${route}`);
      if (!response.ok) throw new Error(`${route}: ${response.status} ${await response.text()}`);
      return response.json() as Promise<Record<string, number>>;
    };
    const { memoryBytes } = await get(`/setup?bits=${bits}&n=${n}&seed=${SEED}&nq=${nq}&qseed=${QSEED}`);
    await get(`/run?start=0&count=20&k=${k}`);
    const overhead = await emptyRequestMs(get, k);
    const batch = WORKERD_BATCH;
    const perQuery: number[] = [];
    let hash = 0x811c9dc5;
    for (let start = 0; start < nq; start += batch) {
      const count = Math.min(batch, nq - start);
      const t0 = performance.now();
      const result = await get(`/run?start=${start}&count=${count}&k=${k}`);
      perQuery.push((performance.now() - t0 - overhead) / count);
      hash = Math.imul(hash ^ result.hash, 0x01000193) >>> 0;
    }
    return { msPerQuery: median(perQuery), hash, memoryBytes };
  } finally {
    await mf.dispose();
  }
}

const module = await loadKernelModule();
for (const bits of args.bits.split(',').map(Number)) {
  const bpc = bits / 8;
  const codes = randomBytes(n * bpc, SEED);
  const queries = randomBytes(nq * bpc, QSEED);
  const file = await (await CodeTable.fromCodes(module, codes, bits)).serialize();
  const table = await CodeTable.load(module, file, `bench-${bits}`);

  for (let q = 0; q < 50; q++) table.search(queries.subarray(0, bpc), k);
  const times: number[] = [];
  const ours: SearchResult[] = [];
  for (let q = 0; q < nq; q++) {
    const t0 = performance.now();
    ours.push(table.search(queries.subarray(q * bpc, (q + 1) * bpc), k));
    times.push(performance.now() - t0);
  }
  const nodeMs = median(times);
  // workerd can only be timed in batches (its clock stands still while a request computes), so
  // Node is also reported the way workerd is: the median over batches of 50 of the mean per query.
  const batchMeans: number[] = [];
  for (let start = 0; start + WORKERD_BATCH <= nq; start += WORKERD_BATCH) {
    batchMeans.push(times.slice(start, start + WORKERD_BATCH).reduce((a, b) => a + b, 0) / WORKERD_BATCH);
  }
  let nodeHash = 0x811c9dc5;
  for (let start = 0; start < nq; start += 50) {
    nodeHash = Math.imul(nodeHash ^ hashResults(ours.slice(start, start + 50)), 0x01000193) >>> 0;
  }
  const faiss = await runFaiss(codes, queries, bits, ours);
  const line = (runtime: string, ms: number, extra: Record<string, unknown>) =>
    JSON.stringify({
      bench: 'hamming',
      runtime,
      bits,
      n,
      k,
      queries: nq,
      ms_per_query: +ms.toFixed(4),
      gbps: +((n * bpc) / ms / 1e6).toFixed(2),
      faiss_ms_per_query: faiss.msPerQuery === null ? null : +faiss.msPerQuery.toFixed(4),
      ratio_vs_faiss: faiss.msPerQuery === null ? null : +(faiss.msPerQuery / ms).toFixed(2),
      results_match_faiss: faiss.matches,
      ...(faiss.message ? { faiss_message: faiss.message } : {}),
      ...extra,
    });
  console.log(
    line('node', nodeMs, {
      ms_per_query_batched: batchMeans.length > 0 ? +median(batchMeans).toFixed(4) : null,
      table_bytes: file.length,
      memory_bytes: table.memoryBytes,
    }),
  );
  const workerd = await timeWorkerd(bits);
  console.log(
    line('workerd', workerd.msPerQuery, {
      ms_per_query_batched: +workerd.msPerQuery.toFixed(4),
      memory_bytes: workerd.memoryBytes,
      results_match_node: workerd.hash === nodeHash,
    }),
  );
}
