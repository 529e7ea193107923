/**
 * Training throughput of DataParallelTrainer.step() for N workers, against the in-process step.
 *
 *   npx tsx bench/engine/dataParallel.ts [--workers 1,2] [--steps 10] [--warmup 2]
 *                                                 [--batch 128] [--backend wasm] [--no-in-process]
 *
 * Model: the default cnnHash (widths 32-64-128, hidden 256, 64 bits) on 32x32x3 inputs with 10 classes
 * and CSQ; Adam. Random normalized inputs and one-hot labels, prepared before timing. Every
 * configuration runs the same number of timed steps after `warmup` untimed ones. Prints one JSON object
 * per configuration ("workers": 0 is the single-process step of encoder/train/trainer.ts in this thread),
 * then a summary object.
 */
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { type BackendPreference, selectBackend } from '../../encoder/engine/backend.js';
import { type DataParallelBatch, DataParallelTrainer } from '../../encoder/engine/dataParallel.js';
import { createLoss } from '../../encoder/losses/index.js';
import { createModel } from '../../encoder/models/index.js';
import type { HashModelConfig } from '../../encoder/models/types.js';
import { mulberry32 } from '../../encoder/random.js';

interface Options {
  workers: number[];
  steps: number;
  warmup: number;
  batch: number;
  backend: BackendPreference;
  inProcess: boolean;
}

function parseArgs(argv: string[]): Options {
  const opts: Options = { workers: [1, 2], steps: 10, warmup: 2, batch: 128, backend: 'wasm', inProcess: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--workers') opts.workers = argv[++i].split(',').map(Number);
    else if (a === '--steps') opts.steps = Number(argv[++i]);
    else if (a === '--warmup') opts.warmup = Number(argv[++i]);
    else if (a === '--batch') opts.batch = Number(argv[++i]);
    else if (a === '--backend') opts.backend = argv[++i] as BackendPreference;
    else if (a === '--no-in-process') opts.inProcess = false;
    else throw new Error(`unknown argument ${a}`);
  }
  return opts;
}

const SIDE = 32;
const CHANNELS = 3;
const CLASSES = 10;
const BITS = 64;
const LR = 1e-3;

const model: HashModelConfig = {
  architecture: 'cnnHash',
  bits: BITS,
  inputSize: SIDE,
  channels: CHANNELS,
  numClasses: CLASSES,
  seed: 1,
};
const loss = { name: 'csq', context: { bits: BITS, numClasses: CLASSES, seed: 1 } };

function makeBatches(count: number, size: number): DataParallelBatch[] {
  const random = mulberry32(42);
  return Array.from({ length: count }, (_, b) => {
    const x = new Float32Array(size * SIDE * SIDE * CHANNELS);
    for (let i = 0; i < x.length; i++) x[i] = 2 * random() - 1;
    const labels = new Float32Array(size * CLASSES);
    for (let r = 0; r < size; r++) labels[r * CLASSES + Math.floor(random() * CLASSES)] = 1;
    const indices = Int32Array.from({ length: size }, (_, r) => b * size + r);
    return { x, labels, indices, size };
  });
}

interface Result {
  workers: number;
  backend: string;
  batch: number;
  steps: number;
  startupSeconds: number;
  msPerStep: number;
  imagesPerSecond: number;
  lastLoss: number;
}

async function measureInProcess(opts: Options, batches: DataParallelBatch[]): Promise<Result> {
  const started = performance.now();
  const sel = await selectBackend(opts.backend);
  const hash = createModel(model);
  const hashLoss = createLoss(loss.name, loss.context);
  const optimizer = tf.train.adam(LR);
  const step = (batch: DataParallelBatch) =>
    tf.tidy(() => {
      const x = tf.tensor4d(batch.x, [batch.size, SIDE, SIDE, CHANNELS]);
      const y = tf.tensor2d(batch.labels, [batch.size, CLASSES]);
      const cost = optimizer.minimize(
        () => hashLoss.compute(hash.net.apply(x, { training: true }) as tf.Tensor2D, y, batch.indices),
        true,
      );
      return cost!.dataSync()[0];
    });
  const startupSeconds = (performance.now() - started) / 1000;
  for (let s = 0; s < opts.warmup; s++) step(batches[s % batches.length]);
  const t0 = performance.now();
  let lastLoss = Number.NaN;
  for (let s = 0; s < opts.steps; s++) lastLoss = step(batches[s % batches.length]);
  const ms = (performance.now() - t0) / opts.steps;
  hash.net.dispose();
  optimizer.dispose();
  hashLoss.dispose?.();
  return result(0, sel.name, opts, startupSeconds, ms, lastLoss);
}

async function measureWorkers(workers: number, opts: Options, batches: DataParallelBatch[]): Promise<Result> {
  const started = performance.now();
  const trainer = await DataParallelTrainer.create({
    workers,
    backend: opts.backend,
    model,
    loss,
    learningRate: LR,
  });
  const startupSeconds = (performance.now() - started) / 1000;
  try {
    for (let s = 0; s < opts.warmup; s++) await trainer.step(batches[s % batches.length], LR);
    const t0 = performance.now();
    let lastLoss = Number.NaN;
    for (let s = 0; s < opts.steps; s++) lastLoss = await trainer.step(batches[s % batches.length], LR);
    const ms = (performance.now() - t0) / opts.steps;
    return result(workers, opts.backend, opts, startupSeconds, ms, lastLoss);
  } finally {
    await trainer.dispose();
  }
}

function result(
  workers: number,
  backend: string,
  opts: Options,
  startupSeconds: number,
  msPerStep: number,
  lastLoss: number,
): Result {
  return {
    workers,
    backend,
    batch: opts.batch,
    steps: opts.steps,
    startupSeconds: Number(startupSeconds.toFixed(2)),
    msPerStep: Number(msPerStep.toFixed(1)),
    imagesPerSecond: Number(((opts.batch * 1000) / msPerStep).toFixed(1)),
    lastLoss: Number(lastLoss.toFixed(5)),
  };
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const batches = makeBatches(4, opts.batch);
  const results: Result[] = [];
  if (opts.inProcess) {
    const r = await measureInProcess(opts, batches);
    console.log(JSON.stringify(r));
    results.push(r);
  }
  for (const n of opts.workers) {
    const r = await measureWorkers(n, opts, batches);
    console.log(JSON.stringify(r));
    results.push(r);
  }
  const base = results.find((r) => r.workers === 1) ?? results[0];
  console.log(
    JSON.stringify({
      summary: true,
      cores: os.availableParallelism(),
      loadAverage: os.loadavg().map((v) => Number(v.toFixed(2))),
      imagesPerSecond: Object.fromEntries(
        results.map((r) => [r.workers === 0 ? 'inProcess' : `workers${r.workers}`, r.imagesPerSecond]),
      ),
      speedupOverOneWorker: Object.fromEntries(
        results.map((r) => [
          r.workers === 0 ? 'inProcess' : `workers${r.workers}`,
          Number((r.imagesPerSecond / base.imagesPerSecond).toFixed(2)),
        ]),
      ),
    }),
  );
}

await main();
