// Hash codes of dataset images with a tfjs model (training-time evaluation; batch encoding of
// collections for publishing uses the exported ONNX model).
import * as tf from '@tensorflow/tfjs';
import { packCodes } from '../../schemas/codeTable.js';
import type { Normalization } from '../data/augment.js';
import { batches } from '../data/batches.js';
import type { ImageDataset } from '../data/types.js';
import type { HashModel } from '../models/types.js';

export function encodeIndices(
  model: HashModel,
  dataset: ImageDataset,
  indices: Int32Array,
  normalization: Normalization,
  batchSize: number,
): Uint8Array {
  const bits = model.config.bits;
  const out = new Uint8Array((indices.length * bits) / 8);
  let at = 0;
  for (const batch of batches(dataset, indices, batchSize, {
    shuffle: false,
    augment: false,
    seed: 0,
    normalization,
  })) {
    const values = tf.tidy(() => {
      const x = tf.tensor4d(batch.x, [batch.size, dataset.height, dataset.width, dataset.channels]);
      return (model.net.predict(x) as tf.Tensor).dataSync();
    });
    const codes = packCodes(values, bits);
    out.set(codes, at);
    at += codes.length;
  }
  return out;
}
