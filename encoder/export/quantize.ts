// int8 quantization of an exported float model, in ONNX's QDQ format (the form onnxruntime fuses into
// integer kernels on every platform, onnxruntime-web included):
// - weights of Conv, Gemm and MatMul: 8 bits, symmetric (+-127), one scale per output channel, each
//   feeding its op through DequantizeLinear. Stored as int8, except under static activations, where
//   they are stored as uint8 with zero point 128 (the same levels): onnxruntime's x86 uint8 x int8
//   kernels without VNNI (AVX2, AVX-512BW) add pairs of products in saturating int16 (VPMADDUBSW),
//   2 x 255 x 127 overflows it, and the codes then differ from a VNNI CPU's and onnxruntime-web's;
//   uint8 x uint8 kernels widen to int16 first and agree everywhere. The price is speed (npm run
//   bench:quant prints it per model: static int8 is slower than float there). The other cure, 7-bit
//   int8 weights (onnxruntime's reduce_range), kept 98.71% of bits against 99.21% (bench:quant);
// - optionally (static calibration) activations: QuantizeLinear/DequantizeLinear pairs (uint8,
//   asymmetric, one scale per tensor) on the float inputs of those ops and on Conv outputs, the ranges
//   measured by running the float model over calibration images in onnxruntime-node; biases of Conv
//   and Gemm then become int32 at scale input_scale * weight_scale, as the integer kernels expect.
import * as ort from 'onnxruntime-node';
import type { ModelCard } from '../../schemas/modelCard.js';
import {
  DataType,
  decodeModel,
  encodeModel,
  initializerValues,
  type NodeProto,
  nodeProto,
  type TensorProto,
  tensorProto,
} from './onnxGraph.js';

type CalibrationMethod = 'minmax' | 'percentile';

export interface CalibrationOptions {
  /** Normalized float32 NHWC images, `count` of them back to back (as the float model takes them). */
  inputs: Float32Array;
  count: number;
  /** Ranges from the extremes (default), or from the central `percentile` of the values. */
  method?: CalibrationMethod;
  /** Share of values kept inside the range by the percentile method; default 0.9999. */
  percentile?: number;
  /** Images per calibration run; default 64. */
  batchSize?: number;
}

export interface QuantizeOptions {
  /** Static activation quantization; without it activations stay float32 (weight-only int8). */
  calibration?: CalibrationOptions;
}

export interface QuantizedModel {
  onnx: Uint8Array;
  quantization: NonNullable<ModelCard['quantization']>;
}

const WEIGHT_OPS = new Set(['Conv', 'Gemm', 'MatMul']);
const HISTOGRAM_BINS = 2048;
const INT32_LIMIT = 2 ** 31 - 1;

function intAttribute(node: NodeProto, name: string, fallback: number): number {
  const a = node.attribute?.find((x) => x.name === name);
  return a?.i === undefined || a.i === null ? fallback : Number(a.i);
}

/** Symmetric per-channel int8: scale[c] = max |w| over channel c / 127 (1 for an all-zero channel). */
export function quantizePerChannel(
  values: Float32Array,
  dims: readonly number[],
  axis: number,
): { q: Int8Array; scales: Float32Array } {
  const channels = dims[axis];
  // Elements are laid out as [outer, channel, inner].
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const channelOf = (i: number) => Math.floor(i / inner) % channels;
  const maxAbs = new Float32Array(channels);
  for (let i = 0; i < values.length; i++) {
    const c = channelOf(i);
    maxAbs[c] = Math.max(maxAbs[c], Math.abs(values[i]));
  }
  const scales = maxAbs.map((m) => (m > 0 ? m / 127 : 1));
  const q = new Int8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    q[i] = Math.max(-127, Math.min(127, Math.round(values[i] / scales[channelOf(i)])));
  }
  return { q, scales };
}

interface ActivationRange {
  min: number;
  max: number;
}

/** uint8 asymmetric parameters covering [min, max] and 0. */
function activationParams({ min, max }: ActivationRange): { scale: number; zeroPoint: number } {
  const lo = Math.min(0, min);
  const hi = Math.max(0, max);
  const scale = Math.fround(hi > lo ? (hi - lo) / 255 : 1);
  return { scale, zeroPoint: Math.max(0, Math.min(255, Math.round(-lo / scale))) };
}

