// tfjs LayersModel -> ONNX graph. Walks the functional graph layer by layer in topological order and
// hands each layer to the converter registered for its class (encoder/export/converters/). Tensors
// keep their tfjs (channels-last) shape; 4-D feature maps may live in ONNX's NCHW layout between
// convolutions, and a Transpose is inserted only where a layer needs the other layout.
import type * as tf from '@tensorflow/tfjs';
import { attentionConverters } from './converters/attention.js';
import { cbamConverters } from './converters/cbam.js';
import { standardConverters } from './converters/standard.js';
import { type Dim, OnnxGraph } from './onnxGraph.js';

export type Layout = 'channelsLast' | 'nchw';

/** An ONNX tensor standing for a tfjs symbolic tensor. `shape` is always the tfjs (channels-last) shape. */
export interface Value {
  name: string;
  shape: readonly (number | null)[];
  layout: Layout;
}

export interface Weight {
  values: Float32Array;
  shape: number[];
}

export interface ConvertContext {
  readonly graph: OnnxGraph;
  /** The tfjs layer's weight whose name ends with `/<name>` (e.g. kernel, bias, gamma). */
  weight(layer: tf.layers.Layer, name: string): Weight;
  /** Whether the layer has a weight called `name`. */
  hasWeight(layer: tf.layers.Layer, name: string): boolean;
  /** The only layer reading this layer's output, when there is exactly one and the output is internal. */
  soleConsumer(layer: tf.layers.Layer): tf.layers.Layer | undefined;
  /** Marks `layer` as folded into the one before it: its output becomes its input. */
  fuse(layer: tf.layers.Layer): void;
  channelsLast(value: Value): Value;
  nchw(value: Value): Value;
}

/**
 * Converts one layer: appends nodes to ctx.graph (named after the layer) and returns the value of the
 * layer's output, whose tfjs shape is `outputShape`.
 */
export type LayerConverter = (
  ctx: ConvertContext,
  layer: tf.layers.Layer,
  inputs: Value[],
  outputShape: readonly (number | null)[],
) => Value;

const converters = new Map<string, LayerConverter>(
  Object.entries({ ...standardConverters, ...attentionConverters, ...cbamConverters }),
);

function convertibleLayerClasses(): string[] {
  return [...converters.keys()].sort();
}

/** Layer graph internals that tfjs exposes on every layer but does not type on tf.layers.Layer. */
interface SymbolicNode {
  inputTensors: tf.SymbolicTensor[];
  outputTensors: tf.SymbolicTensor[];
}
const inboundNodes = (layer: tf.layers.Layer) => (layer as unknown as { inboundNodes: SymbolicNode[] }).inboundNodes;

export interface ConvertOptions {
  inputName: string;
  outputName: string;
  /** Name of the symbolic batch dimension. */
  batchDim?: string;
  /**
   * Output the mean of the model on each image and on its mirror image (the width axis reversed): the
   * graph runs the model once on the batch and its mirrors stacked, then averages the two halves.
   */
  testTimeFlip?: boolean;
}

/** [N, H, W, C] -> [2N, H, W, C]: the batch, then the same images mirrored left to right. */
function withMirrors(graph: OnnxGraph, input: string, width: number): string {
  const reversed = graph.int64s(
    'mirror_columns',
    Array.from({ length: width }, (_, i) => width - 1 - i),
  );
  const mirrored = graph.op('Gather', [input, reversed], { axis: 2 }, 'mirrored');
  return graph.op('Concat', [input, mirrored], { axis: 0 }, 'with_mirrors');
}

/** [2N, ...rest] -> [N, ...rest]: the mean of each image's output and its mirror's. */
function meanOverMirrors(graph: OnnxGraph, output: string, rest: readonly number[]): string {
  const pairs = graph.op('Reshape', [output, graph.int64s('mirror_pairs_shape', [2, -1, ...rest])], {}, 'mirror_pairs');
  return graph.op('ReduceMean', [pairs], { axes: [0], keepdims: 0 }, 'mirror_mean');
}

