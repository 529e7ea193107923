/**
 * Training throughput of a small CNN on the available tfjs backends.
 *
 *   npx tsx bench/engine/throughput.ts [--backends wasm,cpu] [--batch 128] [--steps 5]
 *                                               [--cpu-steps 1] [--no-bn] [--profile]
 *                                               [--stock MaxPoolGrad,...] [--stock-layers]
 *                                               [--model hybridHash --options '{"widths":[48,96]}']
 *                                               [--shapes 3]
 *
 * Model: 3 blocks of conv3x3 (32, 64, 128) [+ BatchNorm] + ReLU + maxpool 2, then dense 10 with
 * softmax cross-entropy; or, with --model, a registered architecture (encoder/models, 64 bits,
 * --options as in a config file) with CSQ. Adam; random 32x32x3 inputs. One "step" = forward + backward + Adam update.
 * Prints one JSON object per backend, then a summary line. --profile prints per-kernel times with
 * the --shapes costliest input shapes of each;
 * --stock puts back the stock wasm kernels of the given names (A/B against our replacements);
 * --stock-layers uses tf.layers.conv2d and batchNormalization instead of ours (encoder/models/conv2d.ts,
 * batchNorm.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { type BackendPreference, backendInfo, selectBackend } from '../../encoder/engine/backend.js';
import { stockWasmKernel } from '../../encoder/engine/wasmKernels.js';
import { createLoss } from '../../encoder/losses/index.js';
import { batchNormalization } from '../../encoder/models/batchNorm.js';
import { conv2d } from '../../encoder/models/conv2d.js';
import { createModel } from '../../encoder/models/index.js';

interface Options {
  backends: BackendPreference[];
  batch: number;
  steps: number;
  cpuSteps: number;
  bn: boolean;
  profile: boolean;
  stock: string[];
  stockLayers: boolean;
  model?: string;
  modelOptions: Record<string, unknown>;
  shapes: number;
}

function parseArgs(argv: string[]): Options {
  const opts: Options = {
    backends: ['wasm', 'cpu'],
    batch: 128,
    steps: 5,
    cpuSteps: 1,
    bn: true,
    profile: false,
    stock: [],
    stockLayers: false,
    modelOptions: {},
    shapes: 3,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--backends') opts.backends = argv[++i].split(',') as BackendPreference[];
    else if (a === '--batch') opts.batch = Number(argv[++i]);
    else if (a === '--steps') opts.steps = Number(argv[++i]);
    else if (a === '--cpu-steps') opts.cpuSteps = Number(argv[++i]);
    else if (a === '--no-bn') opts.bn = false;
    else if (a === '--profile') opts.profile = true;
    else if (a === '--stock') opts.stock = argv[++i].split(',');
    else if (a === '--stock-layers') opts.stockLayers = true;
    else if (a === '--model') opts.model = argv[++i];
    else if (a === '--options') opts.modelOptions = JSON.parse(argv[++i]);
    else if (a === '--shapes') opts.shapes = Number(argv[++i]);
    else throw new Error(`unknown argument ${a}`);
  }
  return opts;
}

/** Per-kernel timing: wraps every kernel of `backend` (self time excludes nested kernel calls). */
function installKernelProfiler(backend: string, shapesShown: number) {
  const stats = new Map<
    string,
    { calls: number; selfMs: number; totalMs: number; shapes: Map<string, [number, number]> }
  >();
  const stack: number[] = [];
  let enabled = false;
  for (const config of tf.getKernelsForBackend(backend)) {
    const inner = config.kernelFunc;
    const name = config.kernelName;
    tf.unregisterKernel(name, backend);
    tf.registerKernel({
      ...config,
      kernelFunc: (args) => {
        if (!enabled) return inner(args);
        stack.push(0);
        const t = performance.now();
        const out = inner(args);
        const dt = performance.now() - t;
        const nested = stack.pop() ?? 0;
        if (stack.length > 0) stack[stack.length - 1] += dt;
        const st = stats.get(name) ?? { calls: 0, selfMs: 0, totalMs: 0, shapes: new Map() };
        st.calls++;
        st.selfMs += dt - nested;
        st.totalMs += dt;
        const key = Object.values(args.inputs)
          .map((t) => (t === undefined || t === null ? '-' : (t as tf.TensorInfo).shape.join('x')))
          .join(',');
        const sh = st.shapes.get(key) ?? [0, 0];
        st.shapes.set(key, [sh[0] + 1, sh[1] + dt]);
        stats.set(name, st);
        return out;
      },
    });
  }
  return {
    start: () => {
      stats.clear();
      enabled = true;
    },
    report: (steps: number) => {
      enabled = false;
      const rows = [...stats.entries()].sort((a, b) => b[1].selfMs - a[1].selfMs);
      const kernelMs = rows.reduce((acc, [, st]) => acc + st.selfMs, 0) / steps;
      console.log(
        `kernels: ${kernelMs.toFixed(1)} ms/step in ${rows.reduce((a, [, st]) => a + st.calls, 0) / steps} calls`,
      );
      for (const [name, st] of rows) {
        if (st.totalMs / steps < 0.5) continue;
        const shapes = [...st.shapes.entries()]
          .sort((a, b) => b[1][1] - a[1][1])
          .slice(0, shapesShown)
          .map(([k, [calls, ms]]) => `${k}:${calls / steps}x:${(ms / steps).toFixed(1)}`)
          .join(' ');
        console.log(
          `${name.padEnd(28)} calls/step ${(st.calls / steps).toFixed(1).padStart(5)}  self ms/step ${(st.selfMs / steps).toFixed(1).padStart(7)}  total ${(st.totalMs / steps).toFixed(1).padStart(7)}  ${shapes}`,
        );
      }
    },
  };
}

