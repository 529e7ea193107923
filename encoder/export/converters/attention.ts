// Converters for the encoder's own token layers (encoder/models/layers.ts), op for op as their call()
// computes them, with the batch dimension left dynamic (-1 in every Reshape): multi-head
// self-attention (global, block-local, shifted windows, mixed channel attention), learned positions,
// the class token and its read-out.
import * as tf from '@tensorflow/tfjs';
import { type MultiHeadSelfAttention, shiftedWindowPlan } from '../../models/layers.js';
import type { ConvertContext, LayerConverter } from '../tfjsToOnnx.js';
import { scalar } from './standard.js';

/** x @ kernel + bias with the layer's weights `<kernel>` and `<bias>` (Gemm for 2-D x, MatMul + Add otherwise). */
export function affine(
  ctx: ConvertContext,
  layer: tf.layers.Layer,
  x: string,
  rank: number,
  weights: [kernel: string, bias: string],
  output: string,
): string {
  const g = ctx.graph;
  const kernel = ctx.weight(layer, weights[0]);
  const bias = ctx.weight(layer, weights[1]);
  const w = g.initializer(`${layer.name}_${weights[0]}`, kernel.values, kernel.shape);
  const b = g.initializer(`${layer.name}_${weights[1]}`, bias.values, bias.shape);
  if (rank === 2) return g.op('Gemm', [x, w, b], {}, output);
  return g.op('Add', [g.op('MatMul', [x, w], {}, `${output}_matmul`), b], {}, output);
}

const learnedPositionEmbedding: LayerConverter = (ctx, layer, [value], outputShape) => {
  const input = ctx.channelsLast(value);
  const table = ctx.weight(layer, 'table');
  const g = ctx.graph;
  const tableName = g.initializer(`${layer.name}_table`, table.values, table.shape);
  return { name: g.op('Add', [input.name, tableName], {}, layer.name), shape: outputShape, layout: 'channelsLast' };
};

const classToken: LayerConverter = (ctx, layer, [value], outputShape) => {
  const input = ctx.channelsLast(value);
  const token = ctx.weight(layer, 'token'); // [1, 1, C]
  const g = ctx.graph;
  const base = layer.name;
  // [N, 1, C]: the token expanded to the batch, N read from the input's shape.
  const batch = g.op(
    'Slice',
    [
      g.op('Shape', [input.name], {}, `${base}_input_shape`),
      g.int64s(`${base}_start`, [0]),
      g.int64s(`${base}_end`, [1]),
    ],
    {},
    `${base}_batch`,
  );
  const shape = g.op(
    'Concat',
    [batch, g.int64s(`${base}_token_dims`, [1, token.shape[2]])],
    { axis: 0 },
    `${base}_shape`,
  );
  const tokens = g.op(
    'Expand',
    [g.initializer(`${base}_token`, token.values, token.shape), shape],
    {},
    `${base}_tokens`,
  );
  return { name: g.op('Concat', [tokens, input.name], { axis: 1 }, base), shape: outputShape, layout: 'channelsLast' };
};

const firstToken: LayerConverter = (ctx, layer, [value], outputShape) => {
  const input = ctx.channelsLast(value);
  const g = ctx.graph;
  const index = g.initializer(`${layer.name}_index`, BigInt64Array.of(0n), []);
  return {
    name: g.op('Gather', [input.name, index], { axis: 1 }, layer.name),
    shape: outputShape,
    layout: 'channelsLast',
  };
};

