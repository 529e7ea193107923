// One ADSH loss step (value + gradient with respect to the batch's outputs) against a database of
// learned codes the size of cifar10-2's training set, as the trainer runs it on single-label data
// (the expanded pair sum, encoder/losses/adsh.ts) beside the [B, |V|] pair matrix it replaces (what
// multi-label data still uses), on the same bank, codes and batches, in one run. Prints one JSON line.
//
//   npx tsx bench/losses/adsh.ts [--rows 49000] [--batch 64] [--bits 64] [--steps 20] [--backend wasm]
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { type BackendPreference, selectBackend } from '../../encoder/engine/backend.js';
import { AdshLoss, pairMatrixSquare } from '../../encoder/losses/adsh.js';
import { mulberry32 } from '../../encoder/random.js';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '49000' },
    batch: { type: 'string', default: '64' },
    bits: { type: 'string', default: '64' },
    steps: { type: 'string', default: '20' },
    backend: { type: 'string', default: 'wasm' },
  },
});
const [rows, batch, bits, steps] = [args.rows, args.batch, args.bits, args.steps].map(Number);
const numClasses = 10;
const backend = await selectBackend(args.backend as BackendPreference);

const random = mulberry32(5);
const oneHot = (indices: Int32Array) =>
  tf
    .oneHot(
      tf.tensor1d(
        Array.from(indices, (i) => i % numClasses),
        'int32',
      ),
      numClasses,
    )
    .asType('float32') as tf.Tensor2D;
const outputs = (count: number) =>
  tf.tensor2d(
    Array.from({ length: count * bits }, () => random() * 2 - 1),
    [count, bits],
  );

// A bank of `rows` outputs and one V update, as after the first epoch.
const loss = new AdshLoss({ bits, numClasses, seed: 0 });
for (let start = 0; start < rows; start += 1000) {
  const indices = Int32Array.from({ length: Math.min(1000, rows - start) }, (_, i) => start + i);
  tf.tidy(() => loss.compute(outputs(indices.length), oneHot(indices), indices));
}
loss.onEpochEnd(1);

const batches = Array.from({ length: steps }, (_, s) => {
  const indices = Int32Array.from({ length: batch }, (_, i) => (s * 7919 + i * 613) % rows);
  return { u: tf.tanh(outputs(batch)) as tf.Tensor2D, labels: oneHot(indices), indices };
});

function time(step: (b: (typeof batches)[number]) => tf.Tensor[]): number {
  tf.dispose(step(batches[0]));
  const start = performance.now();
  for (const b of batches) {
    const out = step(b);
    for (const t of out) t.dataSync();
    tf.dispose(out);
  }
  return (performance.now() - start) / steps;
}

const expanded = time(({ u, labels, indices }) => {
  const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => loss.compute(x as tf.Tensor2D, labels, indices))(u);
  return [value, grad];
});
const codes = loss.databaseCodes;
const pairMatrix = time(({ u, labels }) => {
  const { outputs: bankOutputs, labels: bankLabels } = loss.bank.tensors();
  bankOutputs.dispose();
  const v = tf.tensor2d(codes, [rows, bits]);
  const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => pairMatrixSquare(x as tf.Tensor2D, labels, bankLabels, v))(
    u,
  );
  tf.dispose([bankLabels, v]);
  return [value, grad];
});

console.log(
  JSON.stringify({
    bench: 'adsh-step',
    backend: backend.name,
    rows,
    batch,
    bits,
    expanded_ms: Number(expanded.toFixed(2)),
    pair_matrix_ms: Number(pairMatrix.toFixed(2)),
    speedup: Number((pairMatrix / expanded).toFixed(1)),
  }),
);
