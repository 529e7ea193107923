// One bench:encode measurement in its own process (so its peak RSS is its own): `edgehash encode`'s
// job runner over generated pixels or an image folder, with onnxruntime-node on every core.
// argv: --input pixels|jpeg --n N --model FILE --out DIR [--source DIR] [--batch B (default: the
// encoder's)]. Prints one JSON object.
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { imageFolder } from '../../encoder/collection/imageFiles.js';
import type { Collection, CollectionItem } from '../../encoder/collection/types.js';
import { runEncodeJob } from '../../encoder/encode/encodeJob.js';
import { mulberry32 } from '../../encoder/random.js';

const { values } = parseArgs({
  options: {
    input: { type: 'string' },
    n: { type: 'string' },
    model: { type: 'string' },
    out: { type: 'string' },
    source: { type: 'string' },
    batch: { type: 'string' },
  },
});
const POOL = 256;
const SIDE = 32;

/** `n` distinct 32x32x3 images: a pool of random images, each copy stamped with its index. */
function generated(n: number): Collection {
  const random = mulberry32(1);
  const pool = Uint8Array.from({ length: POOL * SIDE * SIDE * 3 }, () => Math.floor(random() * 256));
  const bytes = SIDE * SIDE * 3;
  return {
    description: `${n} generated images`,
    size: n,
    async *items(start): AsyncIterable<CollectionItem> {
      for (let i = start; i < n; i++) {
        const pixels = pool.slice((i % POOL) * bytes, ((i % POOL) + 1) * bytes);
        new DataView(pixels.buffer).setUint32(0, i);
        yield { source: `generated#${i}`, load: async () => ({ pixels, width: SIDE, height: SIDE, channels: 3 }) };
      }
    },
  };
}

const n = Number(values.n);
const collection = values.input === 'jpeg' ? await imageFolder(values.source!) : generated(n);
const onnx = values.model!;
const started = performance.now();
const job = await runEncodeJob({
  dir: values.out!,
  source: { kind: 'folder', path: values.source ?? 'generated' },
  collection,
  model: { onnx, card: onnx.replace(/\.onnx$/, '.card.json') },
  threads: availableParallelism(),
  ...(values.batch === undefined ? {} : { batchSize: Number(values.batch) }),
});
const seconds = (performance.now() - started) / 1000;
const count = job.shards.reduce((sum, s) => sum + s.count, 0);
console.log(
  JSON.stringify({ img_per_s: count / seconds, peak_mb: process.resourceUsage().maxRSS / 1024, n: count, seconds }),
);
