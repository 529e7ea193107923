// The model registry: every architecture builds at 32 px, give [N, bits] outputs in [-1, 1], save and
// load with their custom layers, and reject bad configs.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createModel,
  type HashModelConfig,
  listArchitectures,
  type MultiHeadSelfAttention,
  resolveHybridHashOptions,
} from '../../../encoder/models/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const base = { bits: 16, inputSize: 32, channels: 3, numClasses: 10, seed: 1 } satisfies Omit<
  HashModelConfig,
  'architecture'
>;
/** A small hybrid so the checks stay fast on a shared CPU. */
const smallHybrid = { stemChannels: 8, widths: [16, 32], depths: [1, 1], heads: [2, 2], mlpRatio: 2 };

function outputRange(y: tf.Tensor): [number, number] {
  return [tf.min(y).dataSync()[0], tf.max(y).dataSync()[0]];
}

describe('createModel', () => {
  it('lists the architectures', () => {
    expect(listArchitectures()).toEqual(['cnnHash', 'dahNet', 'hybridHash', 'maSwin', 'vitHash']);
    expect(() => createModel({ ...base, architecture: 'resnet9000' })).toThrow(/unknown architecture/);
  });

  it.each(['hybridHash', 'cnnHash', 'vitHash', 'dahNet', 'maSwin'])(
    'builds %s with its defaults at 32 px: [N, bits] in [-1, 1]',
    (architecture) => {
      const model = createModel({ ...base, architecture });
      expect(model.config.architecture).toBe(architecture);
      expect(model.net.inputs[0].shape).toEqual([null, 32, 32, 3]);
      const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 3);
      const y = model.net.predict(x) as tf.Tensor;
      expect(y.shape).toEqual([2, 16]);
      const [lo, hi] = outputRange(y);
      expect(lo).toBeGreaterThanOrEqual(-1);
      expect(hi).toBeLessThanOrEqual(1);
      expect(hi - lo).toBeGreaterThan(0);
      console.log(`${architecture} default parameters at 32 px, 16 bits: ${model.net.countParams()}`);
      tf.dispose([x, y]);
      model.net.dispose();
    },
  );

  it('is reproducible from the seed and differs across seeds', () => {
    const x = tf.randomNormal([1, 16, 16, 3], 0, 1, 'float32', 4);
    const run = (seed: number) => {
      const m = createModel({ ...base, inputSize: 16, seed, architecture: 'hybridHash', options: smallHybrid });
      const y = Array.from((m.net.predict(x) as tf.Tensor).dataSync());
      m.net.dispose();
      return y;
    };
    expect(run(5)).toEqual(run(5));
    expect(run(5)).not.toEqual(run(6));
  });

  it('gives raw outputs with outputActivation linear (for DPN)', () => {
    const model = createModel({
      ...base,
      architecture: 'cnnHash',
      options: { outputActivation: 'linear', widths: [4, 8] },
    });
    const x = tf.mul(tf.randomNormal([4, 32, 32, 3], 0, 1, 'float32', 3), 50);
    const [lo, hi] = outputRange(model.net.predict(x) as tf.Tensor);
    expect(Math.max(-lo, hi)).toBeGreaterThan(1);
  });

  it('hybridHash: three stages, token grids halve, widths rise', () => {
    const model = createModel({
      ...base,
      architecture: 'hybridHash',
      options: { stemChannels: 8, widths: [8, 16, 32], depths: [1, 1, 1], heads: [1, 2, 4], mlpRatio: 1 },
    });
    const shapes = ['stage1_to_tokens', 'stage2_to_tokens', 'stage3_to_tokens'].map(
      (name) => model.net.getLayer(name).outputShape,
    );
    expect(shapes).toEqual([
      [null, 64, 8],
      [null, 16, 16],
      [null, 4, 32],
    ]);
  });

  it('hybridHash stemDepth adds stride-1 convs at each stem resolution and keeps the stride-2 path', () => {
    const deep = createModel({ ...base, architecture: 'hybridHash', options: { ...smallHybrid, stemDepth: 2 } });
    const sides = ['stem_conv0_1', 'stem_conv0_2', 'stem_conv1_1', 'stem_conv2_2'].map(
      (name) => deep.net.getLayer(name).outputShape,
    );
    expect(sides).toEqual([
      [null, 32, 32, 8],
      [null, 32, 32, 8],
      [null, 16, 16, 16],
      [null, 8, 8, 16],
    ]);
    const shallow = createModel({ ...base, architecture: 'hybridHash', options: smallHybrid });
    const stemConvs = (m: typeof deep) => m.net.layers.filter((l) => l.name.startsWith('stem_conv')).length;
    expect([stemConvs(shallow), stemConvs(deep)]).toEqual([3, 9]);
    expect(() => resolveHybridHashOptions({ stemDepth: -1 })).toThrow();
  });

  it('hybridHash stemResidual adds each stem step input to its stride-1 convs, and needs stemDepth', () => {
    const options = { ...smallHybrid, stemDepth: 2, stemResidual: true };
    const residual = createModel({ ...base, architecture: 'hybridHash', options });
    const adds = residual.net.layers.filter((l) => l.name.startsWith('stem_residual'));
    expect(adds.map((l) => [l.name, l.outputShape])).toEqual([
      ['stem_residual0', [null, 32, 32, 8]],
      ['stem_residual1', [null, 16, 16, 16]],
      ['stem_residual2', [null, 8, 8, 16]],
    ]);
    const inbound = (name: string) =>
      (
        residual.net.getLayer(name) as unknown as { inboundNodes: { inboundLayers: { name: string }[] }[] }
      ).inboundNodes[0].inboundLayers.map((l) => l.name);
    expect(inbound('stem_residual1')).toEqual(['stem_relu1', 'stem_relu1_2']);
    // Same weights as the plain deep stem (the add has none), a different function.
    const plain = createModel({ ...base, architecture: 'hybridHash', options: { ...options, stemResidual: false } });
    expect(residual.net.countParams()).toBe(plain.net.countParams());
    plain.net.setWeights(residual.net.getWeights());
    const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 4);
    const diff = tf.tidy(
      () =>
        (residual.net.predict(x) as tf.Tensor)
          .sub(plain.net.predict(x) as tf.Tensor)
          .abs()
          .max()
          .dataSync()[0],
    );
    expect(diff).toBeGreaterThan(1e-3);
    const shallow = createModel({
      ...base,
      architecture: 'hybridHash',
      options: { ...smallHybrid, stemResidual: true },
    });
    expect(shallow.net.layers.some((l) => l.name.startsWith('stem_residual'))).toBe(false);
  });

  it('hybridHash stemPool downsamples with max-pools through the stemWidths', () => {
    const pooled = createModel({
      ...base,
      architecture: 'hybridHash',
      options: { ...smallHybrid, stemPool: true, stemWidths: [12, 16] },
    });
    expect(['stem_pool1', 'stem_pool2', 'stage1_to_tokens'].map((n) => pooled.net.getLayer(n).outputShape)).toEqual([
      [null, 16, 16, 12],
      [null, 8, 8, 16],
      [null, 64, 16],
    ]);
    expect(pooled.net.getLayer('stem_conv1').outputShape).toEqual([null, 32, 32, 12]);
    expect(() => resolveHybridHashOptions({ ...smallHybrid, stemWidths: [12, 12] })).toThrow(RangeError);
    expect(() => resolveHybridHashOptions({ ...smallHybrid, stemWidths: [16] })).toThrow(RangeError);
  });

  it('hybridHash with NesT-style block-local attention builds and runs', () => {
    const model = createModel({
      ...base,
      architecture: 'hybridHash',
      options: { ...smallHybrid, stemStrides: 1, blockSize: 4 }, // stage grids 16 and 8: blocks of 4 in both
    });
    const layer = model.net.getLayer('stage1_block1_attention') as MultiHeadSelfAttention;
    expect(layer.blockSize).toBe(4);
    const y = model.net.predict(tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 2)) as tf.Tensor;
    expect(y.shape).toEqual([2, 16]);
    expect(() =>
      createModel({ ...base, architecture: 'hybridHash', options: { ...smallHybrid, blockSize: 3 } }),
    ).toThrow(RangeError);
  });

  it.each([
    ['hybridHash', smallHybrid],
    ['vitHash', { width: 16, depth: 1, heads: 2 }],
    ['dahNet', { widths: [8, 16], hidden: 0 }],
    ['maSwin', { widths: [8, 16], depths: [2, 1], heads: [2, 2], window: 2 }],
  ] as const)('%s saves and loads with its custom layers, giving the same outputs', async (architecture, options) => {
    const model = createModel({ ...base, inputSize: 16, architecture, options });
    let saved: tf.io.ModelArtifacts | undefined;
    await model.net.save(
      tf.io.withSaveHandler(async (artifacts) => {
        saved = artifacts;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved!));
    const x = tf.randomNormal([2, 16, 16, 3], 0, 1, 'float32', 8);
    const a = model.net.predict(x) as tf.Tensor;
    const b = loaded.predict(x) as tf.Tensor;
    expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBeLessThan(1e-6);
  });

  it('maSwin switches its channel attention off for the ablation (fewer weights, same shapes)', () => {
    const build = (channelAttention: boolean) =>
      createModel({
        ...base,
        architecture: 'maSwin',
        options: { widths: [8, 16], depths: [2, 1], heads: [2, 2], channelAttention },
      });
    const [mixed, plain] = [build(true), build(false)];
    expect(plain.net.countParams()).toBeLessThan(mixed.net.countParams());
    expect(plain.net.outputs[0].shape).toEqual(mixed.net.outputs[0].shape);
    mixed.net.dispose();
    plain.net.dispose();
  });

  it('rejects inconsistent options', () => {
    expect(() => resolveHybridHashOptions({ widths: [16, 32], depths: [1], heads: [2, 2] })).toThrow(RangeError);
    expect(() => resolveHybridHashOptions({ widths: [18], depths: [1], heads: [4] })).toThrow(RangeError);
    expect(() => resolveHybridHashOptions({ interaction: 'yes' })).toThrow(TypeError);
    expect(() => createModel({ ...base, bits: 0, architecture: 'cnnHash' })).toThrow(RangeError);
  });
});
