// Custom layers: numerical gradient checks, shapes, attention semantics, and config round trips.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ChannelAttention, SpatialAttention } from '../../../encoder/models/cbam.js';
import {
  ClassToken,
  FirstToken,
  LearnedPositionEmbedding,
  MultiHeadSelfAttention,
  shiftedWindowPlan,
} from '../../../encoder/models/layers.js';
import { checkLayerGradients } from './gradientCheck.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('MultiHeadSelfAttention', () => {
  it('passes a numerical gradient check for the input and all weights', () => {
    const layer = new MultiHeadSelfAttention({ dim: 4, heads: 2, seed: 3 });
    const x = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 7);
    const { relativeError } = checkLayerGradients(layer, x);
    expect(Object.keys(relativeError)).toHaveLength(5); // input + qkv kernel/bias + proj kernel/bias
    for (const [name, error] of Object.entries(relativeError)) expect(error, name).toBeLessThan(1e-2);
  });

  it('maps [N, T, C] to [N, T, C] and mixes information across tokens only within a sample', () => {
    const layer = new MultiHeadSelfAttention({ dim: 8, heads: 4, seed: 1 });
    const x = tf.randomNormal([3, 5, 8], 0, 1, 'float32', 2);
    const y = layer.apply(x) as tf.Tensor;
    expect(y.shape).toEqual([3, 5, 8]);
    expect(layer.computeOutputShape([null, 5, 8])).toEqual([null, 5, 8]);
    // Changing token 0 of sample 0 moves every token of sample 0 and leaves samples 1 and 2 alone.
    const bump = tf.tensor3d(
      Array.from({ length: 3 * 5 * 8 }, (_, i) => (i < 8 ? 1 : 0)),
      [3, 5, 8],
    );
    const y2 = layer.apply(tf.add(x, bump)) as tf.Tensor;
    const change = tf.sum(tf.abs(tf.sub(y2, y)), 2).arraySync() as number[][];
    expect(change[0].every((v) => v > 1e-4)).toBe(true);
    expect(change[1].concat(change[2]).every((v) => v === 0)).toBe(true);
  });

  it('is permutation-equivariant over tokens (no position information of its own)', () => {
    const layer = new MultiHeadSelfAttention({ dim: 4, heads: 1, seed: 5 });
    const x = tf.randomNormal([1, 4, 4], 0, 1, 'float32', 9);
    const order = tf.tensor1d([2, 0, 3, 1], 'int32');
    const permutedThenAttended = layer.apply(tf.gather(x, order, 1)) as tf.Tensor;
    const attendedThenPermuted = tf.gather(layer.apply(x) as tf.Tensor, order, 1);
    expect(tf.max(tf.abs(tf.sub(permutedThenAttended, attendedThenPermuted))).dataSync()[0]).toBeLessThan(1e-5);
  });

  it('block-local: passes a numerical gradient check on a 4 x 4 grid of 2 x 2 blocks', () => {
    const layer = new MultiHeadSelfAttention({ dim: 2, heads: 1, blockSize: 2, seed: 6 });
    const x = tf.randomNormal([2, 16, 2], 0, 1, 'float32', 8);
    const { relativeError } = checkLayerGradients(layer, x);
    for (const [name, error] of Object.entries(relativeError)) expect(error, name).toBeLessThan(1e-2);
  });

  it('block-local: equals global attention applied to each block on its own', () => {
    const blocked = new MultiHeadSelfAttention({ dim: 4, heads: 2, blockSize: 2, seed: 3 });
    const global = new MultiHeadSelfAttention({ dim: 4, heads: 2, seed: 99 });
    const grid = tf.randomNormal([2, 4, 4, 4], 0, 1, 'float32', 4); // [N, rows, cols, C]
    const y = blocked.apply(tf.reshape(grid, [2, 16, 4])) as tf.Tensor;
    global.apply(tf.zeros([1, 4, 4])); // build, then share the weights
    global.setWeights(blocked.getWeights());
    const yGrid = tf.reshape(y, [2, 4, 4, 4]);
    for (const [r, c] of [
      [0, 0],
      [0, 2],
      [2, 0],
      [2, 2],
    ]) {
      const block = tf.reshape(tf.slice(grid, [0, r, c, 0], [2, 2, 2, 4]), [2, 4, 4]);
      const expected = global.apply(block) as tf.Tensor;
      const actual = tf.reshape(tf.slice(yGrid, [0, r, c, 0], [2, 2, 2, 4]), [2, 4, 4]);
      expect(tf.max(tf.abs(tf.sub(actual, expected))).dataSync()[0]).toBeLessThan(1e-5);
    }
    expect(() => new MultiHeadSelfAttention({ dim: 4, heads: 1, blockSize: 3 }).apply(tf.zeros([1, 16, 4]))).toThrow(
      RangeError,
    );
  });

  it('round-trips its config and rejects a width not divisible by the heads', () => {
    const layer = new MultiHeadSelfAttention({ name: 'attn', dim: 8, heads: 2, seed: 4 });
    const config = layer.getConfig();
    expect(config).toMatchObject({ name: 'attn', dim: 8, heads: 2, seed: 4 });
    const copy = MultiHeadSelfAttention.fromConfig(MultiHeadSelfAttention, config) as MultiHeadSelfAttention;
    expect([copy.name, copy.dim, copy.heads, copy.seed]).toEqual(['attn', 8, 2, 4]);
    expect(tf.serialization.SerializationMap.getMap().classNameMap.MultiHeadSelfAttention).toBeDefined();
    expect(() => new MultiHeadSelfAttention({ dim: 6, heads: 4 })).toThrow(RangeError);
  });
});

