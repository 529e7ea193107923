// One replica of DataParallelTrainer (./dataParallel.ts): a worker thread with its own tfjs, model,
// loss and Adam. The main thread sends it a share of each batch ('grads'), averages the gradients of
// all replicas and sends the average back ('apply'), with the memory-bank rows the other replicas
// wrote; every replica applies the same average with identical optimizer state, so the trainable
// weights stay bit-identical across replicas. Epoch ends reach every replica's loss ('epochEnd').
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { createLoss, registerLoss } from '../losses/index.js';
import { loadLossState, saveLossState } from '../losses/lossState.js';
import { createModel, registerArchitecture } from '../models/index.js';
import { predictOutputs } from '../train/encode.js';
import { createOptimizer, replayAdamPowers, setLearningRate, stateSlotsPerVariable } from '../train/optimizer.js';
import { selectBackend } from './backend.js';
import type { NamedValues, WorkerData, WorkerReply, WorkerRequest } from './dataParallel.js';

const port = parentPort;
if (port === null) throw new Error('dataParallelWorker.ts must run in a worker thread');
const data = workerData as WorkerData;

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function post(reply: WorkerReply, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(reply, transfer);
}

async function init() {
  await selectBackend(data.backend);
  if (data.setup !== undefined) {
    const mod = (await import(data.setup)) as { default?: unknown; setup?: unknown };
    const fn = mod.setup ?? mod.default;
    if (typeof fn !== 'function') throw new Error(`setup module ${data.setup} exports no setup() or default function`);
    await fn({ tf, registerArchitecture, registerLoss });
  }
  const model = createModel(data.model);
  const loss = createLoss(data.loss.name, data.loss.context);
  if (loss.unsharedState && data.replicas > 1) {
    throw new Error(`loss ${loss.name} keeps state the replicas cannot share; train it with one worker`);
  }
  const optimizer = createOptimizer(data.learningRate, data.optimizer);
  return { model, loss, optimizer };
}

type Replica = Awaited<ReturnType<typeof init>>;

function shapeOf(shape: readonly (number | null)[]): string {
  return shape.join('x');
}

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

// Reads back asynchronously throughout: a GPU backend (webgpu in Node) has no synchronous readback.
async function toValues(name: string, tensor: tf.Tensor): Promise<NamedValues> {
  return { name, shape: [...tensor.shape], values: Float32Array.from((await tensor.data()) as Float32Array) };
}

/** The model's trainable weights, then the loss's own (the order in which one process creates them). */
function trainableVariables(r: Replica): tf.Variable[] {
  return [...r.model.net.trainableWeights.map((w) => w.read() as tf.Variable), ...(r.loss.variables ?? [])];
}

async function computeGrads(r: Replica, msg: Extract<WorkerRequest, { type: 'grads' }>) {
  const { inputSize: side, channels, numClasses } = r.model.config;
  const perImage = side * side * channels;
  const who = `replica ${data.replica}`;
  if (!Number.isInteger(msg.size) || msg.size < 1) throw new Error(`${who}: share size must be >= 1, got ${msg.size}`);
  if (msg.x.length !== msg.size * perImage) {
    throw new Error(
      `${who}: x has ${msg.x.length} values, expected ${msg.size} x ${side}x${side}x${channels} = ${msg.size * perImage}`,
    );
  }
  if (msg.labels.length !== msg.size * numClasses) {
    throw new Error(
      `${who}: labels has ${msg.labels.length} values, expected ${msg.size} x ${numClasses} = ${msg.size * numClasses}`,
    );
  }
  if (msg.indices.length !== msg.size) {
    throw new Error(`${who}: indices has ${msg.indices.length} values, expected ${msg.size}`);
  }
  const variables = trainableVariables(r);
  r.loss.bank?.reserve(msg.batchIndices);
  const { value, grads } = tf.tidy(() => {
    const x = tf.tensor4d(msg.x, [msg.size, side, side, channels]);
    const y = tf.tensor2d(msg.labels, [msg.size, numClasses]);
    return tf.variableGrads(
      () => r.loss.compute(r.model.net.apply(x, { training: true }) as tf.Tensor2D, y, msg.indices),
      variables,
    );
  });
  // Read after the tidy scope has closed: reading inside it made the 2-replica cnnHash step 14%
  // slower (README, "Training throughput").
  try {
    const out: Float32Array[] = [];
    for (const v of variables) {
      const g = grads[v.name];
      if (g === undefined) throw new Error(`${who}: no gradient for ${v.name}`);
      out.push(Float32Array.from((await g.data()) as Float32Array));
    }
    const loss = (await value.data())[0];
    return { loss, grads: out, bankRows: r.loss.bank?.read(msg.indices) };
  } finally {
    tf.dispose([value, ...Object.values(grads)]);
  }
}

