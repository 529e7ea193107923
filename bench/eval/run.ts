// npm run bench:eval: mAP@ALL of 10,000 queries against 50,000 codes at 64 bits (cifar10-2 sizes),
// codes clustered by class so the rankings look like a trained model's. Prints one JSON line.
import { evaluateRetrieval } from '../../encoder/eval/retrieval.js';
import { rng } from '../../test/support/random.js';
import { loadKernelModule } from '../../wasm/nodeModule.js';

const bits = 64;
const classes = 10;
const next = rng(7);
const centres = Array.from({ length: classes }, () => Array.from({ length: bits }, () => next() < 0.5));

function set(count: number) {
  const codes = new Uint8Array((count * bits) / 8);
  const labels = new Uint8Array(count * classes);
  for (let i = 0; i < count; i++) {
    const c = i % classes;
    labels[i * classes + c] = 1;
    for (let b = 0; b < bits; b++) {
      const bit = centres[c][b] !== next() < 0.15;
      if (bit) codes[i * 8 + (b >> 3)] |= 0x80 >> (b & 7);
    }
  }
  return { codes, labels };
}

const kernel = await loadKernelModule();
const query = set(10_000);
const database = set(50_000);
const t0 = performance.now();
const metrics = await evaluateRetrieval(query, database, { bits, numClasses: classes, topK: -1, kernel });
const seconds = (performance.now() - t0) / 1000;
console.log(
  JSON.stringify({
    bench: 'eval',
    bits,
    queries: metrics.queries,
    database: metrics.database,
    top_k: 'all',
    seconds: +seconds.toFixed(2),
    map: +metrics.map.toFixed(4),
    map_tie_averaged: +metrics.mapTieAveraged.toFixed(4),
  }),
);