describe('LearnedPositionEmbedding', () => {
  it('passes a numerical gradient check for the input and the table', () => {
    const layer = new LearnedPositionEmbedding({ tokens: 3, dim: 2, seed: 2 });
    const x = tf.randomNormal([2, 3, 2], 0, 1, 'float32', 3);
    const { relativeError } = checkLayerGradients(layer, x);
    expect(Object.keys(relativeError)).toHaveLength(2);
    for (const [name, error] of Object.entries(relativeError)) expect(error, name).toBeLessThan(1e-2);
  });

  it('adds the same table to every sample and checks the token count', () => {
    const layer = new LearnedPositionEmbedding({ tokens: 3, dim: 2, seed: 2 });
    const y = layer.apply(tf.zeros([2, 3, 2])) as tf.Tensor;
    const [a, b] = tf.unstack(y);
    expect(a.arraySync()).toEqual(b.arraySync());
    expect(tf.sum(tf.abs(a)).dataSync()[0]).toBeGreaterThan(0);
    expect(() => new LearnedPositionEmbedding({ tokens: 4, dim: 2 }).apply(tf.zeros([1, 3, 2]))).toThrow(RangeError);
    expect(layer.getConfig()).toMatchObject({ tokens: 3, dim: 2, seed: 2 });
  });
});

describe('ClassToken and FirstToken', () => {
  it('prepend one learned token and take it back out, with checked gradients', () => {
    const layer = new ClassToken({ dim: 4, seed: 2 });
    const x = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 5);
    const y = layer.apply(x) as tf.Tensor;
    expect(y.shape).toEqual([2, 4, 4]);
    expect(layer.computeOutputShape([null, 3, 4])).toEqual([null, 4, 4]);
    // Tokens 1..3 are the input unchanged; token 0 is the same learned vector for every sample.
    expect(tf.slice(y, [0, 1, 0], [-1, 3, -1]).arraySync()).toEqual(x.arraySync());
    const first = new FirstToken({}).apply(y) as tf.Tensor;
    expect(first.shape).toEqual([2, 4]);
    const rows = first.arraySync() as number[][];
    expect(rows[0]).toEqual(rows[1]);
    const { relativeError } = checkLayerGradients(layer, x);
    expect(Object.keys(relativeError)).toHaveLength(2);
    for (const [name, error] of Object.entries(relativeError)) expect(error, name).toBeLessThan(1e-2);
  });
});

describe('CBAM attention (DAH)', () => {
  it.each([
    ['ChannelAttention', () => new ChannelAttention({ reduction: 2, seed: 3 }), 5],
    ['SpatialAttention', () => new SpatialAttention({ kernelSize: 3, seed: 3 }), 3],
  ] as const)('%s passes a numerical gradient check and keeps the shape', (_, make, tensors) => {
    const layer = make();
    const x = tf.randomNormal([2, 4, 4, 4], 0, 1, 'float32', 11);
    expect((layer.apply(x) as tf.Tensor).shape).toEqual([2, 4, 4, 4]);
    const { relativeError } = checkLayerGradients(layer, x);
    expect(Object.keys(relativeError)).toHaveLength(tensors);
    for (const [name, error] of Object.entries(relativeError)) expect(error, name).toBeLessThan(1e-2);
  });

  it('ChannelAttention scales whole channels and SpatialAttention whole positions, by factors in (0, 1)', () => {
    const x = tf.onesLike(tf.randomNormal([1, 3, 3, 4], 0, 1, 'float32', 1));
    const channel = new ChannelAttention({ reduction: 2, seed: 4 }).apply(x) as tf.Tensor4D;
    const perChannel = tf.moments(channel, [0, 1, 2]);
    expect(Math.max(...perChannel.variance.dataSync())).toBeLessThan(1e-12);
    const spatial = new SpatialAttention({ kernelSize: 3, seed: 4 }).apply(x) as tf.Tensor4D;
    const perPosition = tf.moments(spatial, [3]);
    expect(Math.max(...perPosition.variance.dataSync())).toBeLessThan(1e-12);
    for (const y of [channel, spatial]) {
      const values = Array.from(y.dataSync());
      expect(values.every((v) => v > 0 && v < 1)).toBe(true);
    }
  });
});