/** Runs the float model with every tensor in `names` as an extra output, and measures their ranges. */
async function calibrate(
  floatOnnx: Uint8Array,
  names: string[],
  options: CalibrationOptions,
): Promise<Map<string, ActivationRange>> {
  const model = decodeModel(floatOnnx);
  const graph = model.graph!;
  const input = graph.input![0];
  const dims = input.type!.tensorType!.shape!.dim!.slice(1).map((d) => Number(d.dimValue));
  const per = dims.reduce((a, b) => a * b, 1);
  if (!(options.count > 0) || options.inputs.length !== options.count * per) {
    throw new RangeError(
      `calibration: expected ${options.count} images of ${per} values, got ${options.inputs.length}`,
    );
  }
  const outputs = names.filter((n) => n !== input.name);
  graph.output!.push(...outputs.map((name) => ({ name, type: { tensorType: { elemType: DataType.FLOAT } } })));
  const session = await ort.InferenceSession.create(encodeModel(model), { graphOptimizationLevel: 'disabled' });
  const batchSize = options.batchSize ?? 64;
  const forEachBatch = async (visit: (name: string, data: Float32Array) => void) => {
    for (let start = 0; start < options.count; start += batchSize) {
      const n = Math.min(batchSize, options.count - start);
      const data = options.inputs.subarray(start * per, (start + n) * per);
      const feeds = { [input.name!]: new ort.Tensor('float32', data, [n, ...dims]) };
      const result = await session.run(feeds, outputs);
      for (const name of names) visit(name, name === input.name ? data : (result[name].data as Float32Array));
    }
  };
  try {
    const ranges = new Map(names.map((n) => [n, { min: Infinity, max: -Infinity }]));
    await forEachBatch((name, data) => {
      const r = ranges.get(name)!;
      for (let i = 0; i < data.length; i++) {
        if (data[i] < r.min) r.min = data[i];
        if (data[i] > r.max) r.max = data[i];
      }
    });
    if ((options.method ?? 'minmax') === 'minmax') return ranges;
    // Percentile: a histogram over each tensor's [min, max], cut where the tails hold (1 - p) / 2 each.
    const histograms = new Map(names.map((n) => [n, new Float64Array(HISTOGRAM_BINS)]));
    await forEachBatch((name, data) => {
      const { min, max } = ranges.get(name)!;
      const h = histograms.get(name)!;
      const width = (max - min) / HISTOGRAM_BINS || 1;
      for (let i = 0; i < data.length; i++) h[Math.min(HISTOGRAM_BINS - 1, Math.floor((data[i] - min) / width))]++;
    });
    const tail = (1 - (options.percentile ?? 0.9999)) / 2;
    const clipped = new Map<string, ActivationRange>();
    for (const name of names) {
      const { min, max } = ranges.get(name)!;
      const h = histograms.get(name)!;
      const total = h.reduce((a, b) => a + b, 0);
      const width = (max - min) / HISTOGRAM_BINS;
      let lo = 0;
      for (let seen = h[0]; lo < HISTOGRAM_BINS - 1 && seen <= tail * total; seen += h[++lo]);
      let hi = HISTOGRAM_BINS - 1;
      for (let seen = h[hi]; hi > 0 && seen <= tail * total; seen += h[--hi]);
      clipped.set(name, { min: min + lo * width, max: min + (hi + 1) * width });
    }
    return clipped;
  } finally {
    await session.release();
  }
}

/** The weight input of a Conv, Gemm or MatMul node and its output-channel axis, when it is a constant. */
function weightInput(
  node: NodeProto,
  initializers: Map<string, TensorProto>,
): { index: number; axis: number } | undefined {
  const weight = initializers.get(node.input![1]);
  if (!weight || weight.dataType !== DataType.FLOAT) return undefined;
  if (node.opType === 'Conv') return { index: 1, axis: 0 };
  if (weight.dims!.length !== 2) return undefined;
  // Gemm/MatMul weights are [K, N] (output channels on axis 1), [N, K] for Gemm with transB.
  return { index: 1, axis: node.opType === 'Gemm' && intAttribute(node, 'transB', 0) === 1 ? 0 : 1 };
}

