// The attention architectures (hybridHash in its variants) and every registered architecture export
// to ONNX and run in onnxruntime-node with the tfjs model's outputs.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeModel } from '../../../encoder/export/onnxGraph.js';
import { listArchitectures } from '../../../encoder/models/index.js';
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

async function expectParity(architecture: string, options: Record<string, unknown>, inputSize: number, channels = 3) {
  const model = randomizedModel(architecture, options, { bits: 16, inputSize, channels, seed: 5 });
  const small = exportSmall(model);
  const hasher = await openHasher(small.onnx, small.card);
  const n = 3;
  const batch = randomNormalBatch(n * hasher.imageBytes, 8);
  const expected = tfjsOutputs(model, batch, n);
  const actual = await hasher.outputs(batch, n);
  // Float32 rounding differences scale with the outputs (linear outputs reach the hundreds).
  const scale = Math.max(1, ...Array.from(expected, Math.abs));
  expect(maxAbsDiff(expected, actual)).toBeLessThan(1e-5 * scale);
  expect(signMismatches(expected, actual, 1e-5 * scale)).toBe(0);
  return small;
}

const small = { stemChannels: 4, widths: [8, 16], depths: [1, 1], heads: [2, 4] };

describe('hybridHash export', () => {
  it('global attention, position embedding, interaction convs, GELU MLP', async () => {
    const exported = await expectParity('hybridHash', small, 16);
    const ops = new Set(decodeModel(exported.onnx).graph!.node!.map((n) => n.opType));
    for (const op of ['MatMul', 'Softmax', 'LayerNormalization', 'Erf', 'Reshape', 'Transpose', 'Add', 'Conv']) {
      expect(ops, op).toContain(op);
    }
  });

  it('block-local attention on an 8 x 8 token grid in blocks of 4, gray input, two blocks per stage', async () => {
    await expectParity('hybridHash', { ...small, depths: [2, 1], blockSize: 4, stemStrides: 1 }, 16, 1);
  });

  it('pooled residual stem with its own widths and extra convs, odd input size (same-padded pools)', async () => {
    const exported = await expectParity(
      'hybridHash',
      { ...small, stemPool: true, stemWidths: [6, 8], stemDepth: 1, stemResidual: true },
      15,
    );
    const ops = decodeModel(exported.onnx).graph!.node!.map((n) => n.opType);
    expect(ops.filter((op) => op === 'MaxPool')).toHaveLength(2);
    const adds = decodeModel(exported.onnx).graph!.node!.filter(
      (n) => n.opType === 'Add' && n.name!.startsWith('stem_residual'),
    );
    expect(adds).toHaveLength(3);
  });

  it('without interaction and position embedding, linear outputs, odd input size', async () => {
    await expectParity(
      'hybridHash',
      { ...small, interaction: false, positionEmbedding: false, outputActivation: 'linear' },
      15,
    );
  });
});

describe('every architecture the encoder can train exports', () => {
  // Default options (dahNet: CBAM after every block; maSwin: shifted windows with channel attention;
  // vitHash: class token), linear outputs so that no tanh saturation hides a difference.
  const featureOps: Record<string, string[]> = {
    dahNet: ['GlobalMaxPool', 'ReduceMax', 'Sigmoid'],
    maSwin: ['Gather', 'Sigmoid', 'Softmax'],
    vitHash: ['Expand', 'Gather', 'Softmax'],
  };
  for (const architecture of listArchitectures()) {
    it(`${architecture} with its default options`, async () => {
      const exported = await expectParity(architecture, { outputActivation: 'linear' }, 16);
      const ops = new Set(decodeModel(exported.onnx).graph!.node!.map((n) => n.opType));
      for (const op of featureOps[architecture] ?? []) expect(ops, op).toContain(op);
    });
  }
});
