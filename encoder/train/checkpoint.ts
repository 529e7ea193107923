// Checkpoints: model weights, optimizer state and trainer state in one folder, written to a
// temporary folder and renamed into place, so a kill never leaves a half-written checkpoint.
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { NamedArray } from '../losses/types.js';

/** A tensor with its name, as tf.Optimizer.getWeights() returns them. */
export type NamedTensor = { name: string; tensor: tf.Tensor };

interface TensorEntry {
  name: string;
  shape: number[];
  offset: number;
}

interface CheckpointFile<State> {
  format: 'edgehash-checkpoint-1';
  state: State;
  weights: TensorEntry[];
  optimizer: TensorEntry[];
  /** The loss's state across batches (encoder/losses/lossState.ts); absent in older checkpoints. */
  loss?: TensorEntry[];
}

export interface Checkpoint<State> {
  state: State;
  weights: tf.Tensor[];
  optimizer: NamedTensor[];
  /** Empty when the checkpoint holds no loss state. */
  loss: NamedArray[];
}

/** Host copies of named tensors (read back asynchronously: a GPU backend has no synchronous readback). */
async function toHost(named: NamedTensor[]): Promise<NamedArray[]> {
  return Promise.all(
    named.map(async ({ name, tensor }) => ({
      name,
      shape: [...tensor.shape],
      values: Float32Array.from((await tensor.data()) as Float32Array),
    })),
  );
}

export async function saveCheckpoint<State>(
  dir: string,
  net: tf.LayersModel,
  optimizerWeights: NamedTensor[],
  state: State,
  lossState: readonly NamedArray[] = [],
): Promise<void> {
  const groups = [
    await toHost(net.weights.map((w) => ({ name: w.originalName, tensor: w.read() }))),
    await toHost(optimizerWeights),
    lossState,
  ];
  // One values.f32 holds every array back to back; each entry records where its array starts.
  let offset = 0;
  const [weights, optimizer, loss] = groups.map((arrays) =>
    arrays.map(({ name, shape, values }) => {
      const entry = { name, shape, offset };
      offset += values.length;
      return entry;
    }),
  );
  const file: CheckpointFile<State> = {
    format: 'edgehash-checkpoint-1',
    state,
    weights,
    optimizer,
    ...(loss.length > 0 ? { loss } : {}),
  };
  const values = new Float32Array(offset);
  let at = 0;
  for (const array of groups.flat()) {
    values.set(array.values, at);
    at += array.values.length;
  }
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  await writeFile(path.join(tmp, 'checkpoint.json'), `${JSON.stringify(file, null, 1)}\n`);
  await writeFile(path.join(tmp, 'values.f32'), new Uint8Array(values.buffer));
  await rm(dir, { recursive: true, force: true });
  await rename(tmp, dir);
}

export async function loadCheckpoint<State>(dir: string): Promise<Checkpoint<State>> {
  const file = JSON.parse(await readFile(path.join(dir, 'checkpoint.json'), 'utf8')) as CheckpointFile<State>;
  if (file.format !== 'edgehash-checkpoint-1') throw new Error(`${dir}: not an edgehash checkpoint`);
  const bytes = await readFile(path.join(dir, 'values.f32'));
  const values = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const slice = (e: TensorEntry) => values.slice(e.offset, e.offset + e.shape.reduce((a, b) => a * b, 1));
  const read = (e: TensorEntry) => tf.tensor(slice(e), e.shape);
  return {
    state: file.state,
    weights: file.weights.map(read),
    optimizer: file.optimizer.map((e) => ({ name: e.name, tensor: read(e) })),
    loss: (file.loss ?? []).map((e) => ({ name: e.name, shape: e.shape, values: slice(e) })),
  };
}

/** Loads weights into `net`, checking that every tensor is there with its shape. */
export function restoreWeights(net: tf.LayersModel, weights: tf.Tensor[], source: string): void {
  if (weights.length !== net.weights.length) {
    throw new Error(`${source}: ${weights.length} weight tensors, the model has ${net.weights.length}`);
  }
  net.weights.forEach((w, i) => {
    if (w.shape.join('x') !== weights[i].shape.join('x')) {
      throw new Error(`${source}: ${w.originalName} has shape ${weights[i].shape}, the model expects ${w.shape}`);
    }
  });
  net.setWeights(weights);
}
