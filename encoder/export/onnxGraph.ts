// A small builder for ONNX graphs over onnx-proto's protobuf types: float/int initializers stored as
// raw little-endian bytes, nodes with typed attributes, unique tensor names, and serialization of
// the whole model. The exporter and the quantizer both write through it.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
export type TensorProto = onnxProto.onnx.ITensorProto;
export type NodeProto = onnxProto.onnx.INodeProto;
type ValueInfoProto = onnxProto.onnx.IValueInfoProto;
type AttributeProto = onnxProto.onnx.IAttributeProto;
type ModelProto = onnxProto.onnx.IModelProto;

/** ONNX opset the exporter writes (LayerNormalization needs 17); IR version 8 goes with it. */
export const ONNX_OPSET = 17;
const IR_VERSION = 8;

export const DataType = onnx.TensorProto.DataType;

/** Attribute values by kind: number (int), `{ f }` (float), number[] (ints), string. */
type AttributeValue = number | { f: number } | number[] | string;

/** A dimension: a fixed size or a symbolic name (dynamic, e.g. the batch). */
export type Dim = number | string;

type TypedData = Float32Array | Int8Array | Uint8Array | Int32Array | BigInt64Array;

function dataTypeOf(data: TypedData): number {
  if (data instanceof Float32Array) return DataType.FLOAT;
  if (data instanceof Int8Array) return DataType.INT8;
  if (data instanceof Uint8Array) return DataType.UINT8;
  if (data instanceof Int32Array) return DataType.INT32;
  return DataType.INT64;
}

function attribute(name: string, value: AttributeValue): AttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'number') return { name, type: T.INT, i: value };
  if (typeof value === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: T.INTS, ints: value };
  return { name, type: T.FLOAT, f: value.f };
}

/** A constant tensor with its values as raw little-endian bytes. */
export function tensorProto(name: string, data: TypedData, dims: readonly number[]): TensorProto {
  const size = dims.reduce((a, b) => a * b, 1);
  if (size !== data.length) throw new RangeError(`tensor ${name}: ${data.length} values for dims [${dims}]`);
  const rawData = new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  return { name, dims: [...dims], dataType: dataTypeOf(data), rawData };
}

export function nodeProto(
  opType: string,
  name: string,
  inputs: string[],
  outputs: string[],
  attributes: Record<string, AttributeValue> = {},
): NodeProto {
  return {
    opType,
    name,
    input: inputs,
    output: outputs,
    attribute: Object.entries(attributes).map(([k, v]) => attribute(k, v)),
  };
}

function valueInfo(name: string, elemType: number, dims: readonly Dim[]): ValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

export class OnnxGraph {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  readonly inputs: ValueInfoProto[] = [];
  readonly outputs: ValueInfoProto[] = [];
  private readonly used = new Set<string>();

  /** A fresh tensor name starting with `base`. */
  name(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  /** Keeps `name` out of fresh names (for a graph output named later). */
  reserve(name: string): void {
    if (this.used.has(name)) throw new Error(`tensor name ${name} is already taken`);
    this.used.add(name);
  }

  input(name: string, dims: readonly Dim[], elemType: number = DataType.FLOAT): string {
    this.reserve(name);
    this.inputs.push(valueInfo(name, elemType, dims));
    return name;
  }

  /** Declares a graph output (reserved beforehand), copied from tensor `from`. */
  output(name: string, dims: readonly Dim[], from: string, elemType: number = DataType.FLOAT): void {
    this.nodes.push(nodeProto('Identity', this.name(`${name}_node`), [from], [name]));
    this.outputs.push(valueInfo(name, elemType, dims));
  }

  /** Adds a constant tensor; returns its (fresh) name. */
  initializer(base: string, data: TypedData, dims: readonly number[]): string {
    const name = this.name(base);
    this.initializers.push(tensorProto(name, data, dims));
    return name;
  }

  /** An int64 vector constant (shapes, axes). */
  int64s(base: string, values: readonly number[]): string {
    return this.initializer(base, BigInt64Array.from(values.map(BigInt)), [values.length]);
  }

  /**
   * Appends a node; returns its output names (fresh names from `outputs`, or one output named after
   * the op when omitted). `outputs` entries that are already taken get a suffix.
   */
  node(
    opType: string,
    inputs: string[],
    attributes: Record<string, AttributeValue> = {},
    outputs = [opType],
  ): string[] {
    const names = outputs.map((o) => this.name(o));
    this.nodes.push(nodeProto(opType, this.name(`${names[0]}_node`), inputs, names, attributes));
    return names;
  }

  /** The single-output form of node(). */
  op(opType: string, inputs: string[], attributes: Record<string, AttributeValue> = {}, output = opType): string {
    return this.node(opType, inputs, attributes, [output])[0];
  }

  toModel(name: string): ModelProto {
    return {
      irVersion: IR_VERSION,
      opsetImport: [{ domain: '', version: ONNX_OPSET }],
      producerName: 'edgehash',
      graph: {
        name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    };
  }
}

/** The model's protobuf bytes, as a plain Uint8Array (protobufjs hands out a Node Buffer, whose slice() is a view). */
export function encodeModel(model: ModelProto): Uint8Array {
  return Uint8Array.from(onnx.ModelProto.encode(model).finish());
}

export function decodeModel(bytes: Uint8Array): onnxProto.onnx.ModelProto {
  return onnx.ModelProto.decode(bytes);
}

/** An initializer's values (float32, int8 or uint8 raw data). */
export function initializerValues(tensor: TensorProto): Float32Array | Int8Array | Uint8Array {
  const raw = tensor.rawData;
  if (!raw) throw new Error(`initializer ${tensor.name} has no raw data`);
  const bytes = new Uint8Array(raw); // a copy: decoded rawData may be a view into a larger Buffer
  if (tensor.dataType === DataType.FLOAT) return new Float32Array(bytes.buffer, 0, bytes.byteLength / 4);
  if (tensor.dataType === DataType.INT8) return new Int8Array(bytes.buffer);
  if (tensor.dataType === DataType.UINT8) return bytes;
  throw new Error(`initializer ${tensor.name}: data type ${tensor.dataType} is not float, int8 or uint8`);
}
