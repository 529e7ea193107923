// Converters for the encoder's own attention layers (encoder/models/layers.ts), op for op as their
// call() computes them, with the batch dimension left dynamic (-1 in every Reshape).
import type * as tf from '@tensorflow/tfjs';
import type { MultiHeadSelfAttention } from '../../models/layers.js';
import type { LayerConverter } from '../tfjsToOnnx.js';
import { scalar } from './standard.js';

const learnedPositionEmbedding: LayerConverter = (ctx, layer, [value], outputShape) => {
  const input = ctx.channelsLast(value);
  const table = ctx.weight(layer, 'table');
  const g = ctx.graph;
  const name = g.op(
    'Add',
    [input.name, g.initializer(`${layer.name}_table`, table.values, table.shape)],
    {},
    layer.name,
  );
  return { name, shape: outputShape, layout: 'channelsLast' };
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

  // Block-local attention: [N, G*G, C] -> [N * (G/b)^2, b*b, C], one row per block (as toBlocks).
  const grid = Math.round(Math.sqrt(t));
  let x = input.name;
  let tokens = t;
  if (b !== undefined) {
    const rows = reshape(x, [-1, b, grid / b, b * c], 'block_rows');
    x = reshape(transpose(rows, [0, 2, 1, 3], 'block_cols'), [-1, b * b, c], 'blocks');
    tokens = b * b;
  }
  const qkvKernel = ctx.weight(layer, 'qkv_kernel');
  const qkvBias = ctx.weight(layer, 'qkv_bias');
  const qkv = g.op(
    'Add',
    [
      g.op(
        'MatMul',
        [x, g.initializer(`${base}_qkv_weight`, qkvKernel.values, qkvKernel.shape)],
        {},
        `${base}_qkv_matmul`,
      ),
      g.initializer(`${base}_qkv_bias`, qkvBias.values, qkvBias.shape),
    ],
    {},
    `${base}_qkv`,
  );
  // [B, T, 3C] -> [3, B, h, T, d]: q, k, v each split into heads.
  const heads = transpose(reshape(qkv, [-1, tokens, 3, h, d], 'qkv_split'), [2, 0, 3, 1, 4], 'qkv_heads');
  const [q, k, v] = g.node('Split', [heads, g.int64s(`${base}_split_sizes`, [1, 1, 1])], { axis: 0 }, [
    `${base}_q5`,
    `${base}_k5`,
    `${base}_v5`,
  ]);
  const squeeze = (x5: string, name: string) =>
    g.op('Squeeze', [x5, g.int64s(`${base}_${name}_axes`, [0])], {}, `${base}_${name}`);
  const kT = transpose(squeeze(k, 'k'), [0, 1, 3, 2], 'k_t');
  const scores = g.op(
    'Mul',
    [g.op('MatMul', [squeeze(q, 'q'), kT], {}, `${base}_qk`), scalar(ctx, `${base}_scale`, 1 / Math.sqrt(d))],
    {},
    `${base}_scores`,
  );
  const weights = g.op('Softmax', [scores], { axis: -1 }, `${base}_softmax`);
  const attended = g.op('MatMul', [weights, squeeze(v, 'v')], {}, `${base}_attended`); // [B, h, T, d]
  const merged = reshape(transpose(attended, [0, 2, 1, 3], 'merge_heads'), [-1, tokens, c], 'merged');
  const projKernel = ctx.weight(layer, 'proj_kernel');
  const projBias = ctx.weight(layer, 'proj_bias');
  let out = g.op(
    'Add',
    [
      g.op(
        'MatMul',
        [merged, g.initializer(`${base}_proj_weight`, projKernel.values, projKernel.shape)],
        {},
        `${base}_proj_matmul`,
      ),
      g.initializer(`${base}_proj_bias`, projBias.values, projBias.shape),
    ],
    {},
    b === undefined ? base : `${base}_proj`,
  );
  if (b !== undefined) {
    // Inverse of the block split (as fromBlocks).
    const blocks = reshape(out, [-1, grid / b, b, b * c], 'unblock_rows');
    out = g.op(
      'Reshape',
      [transpose(blocks, [0, 2, 1, 3], 'unblock_cols'), g.int64s(`${base}_shape`, [-1, t, c])],
      {},
      base,
    );
  }
  return { name: out, shape: outputShape, layout: 'channelsLast' };
};

export const attentionConverters: Record<string, LayerConverter> = {
  LearnedPositionEmbedding: learnedPositionEmbedding,
  MultiHeadSelfAttention: multiHeadSelfAttention,
};
