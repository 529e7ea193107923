// Converters for the CBAM attention layers of dahNet (encoder/models/cbam.ts), on NCHW feature maps.
import type { LayerConverter } from '../tfjsToOnnx.js';
import { affine } from './attention.js';

/** x * sigmoid(MLP(avgpool(x)) + MLP(maxpool(x))), the MLP's weights shared by both branches. */
const channelAttention: LayerConverter = (ctx, layer, [value], outputShape) => {
  const x = ctx.nchw(value).name;
  const g = ctx.graph;
  const base = layer.name;
  const mlp = (pool: 'GlobalAveragePool' | 'GlobalMaxPool', branch: string) => {
    const pooled = g.op('Flatten', [g.op(pool, [x], {}, `${base}_${branch}_pool`)], { axis: 1 }, `${base}_${branch}`);
    const hidden = g.op(
      'Relu',
      [affine(ctx, layer, pooled, 2, ['w1', 'b1'], `${base}_${branch}_fc1`)],
      {},
      `${base}_${branch}_relu`,
    );
    return affine(ctx, layer, hidden, 2, ['w2', 'b2'], `${base}_${branch}_fc2`);
  };
  const gate = g.op(
    'Sigmoid',
    [g.op('Add', [mlp('GlobalAveragePool', 'avg'), mlp('GlobalMaxPool', 'max')], {}, `${base}_sum`)],
    {},
    `${base}_gate`,
  );
  const gate4 = g.op('Unsqueeze', [gate, g.int64s(`${base}_gate_axes`, [2, 3])], {}, `${base}_gate4`); // [N, C, 1, 1]
  return { name: g.op('Mul', [x, gate4], {}, base), shape: outputShape, layout: 'nchw' };
};

/** x * sigmoid(conv([mean over channels, max over channels])), the conv "same"-padded (odd kernel). */
const spatialAttention: LayerConverter = (ctx, layer, [value], outputShape) => {
  const x = ctx.nchw(value).name;
  const g = ctx.graph;
  const base = layer.name;
  const kernel = ctx.weight(layer, 'kernel'); // [k, k, 2, 1]
  const k = kernel.shape[0];
  const weight = new Float32Array(2 * k * k); // ONNX [1, 2, k, k]
  for (let y = 0; y < k; y++)
    for (let xx = 0; xx < k; xx++)
      for (let i = 0; i < 2; i++) weight[(i * k + y) * k + xx] = kernel.values[(y * k + xx) * 2 + i];
  const descriptors = g.op(
    'Concat',
    [
      g.op('ReduceMean', [x], { axes: [1], keepdims: 1 }, `${base}_mean`),
      g.op('ReduceMax', [x], { axes: [1], keepdims: 1 }, `${base}_max`),
    ],
    { axis: 1 },
    `${base}_descriptors`,
  );
  const pad = (k - 1) / 2;
  const map = g.op(
    'Conv',
    [
      descriptors,
      g.initializer(`${base}_weight`, weight, [1, 2, k, k]),
      g.initializer(`${base}_bias`, ctx.weight(layer, 'bias').values, [1]),
    ],
    { kernel_shape: [k, k], strides: [1, 1], pads: [pad, pad, pad, pad] },
    `${base}_map`,
  );
  const gate = g.op('Sigmoid', [map], {}, `${base}_gate`);
  return { name: g.op('Mul', [x, gate], {}, base), shape: outputShape, layout: 'nchw' };
};

export const cbamConverters: Record<string, LayerConverter> = {
  ChannelAttention: channelAttention,
  SpatialAttention: spatialAttention,
};