/** Converts a single-input, single-output LayersModel; the graph maps [N, ...input] to [N, ...output]. */
export function convertLayersModel(net: tf.LayersModel, options: ConvertOptions): OnnxGraph {
  if (net.inputs.length !== 1 || net.outputs.length !== 1) {
    throw new Error(`${net.name}: only single-input, single-output models export`);
  }
  const batch = options.batchDim ?? 'N';
  const graph = new OnnxGraph();
  graph.reserve(options.outputName);
  const values = new Map<number, Value>();
  const consumers = new Map<number, tf.layers.Layer[]>();
  const fused = new Set<tf.layers.Layer>();

  for (const layer of net.layers) {
    const nodes = inboundNodes(layer);
    if (nodes.length !== 1) throw new Error(`${layer.name}: layers applied ${nodes.length} times do not export`);
    for (const t of nodes[0].inputTensors) consumers.set(t.id, [...(consumers.get(t.id) ?? []), layer]);
  }
  const outputTensor = net.outputs[0];

  // One Transpose per value and layout, however many layers read it.
  const transposed = new Map<string, Value>();
  const transpose = (value: Value, perm: number[], layout: Layout): Value => {
    const key = `${value.name}>${layout}`;
    let result = transposed.get(key);
    if (!result) {
      result = {
        name: graph.op('Transpose', [value.name], { perm }, `${value.name}_${layout}`),
        shape: value.shape,
        layout,
      };
      transposed.set(key, result);
    }
    return result;
  };
  const findWeight = (layer: tf.layers.Layer, name: string) =>
    layer.weights.find((w) => w.originalName === `${layer.name}/${name}`);
  const ctx: ConvertContext = {
    graph,
    hasWeight: (layer, name) => findWeight(layer, name) !== undefined,
    weight(layer, name) {
      const w = findWeight(layer, name);
      if (!w) throw new Error(`${layer.name}: no weight ${name}`);
      return { values: Float32Array.from(w.read().dataSync() as Float32Array), shape: w.shape as number[] };
    },
    soleConsumer(layer) {
      const out = inboundNodes(layer)[0].outputTensors[0];
      const readers = consumers.get(out.id) ?? [];
      return readers.length === 1 && out.id !== outputTensor.id ? readers[0] : undefined;
    },
    fuse: (layer) => fused.add(layer),
    channelsLast: (v) => (v.layout === 'channelsLast' ? v : transpose(v, [0, 2, 3, 1], 'channelsLast')),
    nchw(v) {
      if (v.layout === 'nchw') return v;
      if (v.shape.length !== 4) throw new Error(`${v.name}: NCHW needs a 4-D tensor, got [${v.shape}]`);
      return transpose(v, [0, 3, 1, 2], 'nchw');
    },
  };

  for (const layer of net.layers) {
    const node = inboundNodes(layer)[0];
    const outputSymbolic = node.outputTensors[0];
    if (node.outputTensors.length !== 1) throw new Error(`${layer.name}: layers with several outputs do not export`);
    const className = layer.getClassName();
    if (className === 'InputLayer') {
      const dims: Dim[] = outputSymbolic.shape.map((d, i) => (i === 0 ? batch : (d as number)));
      const input = graph.input(options.inputName, dims);
      values.set(outputSymbolic.id, {
        name: options.testTimeFlip ? withMirrors(graph, input, outputSymbolic.shape[2] as number) : input,
        shape: outputSymbolic.shape,
        layout: 'channelsLast',
      });
      continue;
    }
    const inputs = node.inputTensors.map((t) => values.get(t.id)!);
    if (fused.has(layer)) {
      values.set(outputSymbolic.id, inputs[0]);
      continue;
    }
    const convert = converters.get(className);
    if (!convert) {
      throw new Error(
        `${layer.name}: layer class ${className} has no ONNX converter; known: ${convertibleLayerClasses().join(', ')}`,
      );
    }
    values.set(outputSymbolic.id, convert(ctx, layer, inputs, outputSymbolic.shape));
  }

  const result = ctx.channelsLast(values.get(outputTensor.id)!);
  const rest = outputTensor.shape.slice(1) as number[];
  graph.output(
    options.outputName,
    [batch, ...rest],
    options.testTimeFlip ? meanOverMirrors(graph, result.name, rest) : result.name,
  );
  return graph;
}
