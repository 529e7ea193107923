// int8 QDQ quantization: per-channel symmetric weights, optional static activation calibration; the
// quantized models run in onnxruntime-node and onnxruntime-web with the same outputs and stay close
// to the float model.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DataType, decodeModel, initializerValues } from '../../../encoder/export/onnxGraph.js';
import { quantizeModel, quantizePerChannel } from '../../../encoder/export/quantize.js';
import { runInOrtWeb } from '../../../encoder/hash/webRuntime.js';
import { listArchitectures } from '../../../encoder/models/index.js';
import type { ModelCard } from '../../../schemas/modelCard.js';
import {
  cardOf,
  exportSmall,
  hasherPool,
  maxAbsDiff,
  randomizedModel,
  randomNormalBatch,
  type SmallModel,
  signMismatches,
  staticInt8Small,
} from './support.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const openHasher = hasherPool();

const hasher = (onnx: Uint8Array, small: SmallModel, quantization?: ModelCard['quantization']) =>
  openHasher(onnx, cardOf(small, onnx, quantization));

describe('quantizePerChannel', () => {
  it('gives each output channel its own scale, maps its largest magnitude to +-127 and rounds within half a step', () => {
    // [K = 3, N = 2]: output channels on axis 1.
    const w = Float32Array.of(0.5, -4, -1, 2, 0.25, 1);
    const { q, scales } = quantizePerChannel(w, [3, 2], 1);
    expect(Array.from(scales)).toEqual([Math.fround(1 / 127), Math.fround(4 / 127)]);
    expect(q[2]).toBe(-127);
    expect(q[1]).toBe(-127);
    for (let i = 0; i < w.length; i++)
      expect(Math.abs(q[i] * scales[i % 2] - w[i])).toBeLessThanOrEqual(scales[i % 2] / 2);
    // Axis 0 of [O = 2, I = 3]; an all-zero channel keeps scale 1 and zeros.
    const conv = quantizePerChannel(Float32Array.of(0, 0, 0, 1, -2, 0.5), [2, 3], 0);
    expect(Array.from(conv.q)).toEqual([0, 0, 0, 64, -127, 32]);
    expect(conv.scales[0]).toBe(1);
  });
});

const architectures = [
  { architecture: 'cnnHash', options: { widths: [8, 16], hidden: 32 }, minAgreement: 0.99 },
  {
    architecture: 'hybridHash',
    options: { stemChannels: 4, widths: [8, 16], depths: [1, 1], heads: [2, 4] },
    minAgreement: 0.97,
  },
];

