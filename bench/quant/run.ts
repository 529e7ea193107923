// npm run bench:quant: a trained run's model exported to ONNX in float32 and int8 (weights only, and
// weights + calibrated activations), every query and database image of the run's protocol hashed by
// each through onnxruntime-node, and mAP@ALL (the trainer's evaluation) and hashing speed per model.
// Prints one JSON line per int8 configuration, then the parity lines: tfjs vs onnxruntime-node (float) and
// onnxruntime-node vs onnxruntime-web (every model) on a sample of query images.
// Options: --config FILE (default configs/cifar10-2-cnn-64.json), --checkpoint DIR (default: the
// run's best), --calibrate N (default 512 training images), --sample N (default 1000).
import { parseArgs } from 'node:util';
import { evaluateRetrieval } from '../../encoder/eval/retrieval.js';
import { exportHashModel } from '../../encoder/export/exportModel.js';
import { buildModelCard } from '../../encoder/export/modelCard.js';
import { quantizeModel } from '../../encoder/export/quantize.js';
import { calibrationInputs } from '../../encoder/export/trainedModel.js';
import { OnnxHasher } from '../../encoder/hash/onnxHasher.js';
import { runInOrtWeb } from '../../encoder/hash/webRuntime.js';
import { encodeIndices, inThreadEncoder } from '../../encoder/train/encode.js';
import { loadRunWithCheckpoint } from '../../encoder/train/runWithCheckpoint.js';
import { packCodes } from '../../schemas/codeTable.js';
import type { ModelCard } from '../../schemas/modelCard.js';
import { imageValues, preprocessInto } from '../../schemas/preprocess.js';
import { loadKernelModule } from '../../wasm/nodeModule.js';

const { values } = parseArgs({
  options: {
    config: { type: 'string', default: 'configs/cifar10-2-cnn-64.json' },
    checkpoint: { type: 'string' },
    calibrate: { type: 'string', default: '512' },
    sample: { type: 'string', default: '1000' },
  },
});
const calibrate = Number(values.calibrate);
const sampleSize = Number(values.sample);

const { config, run } = await loadRunWithCheckpoint(values.config!, values.checkpoint);
const { dataset, split } = run;
const bits = config.model.bits;
const numClasses = dataset.classNames.length;
const kernel = await loadKernelModule();

const exported = exportHashModel(run.model);
const cardFor = (onnx: Uint8Array, quantization?: ModelCard['quantization']) =>
  buildModelCard({
    modelId: 'bench-quant',
    config: run.model.config,
    onnx: { ...exported, bytes: onnx },
    normalization: run.normalization,
    quantization,
  });
const floatCard = cardFor(exported.onnx);
const per = imageValues(floatCard.input);

function gather(indices: Int32Array): Uint8Array {
  const out = new Uint8Array(indices.length * per);
  indices.forEach((i, r) => {
    out.set(dataset.pixels.subarray(i * per, (i + 1) * per), r * per);
  });
  return out;
}

function labelsOf(indices: Int32Array): Uint8Array {
  const out = new Uint8Array(indices.length * numClasses);
  indices.forEach((i, r) => {
    out.set(dataset.labels.subarray(i * numClasses, (i + 1) * numClasses), r * numClasses);
  });
  return out;
}

async function hashAll(hasher: OnnxHasher, indices: Int32Array, batch = 1024): Promise<Uint8Array> {
  const codes = new Uint8Array((indices.length * bits) / 8);
  for (let start = 0; start < indices.length; start += batch) {
    const part = indices.subarray(start, start + batch);
    codes.set(await hasher.hashPixels(gather(part), part.length), (start * bits) / 8);
  }
  return codes;
}

function differentBits(a: Uint8Array, b: Uint8Array): number {
  let different = 0;
  for (let i = 0; i < a.length; i++) for (let x = a[i] ^ b[i]; x; x &= x - 1) different++;
  return different;
}

const bitAgreement = (a: Uint8Array, b: Uint8Array) => 1 - differentBits(a, b) / (a.length * 8);

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

const round = (v: number, digits = 5) => +v.toFixed(digits);

