// One ADSH loss step (value + gradient with respect to the batch's outputs) against a database of
// learned codes the size of cifar10-2's training set, as the trainer runs it on single-label data
// (the expanded pair sum, encoder/losses/adsh.ts) beside the [B, |V|] pair matrix it replaces (what
// multi-label data still uses), on the same bank, codes and batches, in one run; and how far the pair
// matrix's float32 sum on the first batch is from the same sum taken in float64 on the host.
// Prints one JSON line. End to end: `npx edgehash train --config bench/losses/cnn-adsh-cifar10-2.json`
// (its first epoch's img/s), at this commit and at one before the expanded sum.
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
  // As the loss did before the expansion: the bank's outputs and labels and V uploaded every step.
  const { outputs: bankOutputs, labels: bankLabels } = loss.bank.tensors();
  bankOutputs.dispose();
  const v = tf.tensor2d(codes, [rows, bits]);
  const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => pairMatrixSquare(x as tf.Tensor2D, labels, bankLabels, v))(
    u,
  );
  tf.dispose([bankLabels, v]);
  return [value, grad];
});

// The pair sum of the first batch in float64: sum_ij (u_i . V_j - bits S_ij)^2.
function pairSumFloat64({ u, labels }: (typeof batches)[number]): number {
  const uValues = u.dataSync();
  const batchClass = Array.from(
    { length: batch },
    (_, i) => labels.dataSync().indexOf(1, i * numClasses) - i * numClasses,
  );
  const bankClass = Array.from({ length: rows }, (_, j) => j % numClasses);
  const similar = batchClass.reduce((sum, c) => sum + bankClass.filter((k) => k === c).length, 0);
  const r = similar / (batch * rows - similar);
  let sum = 0;
  for (let i = 0; i < batch; i++) {
    for (let j = 0; j < rows; j++) {
      let dot = 0;
      for (let k = 0; k < bits; k++) dot += uValues[i * bits + k] * codes[j * bits + k];
      const d = dot - bits * (batchClass[i] === bankClass[j] ? 1 : -r);
      sum += d * d;
    }
  }
  return sum;
}
const float32Sum = tf.tidy(
  () =>
    pairMatrixSquare(
      batches[0].u,
      batches[0].labels,
      loss.bank.labelTensor(),
      tf.tensor2d(codes, [rows, bits]),
    ).dataSync()[0],
);
const float64Sum = pairSumFloat64(batches[0]);

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
    pair_matrix_float32_relative_error: Number(((float32Sum - float64Sum) / float64Sum).toExponential(2)),
  }),
);
