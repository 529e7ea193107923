// Converters for the tfjs built-in layers the encoder's models use: Conv2D (with a following
// BatchNormalization folded in), BatchNormalization, ReLU/Activation, MaxPooling2D,
// GlobalAveragePooling2D, Dense, Dropout, Flatten, Reshape, Add, LayerNormalization.
import type * as tf from '@tensorflow/tfjs';
import type { ConvertContext, LayerConverter, Value } from '../tfjsToOnnx.js';

type Config = Record<string, unknown>;
const configOf = (layer: tf.layers.Layer) => layer.getConfig() as Config;
const pair = (v: unknown): [number, number] => (Array.isArray(v) ? [v[0], v[1]] : [v as number, v as number]);

/** The named activation applied to `value` (tfjs activation identifiers). */
function applyActivation(ctx: ConvertContext, value: Value, activation: unknown, base: string): Value {
  const g = ctx.graph;
  const out = (name: string) => ({ ...value, name });
  switch (activation ?? 'linear') {
    case 'linear':
      return value;
    case 'relu':
      return out(g.op('Relu', [value.name], {}, `${base}_relu`));
    case 'tanh':
      return out(g.op('Tanh', [value.name], {}, `${base}_tanh`));
    case 'sigmoid':
      return out(g.op('Sigmoid', [value.name], {}, `${base}_sigmoid`));
    case 'gelu': {
      // Exact GELU as tfjs computes it: x * 0.5 * (1 + erf(x / sqrt 2)) (ONNX Gelu needs opset 20).
      const scaled = g.op('Mul', [value.name, scalar(ctx, `${base}_inv_sqrt2`, Math.SQRT1_2)], {}, `${base}_scaled`);
      const erf = g.op('Erf', [scaled], {}, `${base}_erf`);
      const onePlus = g.op('Add', [erf, scalar(ctx, `${base}_one`, 1)], {}, `${base}_1_plus_erf`);
      const half = g.op('Mul', [value.name, scalar(ctx, `${base}_half`, 0.5)], {}, `${base}_half_x`);
      return out(g.op('Mul', [half, onePlus], {}, `${base}_gelu`));
    }
    default:
      throw new Error(`${base}: activation ${String(activation)} has no ONNX converter`);
  }
}

export function scalar(ctx: ConvertContext, base: string, value: number): string {
  return ctx.graph.initializer(base, Float32Array.of(value), []);
}

/** TF "same" padding: total padding (out - 1) * stride + k - in, the extra pixel at the end. */
function samePads(inSize: number, kernel: number, stride: number, dilation: number): [number, number] {
  const out = Math.ceil(inSize / stride);
  const total = Math.max((out - 1) * stride + (kernel - 1) * dilation + 1 - inSize, 0);
  const begin = Math.floor(total / 2);
  return [begin, total - begin];
}

function spatialPads(
  padding: unknown,
  shape: readonly (number | null)[],
  kernel: [number, number],
  strides: [number, number],
  dilations: [number, number],
  layer: string,
): number[] {
  if (padding === 'valid') return [0, 0, 0, 0];
  if (padding !== 'same') throw new Error(`${layer}: padding ${String(padding)} has no ONNX converter`);
  const [top, bottom] = samePads(shape[1] as number, kernel[0], strides[0], dilations[0]);
  const [left, right] = samePads(shape[2] as number, kernel[1], strides[1], dilations[1]);
  return [top, left, bottom, right];
}

function checkChannelsLast(layer: tf.layers.Layer): void {
  const format = configOf(layer).dataFormat;
  if (format !== undefined && format !== 'channelsLast') throw new Error(`${layer.name}: only channelsLast exports`);
}

/** Per-channel y = x * a + b of an inference-mode BatchNormalization layer (float64 math). */
function batchNormAffine(ctx: ConvertContext, bn: tf.layers.Layer): { a: Float64Array; b: Float64Array } {
  const config = configOf(bn);
  const axis = config.axis;
  if (axis !== -1 && !(Array.isArray(axis) && axis.length === 1 && axis[0] === -1) && axis !== 3) {
    throw new Error(`${bn.name}: only BatchNormalization over the last axis exports`);
  }
  const epsilon = config.epsilon as number;
  const mean = ctx.weight(bn, 'moving_mean').values;
  const variance = ctx.weight(bn, 'moving_variance').values;
  const gamma = ctx.hasWeight(bn, 'gamma') ? ctx.weight(bn, 'gamma').values : undefined;
  const beta = ctx.hasWeight(bn, 'beta') ? ctx.weight(bn, 'beta').values : undefined;
  const a = new Float64Array(mean.length);
  const b = new Float64Array(mean.length);
  for (let c = 0; c < mean.length; c++) {
    a[c] = (gamma ? gamma[c] : 1) / Math.sqrt(variance[c] + epsilon);
    b[c] = (beta ? beta[c] : 0) - mean[c] * a[c];
  }
  return { a, b };
}

