// cnnHash exported to ONNX runs in onnxruntime-node with the tfjs model's outputs and codes.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { normalizationTable, normalizeInto } from '../../../encoder/data/augment.js';
import { decodeModel } from '../../../encoder/export/onnxGraph.js';
import { OnnxHasher } from '../../../encoder/hash/onnxHasher.js';
import { packCodes } from '../../../schemas/codeTable.js';
import { ModelCard } from '../../../schemas/modelCard.js';
import { randomBytes } from '../../support/random.js';
import {
  exportSmall,
  hasherPool,
  maxAbsDiff,
  randomizedModel,
  randomNormalBatch,
  signMismatches,
  TEST_NORMALIZATION,
  tfjsOutputs,
} from './support.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const openHasher = hasherPool();
const hasherFor = (small: ReturnType<typeof exportSmall>) => openHasher(small.onnx, small.card);

const variants = [
  { name: 'two blocks, hidden layer, RGB', options: { widths: [4, 8], hidden: 16 }, inputSize: 16, channels: 3 },
  {
    name: 'odd size, gray, no hidden layer, dropout',
    options: { widths: [3, 5, 6], hidden: 0, dropout: 0.3 },
    inputSize: 15,
    channels: 1,
  },
  {
    name: 'linear outputs (DPN)',
    options: { widths: [4], hidden: 8, outputActivation: 'linear' },
    inputSize: 8,
    channels: 3,
  },
];

describe('cnnHash export', () => {
  for (const v of variants) {
    it(`matches tfjs on random inputs: ${v.name}`, async () => {
      const model = randomizedModel('cnnHash', v.options, {
        bits: 24,
        inputSize: v.inputSize,
        channels: v.channels,
        seed: 7,
      });
      const small = exportSmall(model);
      const hasher = await hasherFor(small);
      const n = 5;
      const batch = randomNormalBatch(n * hasher.imageBytes, 3);
      const expected = tfjsOutputs(model, batch, n);
      const actual = await hasher.outputs(batch, n);
      expect(actual.length).toBe(n * 24);
      expect(maxAbsDiff(expected, actual)).toBeLessThan(1e-4);
      expect(signMismatches(expected, actual, 1e-4)).toBe(0);
    });
  }

  it('folds every BatchNormalization into its convolution and transposes the input once', () => {
    const model = randomizedModel('cnnHash', { widths: [4, 8, 8], hidden: 16 }, { inputSize: 16 });
    const ops = decodeModel(exportSmall(model).onnx).graph!.node!.map((n) => n.opType);
    expect(ops.filter((o) => o === 'Conv')).toHaveLength(3);
    expect(ops).not.toContain('BatchNormalization');
    expect(ops.filter((o) => o === 'Transpose')).toHaveLength(1);
  });

  it('writes a dynamic batch dimension, opset 17 and the card names', () => {
    const small = exportSmall(randomizedModel('cnnHash', { widths: [4] }, { inputSize: 8 }));
    const model = decodeModel(small.onnx);
    expect(Number(model.opsetImport[0].version)).toBe(17);
    const input = model.graph!.input![0];
    expect(input.name).toBe(small.card.input.name);
    expect(input.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue))).toEqual(['N', 8, 8, 3]);
    expect(model.graph!.output![0].name).toBe(small.card.output.name);
    expect(ModelCard.parse(small.card)).toEqual(small.card);
    expect(small.card.onnx.bytes).toBe(small.onnx.length);
  });

  it('hashes uint8 pixels to the codes the training-time tfjs path gives', async () => {
    const model = randomizedModel('cnnHash', { widths: [4, 8], hidden: 16 }, { bits: 32, inputSize: 12, seed: 11 });
    const small = exportSmall(model);
    const hasher = await hasherFor(small);
    const n = 9;
    const pixels = randomBytes(n * hasher.imageBytes, 5);
    // Training-time preprocessing (encoder/data): the normalization lookup table over raw bytes.
    const batch = new Float32Array(pixels.length);
    normalizeInto(pixels, 0, batch, 0, pixels.length, 3, normalizationTable(TEST_NORMALIZATION, 3));
    const reference = tfjsOutputs(model, batch, n);
    const codes = await hasher.hashPixels(pixels, n);
    expect(codes.length).toBe((n * 32) / 8);
    const outputs = await hasher.outputs(batch, n);
    expect(Array.from(packCodes(outputs, 32))).toEqual(Array.from(codes));
    expect(signMismatches(reference, outputs, 1e-4)).toBe(0);
  });

  it('refuses a model whose bytes do not match the card, and batches of the wrong size', async () => {
    const small = exportSmall(randomizedModel('cnnHash', { widths: [4] }, { inputSize: 8 }));
    const tampered = small.onnx.slice();
    tampered[tampered.length - 1] ^= 1;
    await expect(OnnxHasher.create(tampered, small.card)).rejects.toThrow(/does not match its model card/);
    const hasher = await hasherFor(small);
    await expect(hasher.hashPixels(new Uint8Array(8 * 8 * 3 + 1), 1)).rejects.toThrow(RangeError);
    await expect(hasher.outputs(new Float32Array(8 * 8 * 3), 2)).rejects.toThrow(RangeError);
  });
});
