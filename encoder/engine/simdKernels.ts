// The AssemblyScript training kernels (assembly/trainKernels.ts), instantiated on the tfjs wasm
// backend's memory so they work on tensors in place. tfjs-backend-wasm's own kernels for these are
// scalar loops one op at a time, or slow outside XNNPack's cases; these fuse the passes batch norm
// and max pooling need and multiply batches of small matrices.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

interface TrainKernelExports {
  maxPoolGrad2x2(
    x: number,
    dy: number,
    dx: number,
    n: number,
    h: number,
    w: number,
    c: number,
    ho: number,
    wo: number,
  ): void;
  centeredSumSquares(x: number, rows: number, c: number, mean: number, out: number, scratch: number): void;
  gradientSums(
    dy: number,
    x: number,
    rows: number,
    c: number,
    mean: number,
    sumDy: number,
    sumDyC: number,
    scratch: number,
  ): void;
  batchMatMul(a: number, b: number, out: number, batch: number, m: number, k: number, n: number): void;
  matMulTransposedA(x: number, dy: number, out: number, k: number, m: number, n: number): void;
  expVec(x: number, out: number, len: number): void;
  erfVec(x: number, out: number, len: number): void;
  channelAffine(
    x: number,
    dy: number,
    rows: number,
    c: number,
    mean: number,
    a: number,
    b: number,
    s: number,
    out: number,
    withDy: number,
  ): void;
}

const wasmPath = fileURLToPath(new URL('./build/trainKernels.wasm', import.meta.url));

/** The kernels bound to one backend's memory, with the pointer plumbing they need. */
export class SimdKernels {
  private constructor(
    readonly backend: BackendWasm,
    readonly exports: TrainKernelExports,
  ) {}

  static async attach(backend: BackendWasm): Promise<SimdKernels> {
    const bytes = await readFile(wasmPath).catch((error: NodeJS.ErrnoException) => {
      throw new Error(`${wasmPath}: ${error.code ?? error.message}; build it with \`npm run build:wasm\``);
    });
    const memory = (backend.wasm as unknown as { asm: { memory: WebAssembly.Memory } }).asm.memory;
    const { instance } = await WebAssembly.instantiate(bytes, { env: { memory } });
    return new SimdKernels(backend, instance.exports as unknown as TrainKernelExports);
  }

  /** A tensor's address in the backend heap. */
  pointer(t: tf.TensorInfo): number {
    return this.backend.dataIdMap.get(t.dataId).memoryOffset;
  }
}

let attached: SimdKernels | undefined;

/** Binds the kernels to the active wasm backend (called once it is initialised). */
export async function attachSimdKernels(backend: BackendWasm): Promise<void> {
  if (attached?.backend !== backend) attached = await SimdKernels.attach(backend);
}

/** The kernels, when the wasm backend is the active one and they are attached to it. */
export function simdKernelsFor(backend: unknown): SimdKernels | undefined {
  return attached !== undefined && attached.backend === backend ? attached : undefined;
}