interface Encoded {
  name: string;
  activations: 'float32' | 'int8-static' | undefined;
  onnx: Uint8Array;
  hasher: OnnxHasher;
  query: Uint8Array;
  database: Uint8Array;
  map: number;
  /** Query and database images hashed per second (pixels in, codes out, every core). */
  imagesPerSecond: number;
}

async function encodeWith(name: string, onnx: Uint8Array, card: ModelCard): Promise<Encoded> {
  const hasher = await OnnxHasher.create(onnx, card);
  const started = performance.now();
  const query = await hashAll(hasher, split.query);
  const database = await hashAll(hasher, split.database);
  const imagesPerSecond = ((split.query.length + split.database.length) * 1000) / (performance.now() - started);
  const metrics = await evaluateRetrieval(
    { codes: query, labels: labelsOf(split.query) },
    { codes: database, labels: labelsOf(split.database) },
    { bits, numClasses, topK: split.topK, kernel },
  );
  const activations = card.quantization?.activations;
  return { name, activations, onnx, hasher, query, database, map: metrics.map, imagesPerSecond };
}

const models: Encoded[] = [await encodeWith('float32', exported.onnx, floatCard)];
const calibration = calibrationInputs(run, floatCard.input, calibrate, config.training.seed);
for (const calibrated of [false, true]) {
  const quantized = await quantizeModel(exported.onnx, {
    calibration: calibrated ? { inputs: calibration, count: calibration.length / per } : undefined,
  });
  models.push(
    await encodeWith(
      calibrated ? 'int8-static' : 'int8-weights',
      quantized.onnx,
      cardFor(quantized.onnx, quantized.quantization),
    ),
  );
}

const [float, ...int8] = models;
for (const m of int8) {
  const different = differentBits(float.query, m.query) + differentBits(float.database, m.database);
  const totalBits = (float.query.length + float.database.length) * 8;
  console.log(
    JSON.stringify({
      bench: 'quant',
      bits,
      protocol: config.protocol,
      images: split.query.length + split.database.length,
      bit_agreement: round(1 - different / totalBits),
      map_float: round(float.map, 4),
      map_int8: round(m.map, 4),
      map_diff_points: round((m.map - float.map) * 100, 2),
      activations: m.activations,
      calibration_images: m.activations === 'int8-static' ? calibration.length / per : 0,
      onnx_bytes_float: float.onnx.length,
      onnx_bytes_int8: m.onnx.length,
      img_per_s_float: Math.round(float.imagesPerSecond),
      img_per_s_int8: Math.round(m.imagesPerSecond),
    }),
  );
}

// Parity on a sample of query images.
const sample = split.query.subarray(0, Math.min(sampleSize, split.query.length));
const tfjsCodes = await encodeIndices(
  inThreadEncoder(run.model),
  config.model.bits,
  dataset,
  sample,
  run.normalization,
  config.training.batchSize,
);
console.log(
  JSON.stringify({
    bench: 'quant-parity',
    pair: 'tfjs-vs-ort-node',
    model: 'float32',
    n: sample.length,
    bit_agreement: round(bitAgreement(tfjsCodes, float.query.subarray(0, tfjsCodes.length))),
  }),
);
const sampleBatch = new Float32Array(sample.length * per);
preprocessInto(floatCard.input, gather(sample), sampleBatch);
const { size, channels } = floatCard.input;
for (const m of models) {
  const node = await m.hasher.outputs(sampleBatch, sample.length);
  const web = await runInOrtWeb(m.onnx, floatCard.input.name, floatCard.output.name, sampleBatch, [
    sample.length,
    size,
    size,
    channels,
  ]);
  const nodeCodes = await m.hasher.hashPixels(gather(sample), sample.length);
  const webCodes = packCodes(web, bits);
  console.log(
    JSON.stringify({
      bench: 'quant-parity',
      pair: 'ort-node-vs-ort-web',
      model: m.name,
      n: sample.length,
      bit_agreement: round(bitAgreement(nodeCodes, webCodes)),
      max_abs_diff: maxAbsDiff(node, web),
    }),
  );
  await m.hasher.release();
}
