// npm run bench:edge: the edge worker in one local workerd isolate (Miniflare, served on 127.0.0.1)
// over 1,000,000 random 64-bit codes published through the publish pipeline, with the default-size
// cnnHash (random init, int8) as the index's model. autocannon searches by code and by image (32x32
// JPEGs) at concurrency 1, 8 and 32; at 32 it runs 60 s while the workerd process's RSS is sampled.
// One JSON line per (route, concurrency), then one with the deployable bundle's size (wrangler
// deploy --dry-run). Options: --n --seconds (c=1 and c=8 runs) --long-seconds (c=32 run)
// --soak-rounds (more c=32 code runs of --long-seconds each, reporting RSS per round).
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { parseArgs, promisify } from 'node:util';
import autocannon from 'autocannon';
import jpeg from 'jpeg-js';
import { Log, LogLevel } from 'miniflare';
import { publishVersion } from '../../encoder/publish/publish.js';
import { shardFromCodes } from '../../encoder/publish/shardFiles.js';
import { BITS, BPC, stores, testModel } from '../../test/edge/support/fixture.js';
import { startEdgeWorker } from '../../test/edge/support/worker.js';
import { randomBytes, rng } from '../../test/support/random.js';

const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: '1000000' },
    seconds: { type: 'string', default: '15' },
    'long-seconds': { type: 'string', default: '60' },
    // Extra rounds of code search at concurrency 32 after the main runs, to show where RSS settles.
    'soak-rounds': { type: 'string', default: '0' },
  },
});
const n = Number(args.n);
const QUERIES = 1000;
const IMAGES = 64;
const run = promisify(execFile);

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const round = (x: number, digits = 2) => Number(x.toFixed(digits));

/** A small photo-like 32x32 JPEG: smooth colour fields plus noise. */
function queryJpeg(seed: number): Buffer {
  const next = rng(seed);
  const data = Buffer.alloc(32 * 32 * 4);
  const [a, b] = [next() * 6, next() * 6];
  for (let p = 0; p < 32 * 32; p++) {
    const x = p % 32;
    const y = (p / 32) | 0;
    data[p * 4] = 128 + 100 * Math.sin(a + x / 4);
    data[p * 4 + 1] = 128 + 100 * Math.cos(b + y / 5);
    data[p * 4 + 2] = next() * 255;
    data[p * 4 + 3] = 255;
  }
  return jpeg.encode({ width: 32, height: 32, data }, 90).data;
}

