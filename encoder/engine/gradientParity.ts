/**
 * One training step's loss and weight gradients on a backend, compared with the pure-JS cpu backend
 * (the reference every kernel is held to). It checks a backend the tests cannot reach on every
 * machine (a GPU through webgpu or tfjs-node-gpu) on the models the trainer actually runs.
 */
import * as tf from '@tensorflow/tfjs';
import { createLoss } from '../losses/index.js';
import { createModel } from '../models/index.js';
import type { HashModelConfig } from '../models/types.js';

export interface GradientParity {
  backend: string;
  architecture: string;
  parameters: number;
  lossCpu: number;
  lossBackend: number;
  /** max over weights of max|g_backend - g_cpu| / max(1e-6, max|g_cpu|). */
  maxRelativeDifference: number;
  worstWeight: string;
}

interface StepValues {
  loss: number;
  grads: Map<string, Float32Array>;
}

/** Loss and gradients of `net` on the active backend (the batch is re-created there). */
async function stepValues(
  model: ReturnType<typeof createModel>,
  loss: ReturnType<typeof createLoss>,
  x: Float32Array,
  labels: Float32Array,
  batch: number,
): Promise<StepValues> {
  const { inputSize, channels, numClasses } = model.config;
  const weights = model.net.trainableWeights.map((w) => w.read() as tf.Variable);
  const { value, grads } = tf.tidy(() => {
    const xs = tf.tensor4d(x, [batch, inputSize, inputSize, channels]);
    const ys = tf.tensor2d(labels, [batch, numClasses]);
    const indices = Int32Array.from({ length: batch }, (_, i) => i);
    return tf.variableGrads(
      () => loss.compute(model.net.apply(xs, { training: true }) as tf.Tensor2D, ys, indices),
      weights,
    );
  });
  // Asynchronous reads: a GPU backend (webgpu in Node) has no synchronous readback.
  const values = new Map<string, Float32Array>();
  for (const w of weights) values.set(w.name, (await grads[w.name].data()) as Float32Array);
  const result = { loss: (await value.data())[0], grads: values };
  tf.dispose([value, ...Object.values(grads)]);
  return result;
}

/**
 * Builds the model on the cpu backend, takes one CSQ training step's gradients there and on
 * `backend` (already initialised, e.g. by selectBackend), and reports the largest relative
 * difference. Leaves `backend` active.
 */
export async function gradientParity(
  backend: string,
  modelConfig: HashModelConfig,
  batch = 8,
): Promise<GradientParity> {
  await tf.setBackend('cpu');
  const model = createModel(modelConfig);
  const loss = createLoss('csq', { bits: modelConfig.bits, numClasses: modelConfig.numClasses, seed: 0 });
  const { inputSize, channels, numClasses } = modelConfig;
  // Made on the cpu backend, so synchronous reads are fine here.
  const x = tf.tidy(
    () => tf.randomNormal([batch, inputSize, inputSize, channels], 0, 1, 'float32', 7).dataSync() as Float32Array,
  );
  const labels = tf.tidy(
    () =>
      tf
        .oneHot(tf.randomUniformInt([batch], 0, numClasses, 8), numClasses)
        .toFloat()
        .dataSync() as Float32Array,
  );
  const reference = await stepValues(model, loss, x, labels, batch);
  await tf.setBackend(backend);
  const measured = await stepValues(model, loss, x, labels, batch);
  let maxRelativeDifference = 0;
  let worstWeight = '';
  for (const [name, ref] of reference.grads) {
    const got = measured.grads.get(name);
    if (got === undefined || got.length !== ref.length) throw new Error(`gradient of ${name} missing on ${backend}`);
    let scale = 1e-6;
    let diff = 0;
    for (let i = 0; i < ref.length; i++) {
      scale = Math.max(scale, Math.abs(ref[i]));
      diff = Math.max(diff, Math.abs(got[i] - ref[i]));
    }
    // NaN compares false above: count it as the worst possible difference.
    const relative = got.some(Number.isNaN) ? Number.POSITIVE_INFINITY : diff / scale;
    if (worstWeight === '' || relative > maxRelativeDifference) {
      maxRelativeDifference = relative;
      worstWeight = name;
    }
  }
  const parameters = model.net.countParams();
  model.net.dispose();
  return {
    backend,
    architecture: modelConfig.architecture,
    parameters,
    lossCpu: reference.loss,
    lossBackend: measured.loss,
    maxRelativeDifference,
    worstWeight,
  };
}
