// npx tsx bench/encode/sessions.ts: onnxruntime-node alone (no decoding, no shard writing) on
// bench:encode's model, batches of 256 random normalized images, each configuration for a few
// seconds, one JSON line each. It measures the two settings `edgehash encode` chose:
//   1. a weight-only int8 model with the weights' DequantizeLinear kept in the graph (onnxruntime's
//      default) against folded once at load (session.disable_quant_qdq, what OnnxHasher sets), with
//      the float model beside them;
//   2. one hashing thread with every core as intra-op threads against one hashing thread per core
//      with one intra-op thread each (HasherPool), both on worker threads.
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import { HasherPool } from '../../encoder/hash/hasherPool.js';
import { imageValues } from '../../schemas/preprocess.js';
import { benchModel } from './benchModel.js';

const BATCH = 256;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const cores = availableParallelism();
const { float, int8, card } = await benchModel();
const perImage = imageValues(card.input);
const random = () => Float32Array.from({ length: BATCH * perImage }, () => Math.random() * 2 - 1);

/** Images per second of `step` (which hashes `images` per call) over SECONDS, after one warm-up call. */
async function throughput(images: number, step: () => Promise<unknown>): Promise<number> {
  await step();
  const started = performance.now();
  let done = 0;
  while (performance.now() - started < SECONDS * 1000) {
    await step();
    done += images;
  }
  return Math.round(done / ((performance.now() - started) / 1000));
}

async function session(model: Uint8Array, config: Record<string, string>): Promise<number> {
  const s = await ort.InferenceSession.create(model, {
    intraOpNumThreads: cores,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    extra: { session: config },
  });
  const feeds = { [card.input.name]: new ort.Tensor('float32', random(), [BATCH, 32, 32, 3]) };
  const rate = await throughput(BATCH, () => s.run(feeds));
  await s.release();
  return rate;
}

const line = (figure: string, extra: Record<string, unknown>) =>
  console.log(JSON.stringify({ bench: 'encode-session', figure, batch: BATCH, cores, ...extra }));

line('int8 weights, DequantizeLinear per batch', { img_per_s: await session(int8, {}) });
line('int8 weights, folded at load', { img_per_s: await session(int8, { disable_quant_qdq: '1' }) });
line('float model', { img_per_s: await session(float, {}) });

for (const [threads, intraOp] of [
  [1, cores],
  [cores, 1],
]) {
  const pool = await HasherPool.create(int8, card, threads, { intraOpNumThreads: intraOp });
  let inputs: Float32Array[] = Array.from({ length: threads }, random);
  const rate = await throughput(BATCH * threads, async () => {
    inputs = (await Promise.all(inputs.map((input) => pool.hash(input, BATCH)))).map((r) => r.input);
  });
  await pool.release();
  line('hashing threads x intra-op threads', { threads, intra_op: intraOp, img_per_s: rate });
}
