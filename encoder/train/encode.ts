// Hash codes of dataset images with a tfjs model (training-time validation and evaluation; batch
// encoding of collections for publishing uses the exported ONNX model). The network runs through a
// BatchEncoder: in this thread, or on the data-parallel training replicas (stepEngine.ts).
import * as tf from '@tensorflow/tfjs';
import { packCodes } from '../../schemas/codeTable.js';
import type { Normalization } from '../data/augment.js';
import { type Batch, batches } from '../data/batches.js';
import type { ImageDataset } from '../data/types.js';
import type { HashModel, HashModelConfig } from '../models/types.js';

/** Network outputs ([size, bits], row-major) of a normalized batch, in inference mode. */
export type BatchEncoder = (batch: Batch) => Promise<Float32Array>;

/**
 * The model's outputs for `size` normalized images (row-major NHWC), in inference mode. Read back
 * asynchronously: a GPU backend (webgpu in Node) has no synchronous readback.
 */
export async function predictOutputs(model: HashModel, x: Float32Array, size: number): Promise<Float32Array> {
  const { inputSize, channels } = model.config;
  const outputs = tf.tidy(() => model.net.predict(tf.tensor4d(x, [size, inputSize, inputSize, channels])) as tf.Tensor);
  const values = (await outputs.data()) as Float32Array;
  outputs.dispose();
  return values;
}

/** The batch with every image mirrored left to right (NHWC rows reversed along the width). */
export function mirroredBatch(batch: Batch, inputSize: number, channels: number): Batch {
  const x = new Float32Array(batch.x.length);
  const row = inputSize * channels;
  for (let start = 0; start < x.length; start += row) {
    for (let col = 0; col < inputSize; col++) {
      const from = start + col * channels;
      const to = start + (inputSize - 1 - col) * channels;
      for (let c = 0; c < channels; c++) x[to + c] = batch.x[from + c];
    }
  }
  return { ...batch, x };
}

/**
 * The model's hash outputs from its network's encoder: the network's own, or with `testTimeFlip` the
 * mean over the image and its mirror (`(a + b) / 2` is symmetric in a and b, so an image and its mirror
 * get bit-identical outputs).
 */
export function hashEncoder(config: HashModelConfig, network: BatchEncoder): BatchEncoder {
  if (!config.testTimeFlip) return network;
  return async (batch) => {
    const direct = await network(batch);
    const mirrored = await network(mirroredBatch(batch, config.inputSize, config.channels));
    return direct.map((v, i) => (v + mirrored[i]) / 2);
  };
}

export function inThreadEncoder(model: HashModel): BatchEncoder {
  return hashEncoder(model.config, (batch) => predictOutputs(model, batch.x, batch.size));
}

export async function encodeIndices(
  encoder: BatchEncoder,
  bits: number,
  dataset: ImageDataset,
  indices: Int32Array,
  normalization: Normalization,
  batchSize: number,
): Promise<Uint8Array> {
  const out = new Uint8Array((indices.length * bits) / 8);
  let at = 0;
  for (const batch of batches(dataset, indices, batchSize, {
    shuffle: false,
    augment: false,
    seed: 0,
    normalization,
  })) {
    const codes = packCodes(await encoder(batch), bits);
    out.set(codes, at);
    at += codes.length;
  }
  return out;
}