function applyGrads(r: Replica, msg: Extract<WorkerRequest, { type: 'apply' }>): void {
  const variables = trainableVariables(r);
  if (msg.grads.length !== variables.length) {
    throw new Error(`replica ${data.replica}: ${msg.grads.length} gradients, the model has ${variables.length}`);
  }
  setLearningRate(r.optimizer, msg.learningRate);
  tf.tidy(() => {
    // An ordered list: Adam keys its moments by position, so every replica (and the single-process
    // trainer, whose variable order is the same) lines its state up identically.
    const named = variables.map((v, i) => {
      if (msg.grads[i].length !== v.size) {
        throw new Error(
          `replica ${data.replica}: gradient ${i} (${v.name}) has ${msg.grads[i].length} values, expected ${v.size}`,
        );
      }
      return { name: v.name, tensor: tf.tensor(msg.grads[i], v.shape) };
    });
    r.optimizer.applyGradients(named);
  });
  for (const rows of msg.bankRows) r.loss.bank?.write(rows);
}

async function snapshot(r: Replica) {
  const weights = await Promise.all(r.model.net.weights.map((w) => toValues(w.originalName, w.read())));
  const optimizer = await Promise.all(
    (await r.optimizer.getWeights()).map(({ name, tensor }) => toValues(name, tensor)),
  );
  return { weights, optimizer, loss: await saveLossState(r.loss) };
}

async function restore(r: Replica, msg: Extract<WorkerRequest, { type: 'restore' }>): Promise<void> {
  const net = r.model.net;
  const who = `replica ${data.replica}`;
  if (msg.weights.length !== net.weights.length) {
    throw new Error(`${who}: restore got ${msg.weights.length} weight tensors, the model has ${net.weights.length}`);
  }
  net.weights.forEach((w, i) => {
    const given = msg.weights[i];
    if (shapeOf(w.shape) !== shapeOf(given.shape) || given.values.length !== sizeOf(given.shape)) {
      throw new Error(
        `${who}: restore weight ${w.originalName} has shape ${given.shape}, the model expects ${w.shape}`,
      );
    }
  });
  if (msg.optimizer !== undefined) {
    // Iterations, then per state slot (Adam: first and second moments; SGD: momentum) one tensor per
    // trainable variable.
    const variables = trainableVariables(r);
    const slots = stateSlotsPerVariable(data.optimizer);
    const expected = 1 + slots * variables.length;
    if (msg.optimizer.length !== expected) {
      throw new Error(
        `${who}: restore got ${msg.optimizer.length} optimizer tensors, ${r.optimizer.getClassName()} on this model has ${expected}`,
      );
    }
    variables.forEach((v, i) => {
      for (let slot = 0; slot < slots; slot++) {
        const entry = msg.optimizer![1 + slot * variables.length + i];
        if (shapeOf(entry.shape) !== shapeOf(v.shape)) {
          throw new Error(`${who}: optimizer state ${entry.name} has shape ${entry.shape}, ${v.name} has ${v.shape}`);
        }
      }
    });
  }
  const tensors = msg.weights.map((w) => tf.tensor(w.values, w.shape));
  net.setWeights(tensors);
  tf.dispose(tensors);
  if (msg.optimizer !== undefined) {
    const state = msg.optimizer.map((o) => ({ name: o.name, tensor: tf.tensor(o.values, o.shape) }));
    // setWeights replaces the moment variables with copies; drop the old ones first.
    r.optimizer.dispose();
    r.optimizer = createOptimizer(data.learningRate, data.optimizer);
    await r.optimizer.setWeights(state);
    tf.dispose(state.map((s) => s.tensor));
    replayAdamPowers(r.optimizer, r.optimizer.iterations);
  }
  if (msg.loss !== undefined) loadLossState(r.loss, msg.loss);
}

const ready = init();

ready.then(
  () => post({ id: 0, ok: true, type: 'ready' }),
  (err) => post({ id: 0, ok: false, error: `replica ${data.replica} failed to start: ${errorMessage(err)}` }),
);

port.on('message', async (msg: WorkerRequest) => {
  let r: Replica;
  try {
    r = await ready;
  } catch {
    return;
  }
  try {
    switch (msg.type) {
      case 'grads': {
        const { loss, grads, bankRows } = await computeGrads(r, msg);
        post(
          { id: msg.id, ok: true, type: 'grads', loss, grads, ...(bankRows === undefined ? {} : { bankRows }) },
          grads.map((g) => g.buffer as ArrayBuffer),
        );
        break;
      }
      case 'encode': {
        const outputs = await predictOutputs(r.model, msg.x, msg.size);
        post({ id: msg.id, ok: true, type: 'encoded', outputs }, [outputs.buffer as ArrayBuffer]);
        break;
      }
      case 'epochEnd':
        r.loss.onEpochEnd?.(msg.epoch);
        post({ id: msg.id, ok: true, type: 'done' });
        break;
      case 'apply':
        applyGrads(r, msg);
        post({ id: msg.id, ok: true, type: 'done' });
        break;
      case 'snapshot': {
        const state = await snapshot(r);
        const buffers = [...state.weights, ...state.optimizer, ...state.loss].map(
          (w) => w.values.buffer as ArrayBuffer,
        );
        post({ id: msg.id, ok: true, type: 'snapshot', ...state }, buffers);
        break;
      }
      case 'restore':
        await restore(r, msg);
        post({ id: msg.id, ok: true, type: 'done' });
        break;
      default:
        throw new Error(`unknown request ${(msg as { type: string }).type}`);
    }
  } catch (err) {
    post({ id: msg.id, ok: false, error: errorMessage(err) });
  }
});