const conv2d: LayerConverter = (ctx, layer, [input], outputShape) => {
  checkChannelsLast(layer);
  const c = configOf(layer);
  const kernel = ctx.weight(layer, 'kernel'); // [kh, kw, in, out]
  const [kh, kw, cin, cout] = kernel.shape;
  const strides = pair(c.strides);
  const dilations = pair(c.dilationRate ?? 1);
  // ONNX weights are [out, in, kh, kw].
  const w = new Float64Array(cout * cin * kh * kw);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++)
          w[((o * cin + i) * kh + y) * kw + x] = kernel.values[((y * kw + x) * cin + i) * cout + o];
  const bias = new Float64Array(cout);
  if (c.useBias) bias.set(ctx.weight(layer, 'bias').values);
  // Fold a directly following BatchNormalization: w' = w * a, b' = b * a + shift.
  const next = ctx.soleConsumer(layer);
  const foldBn = next?.getClassName() === 'BatchNormalization' && c.activation === 'linear';
  if (foldBn) {
    const { a, b } = batchNormAffine(ctx, next!);
    const per = cin * kh * kw;
    for (let o = 0; o < cout; o++) {
      for (let j = 0; j < per; j++) w[o * per + j] *= a[o];
      bias[o] = bias[o] * a[o] + b[o];
    }
    ctx.fuse(next!);
  }
  const inputs = [
    ctx.nchw(input).name,
    ctx.graph.initializer(`${layer.name}_weight`, Float32Array.from(w), [cout, cin, kh, kw]),
  ];
  if (c.useBias || foldBn) inputs.push(ctx.graph.initializer(`${layer.name}_bias`, Float32Array.from(bias), [cout]));
  const name = ctx.graph.op(
    'Conv',
    inputs,
    {
      kernel_shape: [kh, kw],
      strides,
      dilations,
      pads: spatialPads(c.padding, input.shape, [kh, kw], strides, dilations, layer.name),
    },
    layer.name,
  );
  return applyActivation(ctx, { name, shape: outputShape, layout: 'nchw' }, c.activation, layer.name);
};

const batchNormalization: LayerConverter = (ctx, layer, [input], outputShape) => {
  const { a, b } = batchNormAffine(ctx, layer);
  // Broadcast over the channel axis of the value's layout: last, or 1 for NCHW ([C, 1, 1]).
  const dims = input.layout === 'nchw' ? [a.length, 1, 1] : [a.length];
  const g = ctx.graph;
  const scaled = g.op(
    'Mul',
    [input.name, g.initializer(`${layer.name}_scale`, Float32Array.from(a), dims)],
    {},
    `${layer.name}_mul`,
  );
  const name = g.op('Add', [scaled, g.initializer(`${layer.name}_shift`, Float32Array.from(b), dims)], {}, layer.name);
  return { name, shape: outputShape, layout: input.layout };
};

const reLU: LayerConverter = (ctx, layer, [input]) => {
  const maxValue = configOf(layer).maxValue;
  if (maxValue === null || maxValue === undefined) return applyActivation(ctx, input, 'relu', layer.name);
  const g = ctx.graph;
  const name = g.op(
    'Clip',
    [input.name, scalar(ctx, `${layer.name}_min`, 0), scalar(ctx, `${layer.name}_max`, maxValue as number)],
    {},
    layer.name,
  );
  return { ...input, name };
};

const activation: LayerConverter = (ctx, layer, [input]) =>
  applyActivation(ctx, input, configOf(layer).activation, layer.name);

const maxPooling2d: LayerConverter = (ctx, layer, [input], outputShape) => {
  checkChannelsLast(layer);
  const c = configOf(layer);
  const kernel = pair(c.poolSize);
  const strides = pair(c.strides ?? c.poolSize);
  const name = ctx.graph.op(
    'MaxPool',
    [ctx.nchw(input).name],
    { kernel_shape: kernel, strides, pads: spatialPads(c.padding, input.shape, kernel, strides, [1, 1], layer.name) },
    layer.name,
  );
  return { name, shape: outputShape, layout: 'nchw' };
};