/** Quantizes a float ONNX model written by the exporter (see the file comment for the scheme). */
export async function quantizeModel(floatOnnx: Uint8Array, options: QuantizeOptions = {}): Promise<QuantizedModel> {
  const model = decodeModel(floatOnnx);
  const graph = model.graph!;
  const initializers = new Map(graph.initializer!.map((t) => [t.name!, t]));
  const nodes = graph.node!;
  const unsignedWeights = options.calibration !== undefined;
  const weights = unsignedWeights ? 'uint8-per-channel-symmetric' : 'int8-per-channel-symmetric';

  // Activations to quantize: float inputs of the weight ops, and Conv outputs.
  const activations = new Set<string>();
  if (options.calibration) {
    for (const node of nodes.filter((n) => WEIGHT_OPS.has(n.opType!))) {
      const inputs = node.opType === 'MatMul' ? node.input!.slice(0, 2) : node.input!.slice(0, 1);
      for (const name of inputs) if (!initializers.has(name)) activations.add(name);
      if (node.opType === 'Conv') activations.add(node.output![0]);
    }
  }
  const graphOutputs = new Set(graph.output!.map((o) => o.name!));
  for (const name of graphOutputs) activations.delete(name);
  const ranges = options.calibration
    ? await calibrate(floatOnnx, [...activations], options.calibration)
    : new Map<string, ActivationRange>();

  const added: TensorProto[] = [];
  const constant = (name: string, data: Parameters<typeof tensorProto>[1], dims: number[]) => {
    added.push(tensorProto(name, data, dims));
    return name;
  };
  const prologue: NodeProto[] = [];
  const dequantized = new Map<string, string>(); // activation -> its Q/DQ output
  const activationScale = new Map<string, number>(); // Q/DQ output -> its scale
  const qdqFor = (name: string): NodeProto[] => {
    const { scale, zeroPoint } = activationParams(ranges.get(name)!);
    activationScale.set(`${name}_dq`, scale);
    const s = constant(`${name}_act_scale`, Float32Array.of(scale), []);
    const z = constant(`${name}_act_zero`, Uint8Array.of(zeroPoint), []);
    dequantized.set(name, `${name}_dq`);
    return [
      nodeProto('QuantizeLinear', `${name}_quantize`, [name, s, z], [`${name}_q`]),
      nodeProto('DequantizeLinear', `${name}_dequantize`, [`${name}_q`, s, z], [`${name}_dq`]),
    ];
  };
  const graphInputs = new Set(graph.input!.map((i) => i.name!));
  for (const name of activations) if (graphInputs.has(name)) prologue.push(...qdqFor(name));

  const rewritten: NodeProto[] = [];
  const quantizedWeights = new Map<string, { name: string; scales: Float32Array }>();
  for (const node of nodes) {
    node.input = node.input!.map((name) => dequantized.get(name) ?? name);
    const weight = WEIGHT_OPS.has(node.opType!) ? weightInput(node, initializers) : undefined;
    if (weight) {
      const wName = node.input[weight.index];
      let q = quantizedWeights.get(wName);
      if (!q) {
        const tensor = initializers.get(wName)!;
        const dims = tensor.dims!.map(Number);
        const { q: values, scales } = quantizePerChannel(initializerValues(tensor) as Float32Array, dims, weight.axis);
        const stored = unsignedWeights ? Uint8Array.from(values, (v) => v + 128) : values;
        const qName = constant(`${wName}_q`, stored, dims);
        const s = constant(`${wName}_scale`, scales, [scales.length]);
        const zeros = unsignedWeights ? new Uint8Array(scales.length).fill(128) : new Int8Array(scales.length);
        const z = constant(`${wName}_zero`, zeros, [scales.length]);
        prologue.push(
          nodeProto('DequantizeLinear', `${wName}_dequantize`, [qName, s, z], [`${wName}_dq`], { axis: weight.axis }),
        );
        q = { name: `${wName}_dq`, scales };
        quantizedWeights.set(wName, q);
      }
      node.input[weight.index] = q.name;
      // With a quantized input, a constant bias becomes int32 at input scale * weight scale.
      const inputScale = activationScale.get(node.input[0]);
      const bias = node.opType !== 'MatMul' ? initializers.get(node.input[2]) : undefined;
      if (bias && inputScale !== undefined) {
        const values = initializerValues(bias) as Float32Array;
        const scales = q.scales.map((s) => s * inputScale);
        const qBias = Int32Array.from(values, (v, c) =>
          Math.max(-INT32_LIMIT, Math.min(INT32_LIMIT, Math.round(v / scales[c]))),
        );
        // Named after the node: a bias shared by two nodes gets one int32 copy per input scale.
        const bName = `${node.name}_bias`;
        const qb = constant(`${bName}_int32`, qBias, [qBias.length]);
        const s = constant(`${bName}_scale`, scales, [scales.length]);
        const z = constant(`${bName}_zero`, new Int32Array(scales.length), [scales.length]);
        prologue.push(nodeProto('DequantizeLinear', `${bName}_dequantize`, [qb, s, z], [`${bName}_dq`], { axis: 0 }));
        node.input[2] = `${bName}_dq`;
      }
    }
    rewritten.push(node);
    for (const out of node.output!) if (activations.has(out)) rewritten.push(...qdqFor(out));
  }
  // Drop the float originals of quantized constants.
  const used = new Set([...prologue, ...rewritten].flatMap((n) => n.input!));
  graph.initializer = [...graph.initializer!.filter((t) => used.has(t.name!)), ...added];
  graph.node = [...prologue, ...rewritten];
  return {
    onnx: encodeModel(model),
    quantization: {
      weights,
      activations: options.calibration ? 'int8-static' : 'float32',
      calibrationImages: options.calibration?.count ?? 0,
    },
  };
}