function buildModel(bn: boolean, stockLayers: boolean): tf.Sequential {
  const model = tf.sequential();
  const widths = [32, 64, 128];
  widths.forEach((filters, i) => {
    model.add(
      (stockLayers ? tf.layers.conv2d : conv2d)({
        filters,
        kernelSize: 3,
        padding: 'same',
        useBias: !bn,
        ...(i === 0 ? { inputShape: [32, 32, 3] } : {}),
      }),
    );
    if (bn) model.add(stockLayers ? tf.layers.batchNormalization() : batchNormalization({}));
    model.add(tf.layers.reLU());
    model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  });
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: 10 }));
  return model;
}

async function measure(pref: BackendPreference, opts: Options, steps: number) {
  const sel = await selectBackend(pref);
  if (tf.getBackend() === 'wasm') {
    for (const name of opts.stock) {
      const stock = stockWasmKernel(name);
      if (stock === undefined) throw new Error(`--stock ${name}: no stock wasm kernel was replaced`);
      tf.unregisterKernel(name, 'wasm');
      tf.registerKernel(stock);
    }
  }
  const profiler = opts.profile ? installKernelProfiler(tf.getBackend(), opts.shapes) : undefined;
  const bits = 64;
  const model =
    opts.model === undefined
      ? buildModel(opts.bn, opts.stockLayers)
      : createModel({
          architecture: opts.model,
          bits,
          inputSize: 32,
          channels: 3,
          numClasses: 10,
          seed: 0,
          options: opts.modelOptions,
        }).net;
  const hashLoss = opts.model === undefined ? undefined : createLoss('csq', { bits, numClasses: 10, seed: 0 });
  const optimizer = tf.train.adam(1e-3);
  const x = tf.randomNormal([opts.batch, 32, 32, 3], 0, 1, 'float32', 1);
  const labels = tf.tensor1d(
    Array.from({ length: opts.batch }, (_, i) => (i * 7) % 10),
    'int32',
  );
  const y = tf.oneHot(labels, 10);
  const indices = Int32Array.from({ length: opts.batch }, (_, i) => i);
  const params = model.countParams();
  // Read back asynchronously: a GPU backend (webgpu in Node) has no synchronous readback.
  const step = async (): Promise<number> => {
    const loss = optimizer.minimize(() => {
      const out = model.apply(x, { training: true }) as tf.Tensor2D;
      if (hashLoss !== undefined) return hashLoss.compute(out, y as tf.Tensor2D, indices);
      return tf.losses.softmaxCrossEntropy(y, out) as tf.Scalar;
    }, true) as tf.Scalar;
    const v = (await loss.data())[0];
    loss.dispose();
    return v;
  };
  // Warm-up (kernel setup, XNNPack operator creation, optimizer slots).
  const t0 = performance.now();
  const firstLoss = await step();
  const warmupMs = performance.now() - t0;
  const tensorsAfterWarmup = tf.memory().numTensors;
  let lastLoss = firstLoss;
  profiler?.start();
  const t1 = performance.now();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < steps; i++) lastLoss = await step();
  const ms = performance.now() - t1;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  profiler?.report(Math.max(1, steps));
  const leak = tf.memory().numTensors - tensorsAfterWarmup;
  const result = {
    backend: backendInfo(),
    reason: sel.reason,
    model:
      opts.model ??
      `cnn3 conv3x3 32-64-128${opts.bn ? (opts.stockLayers ? '+BN (stock layers)' : '+BN') : ''}+relu+maxpool, dense10`,
    params,
    batch: opts.batch,
    timedSteps: steps,
    warmupStepMs: Math.round(warmupMs),
    msPerStep: steps > 0 ? Math.round(ms / steps) : null,
    imgPerSec: steps > 0 ? Number(((opts.batch * steps) / (ms / 1000)).toFixed(1)) : null,
    // Per CPU-second of this process: less sensitive than wall time to other load on the machine.
    imgPerCpuSec: steps > 0 ? Number(((opts.batch * steps) / (cpuMs / 1000)).toFixed(1)) : null,
    warmupImgPerSec: Number((opts.batch / (warmupMs / 1000)).toFixed(2)),
    loss: { first: Number(firstLoss.toFixed(4)), last: Number(lastLoss.toFixed(4)) },
    tensorLeakPerRun: leak,
  };
  tf.dispose([x, labels, y]);
  optimizer.dispose();
  model.dispose();
  return result;
}

const opts = parseArgs(process.argv.slice(2));
const results = [];
for (const b of opts.backends) {
  const r = await measure(b, opts, b === 'cpu' ? opts.cpuSteps : opts.steps);
  console.log(JSON.stringify(r));
  results.push(r);
}
console.log(
  JSON.stringify({
    summary: Object.fromEntries(results.map((r) => [r.backend.name, r.imgPerSec ?? r.warmupImgPerSec])),
    perCpuSec: Object.fromEntries(results.map((r) => [r.backend.name, r.imgPerCpuSec])),
    unit: 'img/s (train step: forward+backward+Adam)',
  }),
);
