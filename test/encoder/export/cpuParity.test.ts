// Static int8 models compute the same outputs on every x86 CPU: here the host's onnxruntime-node
// against the same hasher on an emulated Haswell (AVX2 without VNNI, whose uint8 x int8 kernels add
// pairs of products in saturating int16). A collection encoded on one machine must match queries
// hashed on another; int8-stored weights broke that (on a CI host without VNNI, quantize.test.ts saw
// cnnHash's outputs 0.69 apart from onnxruntime-web's), so under int8 activations the quantizer stores
// weights as uint8 around zero point 128.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModelCard } from '../../../encoder/export/modelCard.js';
import { encodeModel, OnnxGraph } from '../../../encoder/export/onnxGraph.js';
import { listArchitectures } from '../../../encoder/models/index.js';
import type { ModelCard } from '../../../schemas/modelCard.js';
import { outputsOnEmulatedCpu } from '../../support/emulatedCpu.js';
import { hasherPool, maxAbsDiff, randomNormalBatch, signMismatches, staticInt8Small } from './support.js';

const CPU = 'Haswell';
const openHasher = hasherPool();

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/**
 * x [n, 8, 8, 1] -> uint8 (scale 1) -> MatMul with a [64, 8] weight whose every level is +127, stored
 * as int8 or as uint8 around zero point 128: each output is exactly 64 * x * 127 unless the kernel
 * saturates.
 */
function saturationProbe(storage: 'int8' | 'uint8'): { onnx: Uint8Array; card: ModelCard } {
  const g = new OnnxGraph();
  const image = g.input('image', ['n', 8, 8, 1]);
  g.reserve('hash');
  const scale = g.initializer('scale', Float32Array.of(1), []);
  const flat = g.op('Reshape', [image, g.int64s('shape', [-1, 64])]);
  const xZero = g.initializer('x_zero', Uint8Array.of(0), []);
  const xDq = g.op('DequantizeLinear', [g.op('QuantizeLinear', [flat, scale, xZero]), scale, xZero]);
  const [w, zero] =
    storage === 'int8'
      ? [new Int8Array(64 * 8).fill(127), Int8Array.of(0)]
      : [new Uint8Array(64 * 8).fill(255), Uint8Array.of(128)];
  const wDq = g.op('DequantizeLinear', [g.initializer('w', w, [64, 8]), scale, g.initializer('w_zero', zero, [])]);
  g.output('hash', ['n', 8], g.op('MatMul', [xDq, wDq]));
  const onnx = encodeModel(g.toModel('saturation-probe'));
  const card = buildModelCard({
    modelId: 'saturation-probe',
    config: { architecture: 'cnnHash', bits: 8, inputSize: 8, channels: 1, numClasses: 2, options: {}, seed: 0 },
    onnx: { bytes: onnx, inputName: 'image', outputName: 'hash', opset: 17 },
    normalization: { mean: [0], std: [1] },
    quantization: { weights: `${storage}-per-channel-symmetric`, activations: 'int8-static', calibrationImages: 0 },
  });
  return { onnx, card };
}

describe(`onnxruntime-node on an emulated ${CPU}`, () => {
  it('saturates uint8 x int8 products and not uint8 x uint8 ones (the probe sees the hazard)', async () => {
    const batch = new Float32Array(64).fill(255);
    const exact = 64 * 255 * 127;
    const int8 = saturationProbe('int8');
    expect(Math.max(...(await outputsOnEmulatedCpu(CPU, int8.onnx, int8.card, batch, 1)))).toBeLessThan(exact);
    const uint8 = saturationProbe('uint8');
    const emulated = await outputsOnEmulatedCpu(CPU, uint8.onnx, uint8.card, batch, 1);
    expect(Array.from(emulated)).toEqual(new Array(8).fill(exact));
  });

  for (const architecture of listArchitectures()) {
    it(`${architecture}: static int8 gives the host's outputs`, async () => {
      const { onnx, card } = await staticInt8Small(architecture);
      const n = 16;
      const batch = randomNormalBatch(n * 16 * 16 * 3, 6);
      const host = await (await openHasher(onnx, card)).outputs(batch, n);
      const emulated = await outputsOnEmulatedCpu(CPU, onnx, card, batch, n);
      expect(maxAbsDiff(host, emulated)).toBeLessThan(1e-4);
      expect(signMismatches(host, emulated, 1e-4)).toBe(0);
    });
  }
});