describe('MultiHeadSelfAttention with shifted windows and mixed (channel) attention (MA-Swin)', () => {
  it('passes a numerical gradient check for the input and all weights', () => {
    const layer = new MultiHeadSelfAttention({
      dim: 4,
      heads: 2,
      blockSize: 2,
      shift: 1,
      channelReduction: 2,
      seed: 3,
    });
    const x = tf.randomNormal([1, 16, 4], 0, 1, 'float32', 7);
    const { relativeError } = checkLayerGradients(layer, x);
    expect(Object.keys(relativeError)).toHaveLength(9); // input + qkv, proj, and two channel layers
    for (const [name, error] of Object.entries(relativeError)) expect(error, name).toBeLessThan(1e-2);
  });

  /** |change| of every output token when input token `at` of a 4x4 grid moves. */
  function influence(layer: MultiHeadSelfAttention, at: number): number[] {
    const x = tf.randomNormal([1, 16, 4], 0, 1, 'float32', 4);
    const bump = tf.tensor3d(
      Array.from({ length: 64 }, (_, i) => (Math.floor(i / 4) === at ? 1 : 0)),
      [1, 16, 4],
    );
    const change = tf.sum(tf.abs(tf.sub(layer.apply(tf.add(x, bump)) as tf.Tensor, layer.apply(x) as tf.Tensor)), 2);
    return Array.from(change.dataSync());
  }

  it('shifting lets neighbouring windows talk, and masks tokens the roll wrapped together', () => {
    const plain = new MultiHeadSelfAttention({ dim: 4, heads: 1, blockSize: 2, seed: 5 });
    const shifted = new MultiHeadSelfAttention({ dim: 4, heads: 1, blockSize: 2, shift: 1, seed: 5 });
    const token = (r: number, c: number) => r * 4 + c;
    // (1, 1) and (2, 2) sit in different 2x2 windows, but in one window after a shift by 1.
    expect(influence(plain, token(1, 1))[token(2, 2)]).toBe(0);
    expect(influence(shifted, token(1, 1))[token(2, 2)]).toBeGreaterThan(1e-4);
    // (0, 0) wraps around into the window of (3, 3): they share a window but not a region.
    expect(influence(shifted, token(0, 0))[token(3, 3)]).toBeLessThan(1e-6);
    expect(influence(shifted, token(0, 0))[token(0, 0)]).toBeGreaterThan(1e-4);
  });

  it('shiftedWindowPlan: roll and unroll are inverse permutations; masks are symmetric with a zero diagonal', () => {
    const plan = shiftedWindowPlan(4, 2, 1);
    const roll = Array.from(plan.roll.dataSync());
    const unroll = Array.from(plan.unroll.dataSync());
    expect(roll.map((source) => unroll[source])).toEqual(Array.from({ length: 16 }, (_, i) => i));
    const mask = plan.mask.arraySync();
    expect(mask).toHaveLength(4);
    for (const m of mask) {
      m.forEach((row, i) => {
        expect(row[i]).toBe(0);
        for (const [j, v] of row.entries()) expect(v).toBe(m[j][i]);
      });
    }
    // Window 0 holds one region (nothing masked); the last window holds four.
    expect(mask[0].flat().every((v) => v === 0)).toBe(true);
    expect(mask[3].flat().filter((v) => v === 0)).toHaveLength(4);
  });

  it('rejects a shift without blocks or not below the block size', () => {
    expect(() => new MultiHeadSelfAttention({ dim: 4, heads: 1, shift: 1 })).toThrow(RangeError);
    expect(() => new MultiHeadSelfAttention({ dim: 4, heads: 1, blockSize: 2, shift: 2 })).toThrow(RangeError);
  });
});
