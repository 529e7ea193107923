// One instance of the compiled Hamming kernel (wasm/assembly/hamming.ts) and the layout of its
// linear memory. The kernel never allocates: this class pins regions (a table) at the start of
// the heap and hands out one scratch region after them, growing memory by exactly the pages
// needed, so a loaded table costs its own bytes and little more.

export interface HammingExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  scratchBytes(nq: number, n: number, bytesPerCode: number, k: number, maxDist: number): number;
  countScratchBytes(bytesPerCode: number): number;
  slicedBytes(n: number, bytesPerCode: number): number;
  slice(codes: number, n: number, bytesPerCode: number, tmp: number): void;
  unslice(codes: number, g0: number, g1: number, bytesPerCode: number, out: number): void;
  topk(
    codes: number,
    n: number,
    bytesPerCode: number,
    queries: number,
    nq: number,
    k: number,
    maxDist: number,
    scratch: number,
    outIdx: number,
    outDist: number,
    outCount: number,
  ): void;
  countWithin(codes: number, n: number, bytesPerCode: number, query: number, radius: number, scratch: number): number;
  merge(
    m: number,
    offsets: number,
    ids: number,
    dists: number,
    k: number,
    heads: number,
    outIds: number,
    outDists: number,
  ): number;
}

const PAGE = 65536;
const align16 = (x: number) => (x + 15) & ~15;

/** Carves a scratch region into consecutive 16-aligned parts. */
export class ScratchLayout {
  private end: number;
  constructor(start: number) {
    this.end = start;
  }
  take(bytes: number): number {
    const ptr = this.end;
    this.end = align16(this.end + bytes);
    return ptr;
  }
}

export class KernelInstance {
  private pinnedEnd: number;

  private constructor(readonly exports: HammingExports) {
    this.pinnedEnd = align16(exports.heapBase());
  }

  /** Instantiates a precompiled module: workerd forbids compiling wasm from bytes at run time. */
  static async create(module: WebAssembly.Module): Promise<KernelInstance> {
    const instance = await WebAssembly.instantiate(module, {});
    return new KernelInstance(instance.exports as unknown as HammingExports);
  }

  get memoryBytes(): number {
    return this.exports.memory.buffer.byteLength;
  }

  /** Reserves `bytes` permanently (for a table) and returns its address. */
  pin(bytes: number): number {
    const ptr = this.pinnedEnd;
    this.pinnedEnd = align16(ptr + bytes);
    this.ensure(this.pinnedEnd);
    return ptr;
  }

  /** The scratch region, at least `bytes` long; valid until the next call that grows memory. */
  scratch(bytes: number): ScratchLayout {
    this.ensure(this.pinnedEnd + bytes);
    return new ScratchLayout(this.pinnedEnd);
  }

  private ensure(end: number): void {
    const memory = this.exports.memory;
    const have = memory.buffer.byteLength;
    if (end > have) memory.grow(Math.ceil((end - have) / PAGE));
  }

  u8(ptr: number, length: number): Uint8Array {
    return new Uint8Array(this.exports.memory.buffer, ptr, length);
  }
  u16(ptr: number, length: number): Uint16Array {
    return new Uint16Array(this.exports.memory.buffer, ptr, length);
  }
  u32(ptr: number, length: number): Uint32Array {
    return new Uint32Array(this.exports.memory.buffer, ptr, length);
  }
}