const multiHeadSelfAttention: LayerConverter = (ctx, layer, [value], outputShape) => {
  const attention = layer as unknown as MultiHeadSelfAttention & tf.layers.Layer;
  const input = ctx.channelsLast(value);
  const g = ctx.graph;
  const base = layer.name;
  const t = input.shape[1] as number;
  const c = attention.dim;
  const h = attention.heads;
  const d = c / h;
  const b = attention.blockSize;
  const reshape = (x: string, shape: number[], suffix: string) =>
    g.op('Reshape', [x, g.int64s(`${base}_${suffix}_shape`, shape)], {}, `${base}_${suffix}`);
  const transpose = (x: string, perm: number[], suffix: string) =>
    g.op('Transpose', [x], { perm }, `${base}_${suffix}`);
  const gatherTokens = (x: string, order: Int32Array, suffix: string) =>
    g.op(
      'Gather',
      [x, g.initializer(`${base}_${suffix}_order`, BigInt64Array.from(order, BigInt), [order.length])],
      { axis: 1 },
      `${base}_${suffix}`,
    );

  const grid = Math.round(Math.sqrt(t));
  // Shifted windows: the token permutations and the mask, exactly as the layer builds them.
  let plan: { roll: Int32Array; unroll: Int32Array; mask: Float32Array; windows: number } | undefined;
  if (attention.shift > 0) {
    const tensors = shiftedWindowPlan(grid, b!, attention.shift);
    plan = {
      roll: tensors.roll.dataSync() as Int32Array,
      unroll: tensors.unroll.dataSync() as Int32Array,
      mask: tensors.mask.dataSync() as Float32Array,
      windows: tensors.mask.shape[0],
    };
    tf.dispose([tensors.roll, tensors.unroll, tensors.mask]);
  }

  let x = plan ? gatherTokens(input.name, plan.roll, 'rolled') : input.name;
  let tokens = t;
  if (b !== undefined) {
    // [N, G*G, C] -> [N * (G/b)^2, b*b, C], one row per block (as toBlocks).
    const rows = reshape(x, [-1, b, grid / b, b * c], 'block_rows');
    x = reshape(transpose(rows, [0, 2, 1, 3], 'block_cols'), [-1, b * b, c], 'blocks');
    tokens = b * b;
  }
  const qkv = affine(ctx, layer, x, 3, ['qkv_kernel', 'qkv_bias'], `${base}_qkv`);
  // [B, T, 3C] -> [3, B, h, T, d]: q, k, v each split into heads.
  const heads = transpose(reshape(qkv, [-1, tokens, 3, h, d], 'qkv_split'), [2, 0, 3, 1, 4], 'qkv_heads');
  const split = g.node('Split', [heads, g.int64s(`${base}_split_sizes`, [1, 1, 1])], { axis: 0 }, [
    `${base}_q5`,
    `${base}_k5`,
    `${base}_v5`,
  ]);
  const [q, k, v] = split.map((x5, i) =>
    g.op('Squeeze', [x5, g.int64s(`${base}_squeeze${i}_axes`, [0])], {}, `${base}_${'qkv'[i]}`),
  );
  let scores = g.op(
    'Mul',
    [
      g.op('MatMul', [q, transpose(k, [0, 1, 3, 2], 'k_t')], {}, `${base}_qk`),
      scalar(ctx, `${base}_scale`, 1 / Math.sqrt(d)),
    ],
    {},
    `${base}_scores`,
  );
  if (plan) {
    // Scores rows are (sample, window); the mask depends on the window only.
    const perWindow = reshape(scores, [-1, plan.windows, h, tokens, tokens], 'scores_windows');
    const mask = g.initializer(`${base}_mask`, plan.mask, [1, plan.windows, 1, tokens, tokens]);
    scores = reshape(g.op('Add', [perWindow, mask], {}, `${base}_masked`), [-1, h, tokens, tokens], 'masked_scores');
  }
  const weights = g.op('Softmax', [scores], { axis: -1 }, `${base}_softmax`);
  const attended = g.op('MatMul', [weights, v], {}, `${base}_attended`); // [B, h, T, d]
  let merged = reshape(transpose(attended, [0, 2, 1, 3], 'merge_heads'), [-1, tokens, c], 'merged');
  if (attention.channelReduction > 0) {
    // Mixed attention: each block's values rescaled per channel by sigmoid(MLP(mean over its tokens)).
    const descriptor = g.op('ReduceMean', [merged], { axes: [1], keepdims: 0 }, `${base}_channel_descriptor`);
    const hidden = g.op(
      'Relu',
      [affine(ctx, layer, descriptor, 2, ['channel_kernel1', 'channel_bias1'], `${base}_channel_fc1`)],
      {},
      `${base}_channel_relu`,
    );
    const gate = g.op(
      'Sigmoid',
      [affine(ctx, layer, hidden, 2, ['channel_kernel2', 'channel_bias2'], `${base}_channel_fc2`)],
      {},
      `${base}_channel_gate`,
    );
    const gate3 = g.op('Unsqueeze', [gate, g.int64s(`${base}_gate_axes`, [1])], {}, `${base}_channel_gate3`);
    merged = g.op('Mul', [merged, gate3], {}, `${base}_channel_scaled`);
  }
  let out = affine(ctx, layer, merged, 3, ['proj_kernel', 'proj_bias'], `${base}_proj`);
  if (b !== undefined) {
    // Inverse of the block split (as fromBlocks).
    const blocks = reshape(out, [-1, grid / b, b, b * c], 'unblock_rows');
    out = reshape(transpose(blocks, [0, 2, 1, 3], 'unblock_cols'), [-1, t, c], 'unblocked');
  }
  if (plan) out = gatherTokens(out, plan.unroll, 'unrolled');
  return { name: out, shape: outputShape, layout: 'channelsLast' };
};

export const attentionConverters: Record<string, LayerConverter> = {
  LearnedPositionEmbedding: learnedPositionEmbedding,
  ClassToken: classToken,
  FirstToken: firstToken,
  MultiHeadSelfAttention: multiHeadSelfAttention,
};
