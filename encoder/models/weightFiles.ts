// Readers for user-supplied pretrained weights: safetensors files and the initializers of an ONNX
// file, both into named float32 tensors. safetensors is parsed by hand: the format is an 8-byte
// little-endian header length, a JSON header {name: {dtype, shape, data_offsets}}, then the bytes,
// and the npm packages for it are unmaintained stubs.
import { readFile } from 'node:fs/promises';
import { UserError } from '../errors.js';
import { DataType, decodeModel } from '../export/onnxGraph.js';

export interface SourceTensor {
  shape: number[];
  values: Float32Array;
}
export type SourceTensors = Map<string, SourceTensor>;

/** A pretrained-weights problem, always naming the file. */
export class WeightFileError extends UserError {
  override name = 'WeightFileError';

  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
  }
}

/** IEEE half and bfloat16 to float32. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

const bfloatBits = new Uint32Array(1);
const bfloatValue = new Float32Array(bfloatBits.buffer);

function decodeFloats(file: string, name: string, dtype: string, bytes: Uint8Array): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const width = { F32: 4, F16: 2, BF16: 2, F64: 8 }[dtype];
  if (width === undefined)
    throw new WeightFileError(file, `tensor ${name} has dtype ${dtype}; expected F32, F16, BF16 or F64`);
  const out = new Float32Array(bytes.byteLength / width);
  for (let i = 0; i < out.length; i++) {
    if (dtype === 'F32') out[i] = view.getFloat32(i * 4, true);
    else if (dtype === 'F64') out[i] = view.getFloat64(i * 8, true);
    else if (dtype === 'F16') out[i] = halfToFloat(view.getUint16(i * 2, true));
    else {
      // bfloat16 is the top half of a float32.
      bfloatBits[0] = view.getUint16(i * 2, true) << 16;
      out[i] = bfloatValue[0];
    }
  }
  return out;
}

export function parseSafetensors(file: string, bytes: Uint8Array): SourceTensors {
  if (bytes.byteLength < 8) throw new WeightFileError(file, 'too short for a safetensors header');
  const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (headerLength > bytes.byteLength - 8)
    throw new WeightFileError(file, `header length ${headerLength} exceeds the file`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  } catch (error) {
    throw new WeightFileError(file, `header is not JSON (${(error as Error).message}); not a safetensors file?`);
  }
  const data = bytes.subarray(8 + headerLength);
  const tensors: SourceTensors = new Map();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [begin, end] = entry.data_offsets ?? [];
    if (!(Number.isInteger(begin) && Number.isInteger(end) && begin <= end && end <= data.byteLength)) {
      throw new WeightFileError(file, `tensor ${name} has data offsets outside the file`);
    }
    const values = decodeFloats(file, name, entry.dtype, data.slice(begin, end));
    const count = entry.shape.reduce((a, b) => a * b, 1);
    if (values.length !== count) {
      throw new WeightFileError(
        file,
        `tensor ${name}: shape [${entry.shape}] needs ${count} values, data holds ${values.length}`,
      );
    }
    tensors.set(name, { shape: entry.shape, values });
  }
  return tensors;
}

export function parseOnnxInitializers(file: string, bytes: Uint8Array): SourceTensors {
  let model: ReturnType<typeof decodeModel>;
  try {
    model = decodeModel(bytes);
  } catch (error) {
    throw new WeightFileError(file, `not an ONNX model (${(error as Error).message})`);
  }
  const tensors: SourceTensors = new Map();
  for (const init of model.graph?.initializer ?? []) {
    if (init.dataType !== DataType.FLOAT) continue; // quantized or integer tensors are not backbone weights
    const shape = (init.dims ?? []).map(Number);
    const values =
      init.rawData && init.rawData.byteLength > 0
        ? decodeFloats(file, init.name ?? '', 'F32', new Uint8Array(init.rawData))
        : Float32Array.from(init.floatData ?? []);
    tensors.set(init.name ?? '', { shape, values });
  }
  if (tensors.size === 0) throw new WeightFileError(file, 'no float initializers in the ONNX graph');
  return tensors;
}

/** Reads a weights file by extension: .safetensors or .onnx. */
export async function readWeightFile(file: string): Promise<SourceTensors> {
  const bytes = new Uint8Array(
    await readFile(file).catch((error: NodeJS.ErrnoException) => {
      throw new WeightFileError(file, `cannot read (${error.code ?? error.message})`);
    }),
  );
  if (file.endsWith('.safetensors')) return parseSafetensors(file, bytes);
  if (file.endsWith('.onnx')) return parseOnnxInitializers(file, bytes);
  throw new WeightFileError(file, 'unknown weights format; expected a .safetensors or .onnx file');
}