describe.each(architectures)('$architecture int8', ({ architecture, options, minAgreement }) => {
  const n = 48;
  let small: SmallModel;
  let batch: Float32Array;
  let reference: Float32Array;
  const per = 16 * 16 * 3;

  beforeAll(async () => {
    small = exportSmall(randomizedModel(architecture, options, { bits: 64, inputSize: 16, seed: 5 }));
    batch = randomNormalBatch(n * per, 8);
    reference = await (await hasher(small.onnx, small)).outputs(batch, n);
  });

  it('float model: same outputs in ort-web as in ort-node', async () => {
    const web = await runInOrtWeb(small.onnx, 'image', 'hash', batch, [n, 16, 16, 3]);
    expect(maxAbsDiff(reference, web)).toBeLessThan(1e-4);
    expect(signMismatches(reference, web, 1e-4)).toBe(0);
  });

  for (const activations of ['float32', 'int8-static'] as const) {
    it(`${activations} activations: int8 weights, close to float, same outputs in ort-node and ort-web`, async () => {
      const calibration =
        activations === 'int8-static' ? { inputs: randomNormalBatch(96 * per, 9), count: 96 } : undefined;
      const quantized = await quantizeModel(small.onnx, { calibration });
      expect(quantized.quantization).toEqual({
        weights: activations === 'int8-static' ? 'uint8-per-channel-symmetric' : 'int8-per-channel-symmetric',
        activations,
        calibrationImages: calibration?.count ?? 0,
      });
      const graph = decodeModel(quantized.onnx).graph!;
      const ops = graph.node!.map((x) => x.opType);
      expect(ops.includes('QuantizeLinear')).toBe(activations === 'int8-static');
      // Every weight tensor of Conv/Gemm/MatMul is int8 now: no float tensor of rank >= 2 is left.
      const floatMatrices = graph.initializer!.filter((t) => t.dataType === DataType.FLOAT && t.dims!.length >= 2);
      expect(floatMatrices.map((t) => t.name)).toEqual(architecture === 'hybridHash' ? ['stage1_position_table'] : []);
      // Weights keep +-127 levels; under int8 activations they are stored as uint8 around zero point 128,
      // so x86 kernels without VNNI do not saturate (cpuParity.test.ts).
      const weightType = activations === 'int8-static' ? DataType.UINT8 : DataType.INT8;
      const levels = graph
        .initializer!.filter((t) => t.dataType === weightType && t.dims!.length >= 2)
        .flatMap((t) => Array.from(initializerValues(t), (v) => (weightType === DataType.UINT8 ? v - 128 : v)));
      expect(Math.min(...levels)).toBeGreaterThanOrEqual(-127);
      expect(Math.max(...levels.map(Math.abs))).toBe(127);
      expect(graph.initializer!.some((t) => t.dataType === DataType.INT8 && t.dims!.length >= 2)).toBe(
        activations === 'float32',
      );

      const int8 = await hasher(quantized.onnx, small, quantized.quantization);
      const node = await int8.outputs(batch, n);
      expect(maxAbsDiff(reference, node)).toBeGreaterThan(0); // it did change the arithmetic
      expect(1 - signMismatches(reference, node) / reference.length).toBeGreaterThanOrEqual(minAgreement);
      const web = await runInOrtWeb(quantized.onnx, 'image', 'hash', batch, [n, 16, 16, 3]);
      expect(maxAbsDiff(node, web)).toBeLessThan(1e-4);
      expect(signMismatches(node, web, 1e-4)).toBe(0);
    });
  }

  it('percentile calibration clips ranges and still agrees with float', async () => {
    const calibration = {
      inputs: randomNormalBatch(96 * per, 9),
      count: 96,
      method: 'percentile' as const,
      percentile: 0.999,
    };
    const quantized = await quantizeModel(small.onnx, { calibration });
    const minmax = await quantizeModel(small.onnx, { calibration: { ...calibration, method: 'minmax' } });
    expect(quantized.onnx).not.toEqual(minmax.onnx);
    const node = await (await hasher(quantized.onnx, small, quantized.quantization)).outputs(batch, n);
    expect(1 - signMismatches(reference, node) / reference.length).toBeGreaterThanOrEqual(minAgreement);
  });
});

describe('quantizeModel', () => {
  it('rejects calibration images of the wrong size', async () => {
    const small = exportSmall(randomizedModel('cnnHash', { widths: [4] }, { inputSize: 8 }));
    await expect(
      quantizeModel(small.onnx, { calibration: { inputs: new Float32Array(10), count: 1 } }),
    ).rejects.toThrow(/expected 1 images of 192 values/);
  });
});

describe('every architecture quantizes', () => {
  for (const architecture of listArchitectures()) {
    it(`${architecture}: static int8 runs in ort-node and ort-web with the same outputs`, async () => {
      const { onnx, card } = await staticInt8Small(architecture);
      const batch = randomNormalBatch(4 * 16 * 16 * 3, 6);
      const node = await (await openHasher(onnx, card)).outputs(batch, 4);
      const web = await runInOrtWeb(onnx, 'image', 'hash', batch, [4, 16, 16, 3]);
      expect(maxAbsDiff(node, web)).toBeLessThan(1e-4);
    });
  }
});
