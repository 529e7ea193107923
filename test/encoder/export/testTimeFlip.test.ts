// Test-time flip: a model with `testTimeFlip` hashes an image by the mean of its network's outputs on
// the image and its mirror, in tfjs (validation, evaluation, encode-split) and in the exported ONNX
// graph alike, so an image and its mirror get one code everywhere.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeModel } from '../../../encoder/export/onnxGraph.js';
import { quantizeModel } from '../../../encoder/export/quantize.js';
import { runInOrtWeb } from '../../../encoder/hash/webRuntime.js';
import { createLoss } from '../../../encoder/losses/index.js';
import { inThreadEncoder, mirroredBatch } from '../../../encoder/train/encode.js';
import { createStepEngine } from '../../../encoder/train/stepEngine.js';
import {
  exportSmall,
  hasherPool,
  maxAbsDiff,
  randomizedModel,
  randomNormalBatch,
  signMismatches,
  tfjsOutputs,
} from './support.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const openHasher = hasherPool();
const options = { stemChannels: 4, widths: [8, 16], depths: [1, 1], heads: [2, 4], outputActivation: 'linear' };
const inputSize = 15; // odd: the middle column maps to itself
const n = 3;

function batchOf(x: Float32Array) {
  return { x, labels: new Float32Array(n), indices: Int32Array.from({ length: n }, (_, i) => i), size: n };
}

/** The mean of the network on x and on x with its width axis reversed, by tf.reverse. */
function referenceMean(model: ReturnType<typeof randomizedModel>, x: Float32Array): Float32Array {
  return tf.tidy(() => {
    const images = tf.tensor4d(x, [n, inputSize, inputSize, 3]);
    const direct = model.net.predict(images) as tf.Tensor;
    const mirrored = model.net.predict(tf.reverse(images, 2)) as tf.Tensor;
    return direct.add(mirrored).div(2).dataSync() as Float32Array;
  });
}

describe('test-time flip', () => {
  const model = randomizedModel('hybridHash', options, { inputSize, seed: 3, testTimeFlip: true });
  const x = randomNormalBatch(n * inputSize * inputSize * 3, 4);

  it('mirrors each image along its width and nothing else', () => {
    const mirrored = mirroredBatch(batchOf(x), inputSize, 3);
    const expected = tf.tidy(() => tf.reverse(tf.tensor4d(x, [n, inputSize, inputSize, 3]), 2).dataSync());
    expect(Array.from(mirrored.x)).toEqual(Array.from(expected));
    expect(Array.from(mirroredBatch(mirrored, inputSize, 3).x)).toEqual(Array.from(x));
  });

  it('the tfjs encoder averages the network over the image and its mirror', async () => {
    const encode = inThreadEncoder(model);
    const outputs = await encode(batchOf(x));
    expect(maxAbsDiff(outputs, referenceMean(model, x))).toBeLessThan(1e-5);
    // The network alone is not mirror-invariant, so the mean is a different function.
    expect(maxAbsDiff(outputs, tfjsOutputs(model, x, n))).toBeGreaterThan(1e-2);
    const ofMirrors = await encode(mirroredBatch(batchOf(x), inputSize, 3));
    expect(Array.from(ofMirrors)).toEqual(Array.from(outputs));
  });

  it('the data-parallel engine encodes on its replicas with the same mean', async () => {
    const lossSpec = { name: 'csq', context: { bits: 16, numClasses: 4, seed: 3 } };
    const engine = await createStepEngine({
      workers: 2,
      backend: 'cpu',
      model,
      loss: createLoss(lossSpec.name, lossSpec.context),
      lossSpec,
      learningRate: 1e-3,
    });
    try {
      const outputs = await (await engine.encoder())(batchOf(x));
      expect(maxAbsDiff(outputs, referenceMean(model, x))).toBeLessThan(1e-5);
    } finally {
      await engine.dispose();
    }
  });

  it('the exported ONNX graph computes the same mean, and its card says so', async () => {
    const small = exportSmall(model);
    expect(small.card.output.testTimeFlip).toBe(true);
    const ops = decodeModel(small.onnx).graph!.node!.map((node) => node.opType);
    expect(ops).toContain('ReduceMean');
    const hasher = await openHasher(small.onnx, small.card);
    const expected = referenceMean(model, x);
    const actual = await hasher.outputs(x, n);
    const scale = Math.max(1, ...Array.from(expected, Math.abs));
    expect(maxAbsDiff(expected, actual)).toBeLessThan(1e-5 * scale);
    expect(signMismatches(expected, actual, 1e-5 * scale)).toBe(0);
    const mirrored = await hasher.outputs(mirroredBatch(batchOf(x), inputSize, 3).x, n);
    expect(maxAbsDiff(actual, mirrored)).toBeLessThan(1e-5 * scale);
  });

  it('quantizes to int8 with calibrated activations and runs mirror-invariant in ort-web, as at the edge', async () => {
    const small = exportSmall(model);
    const per = inputSize * inputSize * 3;
    const quantized = await quantizeModel(small.onnx, {
      calibration: { inputs: randomNormalBatch(32 * per, 9), count: 32 },
    });
    const dims = [n, inputSize, inputSize, 3];
    const web = await runInOrtWeb(quantized.onnx, 'image', 'hash', x, dims);
    const webMirrored = await runInOrtWeb(
      quantized.onnx,
      'image',
      'hash',
      mirroredBatch(batchOf(x), inputSize, 3).x,
      dims,
    );
    const scale = Math.max(1, ...Array.from(web, Math.abs));
    expect(maxAbsDiff(web, webMirrored)).toBeLessThan(1e-5 * scale);
    const float = referenceMean(model, x);
    expect(1 - signMismatches(float, web) / float.length).toBeGreaterThanOrEqual(0.9);
  });

  it('is off unless asked for: the plain model exports the network alone', async () => {
    const plain = exportSmall(randomizedModel('hybridHash', options, { inputSize, seed: 3 }));
    expect(plain.card.output.testTimeFlip).toBe(false);
    const hasher = await openHasher(plain.onnx, plain.card);
    expect(maxAbsDiff(await hasher.outputs(x, n), tfjsOutputs(model, x, n))).toBeLessThan(1e-4);
  });
});