const globalAveragePooling2d: LayerConverter = (ctx, layer, [input], outputShape) => {
  checkChannelsLast(layer);
  const g = ctx.graph;
  if (input.layout === 'nchw') {
    const pooled = g.op('GlobalAveragePool', [input.name], {}, `${layer.name}_pool`);
    return { name: g.op('Flatten', [pooled], { axis: 1 }, layer.name), shape: outputShape, layout: 'channelsLast' };
  }
  const name = g.op('ReduceMean', [input.name], { axes: [1, 2], keepdims: 0 }, layer.name);
  return { name, shape: outputShape, layout: 'channelsLast' };
};

const dense: LayerConverter = (ctx, layer, [value], outputShape) => {
  const input = ctx.channelsLast(value);
  const c = configOf(layer);
  const g = ctx.graph;
  const kernel = ctx.weight(layer, 'kernel');
  const w = g.initializer(`${layer.name}_weight`, kernel.values, kernel.shape);
  const b = c.useBias
    ? g.initializer(`${layer.name}_bias`, ctx.weight(layer, 'bias').values, [kernel.shape[1]])
    : undefined;
  let name: string;
  if (input.shape.length === 2) {
    name = g.op('Gemm', b ? [input.name, w, b] : [input.name, w], {}, layer.name);
  } else {
    const product = g.op('MatMul', [input.name, w], {}, b ? `${layer.name}_matmul` : layer.name);
    name = b ? g.op('Add', [product, b], {}, layer.name) : product;
  }
  return applyActivation(ctx, { name, shape: outputShape, layout: 'channelsLast' }, c.activation, layer.name);
};

/** Dropout is the identity at inference. */
const identity: LayerConverter = (_ctx, _layer, [input]) => input;

const reshapeTo: LayerConverter = (ctx, layer, [value], outputShape) => {
  const input = ctx.channelsLast(value);
  const shape = ctx.graph.int64s(`${layer.name}_shape`, [-1, ...outputShape.slice(1).map((d) => d as number)]);
  return {
    name: ctx.graph.op('Reshape', [input.name, shape], {}, layer.name),
    shape: outputShape,
    layout: 'channelsLast',
  };
};

const add: LayerConverter = (ctx, layer, inputs, outputShape) => {
  // Stay in NCHW only when every operand already is.
  const layout = inputs.every((v) => v.layout === 'nchw') ? 'nchw' : 'channelsLast';
  const operands = inputs.map((v) => (layout === 'nchw' ? v : ctx.channelsLast(v)).name);
  let name = operands[0];
  for (let i = 1; i < operands.length; i++) {
    name = ctx.graph.op('Add', [name, operands[i]], {}, i === operands.length - 1 ? layer.name : `${layer.name}_${i}`);
  }
  return { name, shape: outputShape, layout };
};

const layerNormalization: LayerConverter = (ctx, layer, [value], outputShape) => {
  const c = configOf(layer);
  const axis = c.axis;
  const rank = value.shape.length;
  const last =
    axis === -1 ||
    axis === rank - 1 ||
    (Array.isArray(axis) && axis.length === 1 && (axis[0] === -1 || axis[0] === rank - 1));
  if (!last) throw new Error(`${layer.name}: only LayerNormalization over the last axis exports`);
  const input = ctx.channelsLast(value);
  const width = value.shape[rank - 1] as number;
  const g = ctx.graph;
  const gamma = c.scale === false ? new Float32Array(width).fill(1) : ctx.weight(layer, 'gamma').values;
  const beta = c.center === false ? new Float32Array(width) : ctx.weight(layer, 'beta').values;
  const name = g.op(
    'LayerNormalization',
    [
      input.name,
      g.initializer(`${layer.name}_gamma`, gamma, [width]),
      g.initializer(`${layer.name}_beta`, beta, [width]),
    ],
    { axis: -1, epsilon: { f: c.epsilon as number } },
    layer.name,
  );
  return { name, shape: outputShape, layout: 'channelsLast' };
};

export const standardConverters: Record<string, LayerConverter> = {
  Conv2D: conv2d,
  BatchNormalization: batchNormalization,
  ReLU: reLU,
  Activation: activation,
  MaxPooling2D: maxPooling2d,
  GlobalAveragePooling2D: globalAveragePooling2d,
  Dense: dense,
  Dropout: identity,
  Flatten: (ctx, layer, [value], outputShape) => ({
    name: ctx.graph.op('Flatten', [ctx.channelsLast(value).name], { axis: 1 }, layer.name),
    shape: outputShape,
    layout: 'channelsLast',
  }),
  Reshape: reshapeTo,
  Add: add,
  LayerNormalization: layerNormalization,
};
