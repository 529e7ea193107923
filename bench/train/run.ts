// npm run bench:train: the same model (cnnHash, 64 bits, by default; or --model hybridHash with
// --options as in a config file) and loss (CSQ) trained for the same number of steps, batch 128,
// 32x32x3 random inputs (the data pipeline is excluded on both sides), with our training engine
// exactly as the trainer uses it (one data-parallel replica per core) and in PyTorch CPU (Debian
// python3-torch, as many threads as cores; bench/train/torch_*.py) in one run. On a GPU machine,
// --backend webgpu (or tensorflow) trains ours there and --torch-device cuda puts the peer there too.
import { execFile } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { type BackendPreference, defaultWorkers, selectBackend } from '../../encoder/engine/backend.js';
import { createLoss } from '../../encoder/losses/index.js';
import { createModel } from '../../encoder/models/index.js';
import { createStepEngine } from '../../encoder/train/stepEngine.js';

const { values: args } = parseArgs({
  options: {
    steps: { type: 'string', default: '20' },
    batch: { type: 'string', default: '128' },
    bits: { type: 'string', default: '64' },
    backend: { type: 'string', default: 'auto' },
    workers: { type: 'string' },
    'torch-device': { type: 'string', default: 'cpu' },
    model: { type: 'string', default: 'cnnHash' },
    options: { type: 'string', default: '{}' },
  },
});
const TORCH_TWINS: Record<string, string> = {
  cnnHash: 'bench/train/torch_cnn_hash.py',
  hybridHash: 'bench/train/torch_hybrid_hash.py',
};
const architecture = args.model;
const twin = TORCH_TWINS[architecture];
if (twin === undefined)
  throw new Error(`--model: no PyTorch twin for ${architecture} (have ${Object.keys(TORCH_TWINS).join(', ')})`);
const modelOptions = JSON.parse(args.options) as Record<string, unknown>;
const steps = Number(args.steps);
const batch = Number(args.batch);
const bits = Number(args.bits);
const cores = availableParallelism();
const python = process.env.EDGEHASH_PYTHON ?? '/usr/bin/python3';

const backend = await selectBackend(args.backend as BackendPreference);
const model = createModel({
  architecture,
  bits,
  inputSize: 32,
  channels: 3,
  numClasses: 10,
  seed: 0,
  options: modelOptions,
});
const loss = createLoss('csq', { bits, numClasses: 10, seed: 0 });
const workers = args.workers === undefined ? defaultWorkers(backend.name, batch) : Number(args.workers);
const engine = await createStepEngine({
  workers,
  backend: backend.name as BackendPreference,
  model,
  loss,
  lossSpec: { name: 'csq', context: { bits, numClasses: 10, seed: 0 } },
  learningRate: 1e-3,
});
// Asynchronous reads: a GPU backend (webgpu in Node) has no synchronous readback.
const readBack = async (t: tf.Tensor) => {
  const values = (await t.data()) as Float32Array;
  t.dispose();
  return values;
};
const x = await readBack(tf.randomNormal([batch, 32, 32, 3], 0, 1, 'float32', 1));
const labels = await readBack(tf.tidy(() => tf.oneHot(tf.randomUniformInt([batch], 0, 10, 2), 10).toFloat()));
const trainBatch = { x, labels, indices: Int32Array.from({ length: batch }, (_, i) => i), size: batch };
for (let i = 0; i < 2; i++) await engine.step(trainBatch, 1e-3);
const t0 = performance.now();
for (let i = 0; i < steps; i++) await engine.step(trainBatch, 1e-3);
const oursImgPerS = (steps * batch) / ((performance.now() - t0) / 1000);
await engine.dispose();

let torch: { img_per_s: number; params: number; torch: string } | null = null;
let message: string | undefined;
try {
  const script = fileURLToPath(new URL(`../../${twin}`, import.meta.url));
  const { stdout } = await promisify(execFile)(
    python,
    [script, `${bits}`, `${steps}`, `${batch}`, `${cores}`, args.options],
    { env: { ...process.env, EDGEHASH_TORCH_DEVICE: args['torch-device'] } },
  );
  torch = JSON.parse(stdout);
} catch (error) {
  message = `PyTorch not run (${python} with torch; Debian package python3-torch): ${(error as Error).message.split('\n')[0]}`;
}
console.log(
  JSON.stringify({
    bench: 'train',
    model: architecture,
    options: modelOptions,
    bits,
    batch,
    steps,
    backend: backend.name,
    params: model.net.countParams(),
    ours_img_per_s: +oursImgPerS.toFixed(1),
    ours_workers: engine.workers,
    torch_img_per_s: torch ? +torch.img_per_s.toFixed(1) : null,
    torch_params: torch?.params ?? null,
    torch_threads: cores,
    torch_device: args['torch-device'],
    ratio_vs_torch: torch ? +(oursImgPerS / torch.img_per_s).toFixed(3) : null,
    cores,
    ...(message ? { torch_message: message } : {}),
  }),
);