/** The workerd process Miniflare started (a child of this process). */
async function workerdPid(): Promise<number> {
  const { stdout } = await run('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)]);
  const line = stdout.split('\n').find((l) => l.includes('workerd'));
  if (!line) throw new Error('no workerd child process found');
  return Number(line.trim().split(/\s+/)[0]);
}

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

interface Load {
  route: 'code' | 'image';
  connections: number;
  seconds: number;
}

async function load(url: string, { route, connections, seconds }: Load, pid: number) {
  const codes = randomBytes(QUERIES * BPC, 4242);
  const images = Array.from({ length: IMAGES }, (_, i) => queryJpeg(i));
  let next = 0;
  const setupRequest = (request: Record<string, unknown>) => {
    const i = next++;
    if (route === 'code') {
      const q = i % QUERIES;
      return {
        ...request,
        method: 'GET',
        path: `/v1/search?code=${Buffer.from(codes.subarray(q * BPC, (q + 1) * BPC)).toString('hex')}`,
      };
    }
    return {
      ...request,
      method: 'POST',
      path: '/v1/search',
      headers: { 'content-type': 'image/jpeg' },
      body: images[i % IMAGES],
    };
  };
  const latencies: number[] = [];
  // What went wrong, when something did: HTTP statuses other than 200 and request errors by message.
  const failures = new Map<string, number>();
  const fail = (kind: string) => failures.set(kind, (failures.get(kind) ?? 0) + 1);
  const rss: number[] = [await rssMb(pid)];
  const sampler = setInterval(() => rssMb(pid).then((mb) => rss.push(mb)), 1000);
  const instance = autocannon({
    url,
    connections,
    duration: seconds,
    requests: [
      {
        setupRequest,
        onResponse: (status: number, body: string) => {
          if (status !== 200) fail(`http ${status}: ${String(body).slice(0, 160)}`);
        },
      },
    ],
  });
  instance.on('response', (_client, _status, _bytes, ms) => latencies.push(ms));
  instance.on('reqError', (error) => fail(error.message));
  const result = await instance;
  clearInterval(sampler);
  rss.push(await rssMb(pid));
  const sorted = Float64Array.from(latencies).sort();
  return {
    bench: 'edge',
    route,
    concurrency: connections,
    n,
    p50_ms: round(percentile(sorted, 50)),
    p95_ms: round(percentile(sorted, 95)),
    p99_ms: round(percentile(sorted, 99)),
    max_ms: round(sorted.length > 0 ? sorted[sorted.length - 1] : 0),
    rps: round(result.requests.total / seconds, 1),
    errors: result.errors + result.timeouts + result.non2xx,
    requests: result.requests.total,
    seconds,
    rss_mb_start: round(rss[0], 1),
    rss_mb_max: round(Math.max(...rss), 1),
    rss_mb_end: round(rss[rss.length - 1], 1),
    ...(failures.size > 0 ? { failures: Object.fromEntries(failures) } : {}),
  };
}

async function bundleSize() {
  try {
    const { stdout } = await run('npx', ['wrangler', 'deploy', '--dry-run', '--outdir', 'bench/out/edge-bundle'], {
      maxBuffer: 1 << 24,
    });
    const match = /Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/.exec(stdout);
    return {
      bench: 'edge',
      bundle_kib: Number(match?.[1]),
      bundle_gzip_kib: Number(match?.[2]),
      limit_gzip_kib: 10240,
    };
  } catch (error) {
    return { bench: 'edge', bundle_gzip_kib: null, message: (error as Error).message.split('\n')[0] };
  }
}

// Warnings and errors from workerd and the worker's console go to stderr.
const mf = await startEdgeWorker({ vars: { RATE_LIMIT_PER_MINUTE: '0' }, port: 0, log: new Log(LogLevel.WARN) });
try {
  const model = await testModel(7, {});
  const shard = await shardFromCodes(randomBytes(n * BPC, 42), BITS, { base: 0 });
  await publishVersion(await stores(mf), { shards: [shard], model });
  const url = (await mf.ready).toString().replace(/\/$/, '');
  const pid = await workerdPid();
  // Warm-up: the version's tables (seconds for 1M codes) and the model load on first use.
  const warm = [
    await fetch(`${url}/v1/search?code=${'00'.repeat(BPC)}`),
    await fetch(`${url}/v1/search`, {
      method: 'POST',
      body: new Uint8Array(queryJpeg(0)),
      headers: { 'content-type': 'image/jpeg' },
    }),
  ];
  for (const response of warm) if (response.status !== 200) throw new Error(`warm-up: ${await response.text()}`);
  for (const route of ['code', 'image'] as const) await load(url, { route, connections: 1, seconds: 2 }, pid);
  const seconds = Number(args.seconds);
  const long = Number(args['long-seconds']);
  for (const route of ['code', 'image'] as const) {
    for (const [connections, duration] of [
      [1, seconds],
      [8, seconds],
      [32, long],
    ]) {
      console.log(JSON.stringify(await load(url, { route, connections, seconds: duration }, pid)));
    }
  }
  for (let round = 1; round <= Number(args['soak-rounds']); round++) {
    const result = await load(url, { route: 'code', connections: 32, seconds: long }, pid);
    console.log(JSON.stringify({ ...result, soak_round: round }));
  }
} finally {
  await mf.dispose();
}
console.log(JSON.stringify(await bundleSize()));
