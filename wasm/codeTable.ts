// A code table loaded into its own kernel instance: build from codes, serialize to the shard
// format (schemas/codeTable.ts), load with full validation, and rank queries against it.
import {
  CODE_TABLE_HEADER_BYTES,
  CODE_TABLE_MAGIC,
  CODE_TABLE_TRAILER_BYTES,
  CODE_TABLE_VERSION,
  CodeTableHeader,
  codeBytes,
  codeSectionBytes,
  codeTableFileBytes,
  encodeHeader,
  readHeaderFields,
} from '../schemas/codeTable.js';
import { KernelInstance } from './kernel.js';
import { fromBlocked, rowFromBlocked, toBlocked } from './layout.js';
import type { SearchOptions, SearchResult } from './searchResult.js';

export type CodeTableErrorCode =
  | 'wrong_length'
  | 'bad_magic'
  | 'unsupported_version'
  | 'invalid_header'
  | 'checksum_mismatch'
  | 'ids_not_ascending';

/** A shard that cannot be loaded; `shard` names it, `code` is stable for callers to act on. */
export class CodeTableError extends Error {
  constructor(
    readonly code: CodeTableErrorCode,
    readonly shard: string,
    detail: string,
  ) {
    super(`code table ${shard}: ${detail} (${code})`);
    this.name = 'CodeTableError';
  }
}

/** Item ids: a contiguous range starting at `base`, or an ascending table (one per code). */
export type ItemIds = { base: number } | Uint32Array;

// Queries per kernel pass: enough to reuse each cached chunk of the table, few enough that the
// per-query scratch (candidates up to 2k) stays small.
const MAX_BATCH = 32;
const BATCH_SCRATCH_BUDGET = 64 * 1024 * 1024;
// Codes per group of the kernel's bit-sliced layout (wasm/assembly/hamming.ts).
const SLICE_GROUP = 128;
const UNSLICE_SCRATCH_BYTES = 64 * 1024;

export async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
}

function assertAscending(ids: Uint32Array): number {
  for (let i = 1; i < ids.length; i++) if (ids[i] <= ids[i - 1]) return i;
  return -1;
}

export class CodeTable {
  private constructor(
    private readonly kernel: KernelInstance,
    private readonly codesPtr: number,
    readonly bits: number,
    readonly count: number,
    private readonly itemIds: ItemIds,
  ) {}

  get bytesPerCode(): number {
    return codeBytes(this.bits);
  }

  /** Builds a table from row-major packed codes (count * bits/8 bytes). */
  static async fromCodes(
    module: WebAssembly.Module,
    codes: Uint8Array,
    bits: number,
    ids: ItemIds = { base: 0 },
  ): Promise<CodeTable> {
    const header = CodeTableHeader.parse({
      version: CODE_TABLE_VERSION,
      bits,
      count: codes.length / codeBytes(bits),
      layout: 'blocked16',
      idKind: ids instanceof Uint32Array ? 'table' : 'range',
      idBase: ids instanceof Uint32Array ? 0 : ids.base,
    });
    if (ids instanceof Uint32Array) {
      if (ids.length !== header.count) throw new RangeError(`${ids.length} ids for ${header.count} codes`);
      const at = assertAscending(ids);
      if (at >= 0) throw new RangeError(`ids must be strictly ascending (index ${at})`);
    }
    const kernel = await KernelInstance.create(module);
    const bpc = codeBytes(bits);
    const ptr = CodeTable.pinSliced(kernel, header.count, bpc, (blocked) => toBlocked(codes, bpc, blocked));
    return new CodeTable(kernel, ptr, bits, header.count, ids instanceof Uint32Array ? ids.slice() : ids);
  }

  // Pins the table in the kernel's bit-sliced layout: `fill` writes the codes in blocked16 layout
  // into the start of the region, which the kernel then slices in place (no second copy).
  private static pinSliced(
    kernel: KernelInstance,
    count: number,
    bpc: number,
    fill: (blocked: Uint8Array) => void,
  ): number {
    const ptr = kernel.pin(kernel.exports.slicedBytes(count, bpc));
    fill(kernel.u8(ptr, codeSectionBytes({ bits: bpc * 8, count, layout: 'blocked16' })));
    const tmp = kernel.scratch(SLICE_GROUP * bpc).take(SLICE_GROUP * bpc);
    kernel.exports.slice(ptr, count, bpc, tmp);
    return ptr;
  }

  /** Loads and validates a shard file. Every defect is a CodeTableError naming `name`. */
  static async load(module: WebAssembly.Module, bytes: Uint8Array, name: string): Promise<CodeTable> {
    const fail = (code: CodeTableErrorCode, detail: string) => new CodeTableError(code, name, detail);
    if (bytes.length < CODE_TABLE_HEADER_BYTES + CODE_TABLE_TRAILER_BYTES) {
      throw fail('wrong_length', `${bytes.length} bytes is shorter than header and trailer`);
    }
    const raw = readHeaderFields(bytes);
    if (raw.magic !== CODE_TABLE_MAGIC) throw fail('bad_magic', `magic is not ${CODE_TABLE_MAGIC}`);
    if (raw.version !== CODE_TABLE_VERSION) {
      throw fail('unsupported_version', `version ${raw.version}, this reader supports ${CODE_TABLE_VERSION}`);
    }
    if (raw.reserved0 !== 0 || raw.reserved1 !== 0) throw fail('invalid_header', 'reserved bytes are not zero');
    const parsed = CodeTableHeader.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw fail('invalid_header', `${issue?.path.join('.')}: ${issue?.message}`);
    }
    const header = parsed.data;
    const expected = codeTableFileBytes(header);
    if (bytes.length !== expected) {
      throw fail('wrong_length', `${bytes.length} bytes, the header implies ${expected}`);
    }
    const body = bytes.subarray(0, bytes.length - CODE_TABLE_TRAILER_BYTES);
    const stored = bytes.subarray(bytes.length - CODE_TABLE_TRAILER_BYTES);
    const actual = await sha256(body);
    if (!actual.every((b, i) => b === stored[i])) throw fail('checksum_mismatch', 'SHA-256 trailer does not match');

    const codeEnd = CODE_TABLE_HEADER_BYTES + codeSectionBytes(header);
    let ids: ItemIds = { base: header.idBase };
    if (header.idKind === 'table') {
      const table = new Uint32Array(header.count);
      new Uint8Array(table.buffer).set(bytes.subarray(codeEnd, codeEnd + header.count * 4));
      const at = assertAscending(table);
      if (at >= 0) throw fail('ids_not_ascending', `id table not strictly ascending at index ${at}`);
      ids = table;
    }
    const kernel = await KernelInstance.create(module);
    const section = bytes.subarray(CODE_TABLE_HEADER_BYTES, codeEnd);
    const bpc = codeBytes(header.bits);
    const ptr = CodeTable.pinSliced(kernel, header.count, bpc, (blocked) => {
      if (header.layout === 'blocked16') blocked.set(section);
      else toBlocked(section, bpc, blocked);
    });
    return new CodeTable(kernel, ptr, header.bits, header.count, ids);
  }

  /** The shard file: header, codes (blocked16), id table if any, SHA-256 trailer. */
  async serialize(): Promise<Uint8Array> {
    const header: CodeTableHeader = {
      version: CODE_TABLE_VERSION,
      bits: this.bits,
      count: this.count,
      layout: 'blocked16',
      idKind: this.itemIds instanceof Uint32Array ? 'table' : 'range',
      idBase: this.itemIds instanceof Uint32Array ? 0 : this.itemIds.base,
    };
    const out = new Uint8Array(codeTableFileBytes(header));
    encodeHeader(header, out);
    const sectionBytes = codeSectionBytes(header);
    this.writeBlocked(out.subarray(CODE_TABLE_HEADER_BYTES, CODE_TABLE_HEADER_BYTES + sectionBytes));
    if (this.itemIds instanceof Uint32Array) {
      out.set(
        new Uint8Array(this.itemIds.buffer, this.itemIds.byteOffset, this.count * 4),
        CODE_TABLE_HEADER_BYTES + sectionBytes,
      );
    }
    const body = out.subarray(0, out.length - CODE_TABLE_TRAILER_BYTES);
    out.set(await sha256(body), body.length);
    return out;
  }

  /** Row-major packed codes (for evaluation and export). */
  codes(): Uint8Array {
    const rows = new Uint8Array(this.count * this.bytesPerCode);
    const blocked = new Uint8Array(codeSectionBytes({ bits: this.bits, count: this.count, layout: 'blocked16' }));
    this.writeBlocked(blocked);
    fromBlocked(blocked, this.count, this.bytesPerCode, rows);
    return rows;
  }

  /** The packed code at position `index`, unslicing only its group (an item lookup, not a whole shard). */
  codeAt(index: number): Uint8Array {
    if (!(Number.isInteger(index) && index >= 0 && index < this.count)) {
      throw new RangeError(`code position ${index} is outside the table's ${this.count} codes`);
    }
    const bpc = this.bytesPerCode;
    const group = Math.floor(index / SLICE_GROUP);
    const groupBytes = SLICE_GROUP * bpc;
    const ptr = this.kernel.scratch(groupBytes).take(groupBytes);
    this.kernel.exports.unslice(this.codesPtr, group, group + 1, bpc, ptr);
    const out = new Uint8Array(bpc);
    rowFromBlocked(this.kernel.u8(ptr, groupBytes), index - group * SLICE_GROUP, bpc, out);
    return out;
  }

  // The codes in blocked16 layout, unsliced a few groups at a time through the scratch region.
  private writeBlocked(out: Uint8Array): void {
    const groupBytes = SLICE_GROUP * this.bytesPerCode;
    const groups = Math.ceil(this.count / SLICE_GROUP);
    const perPass = Math.max(1, Math.floor(UNSLICE_SCRATCH_BYTES / groupBytes));
    for (let g0 = 0; g0 < groups; g0 += perPass) {
      const g1 = Math.min(groups, g0 + perPass);
      const ptr = this.kernel.scratch((g1 - g0) * groupBytes).take((g1 - g0) * groupBytes);
      this.kernel.exports.unslice(this.codesPtr, g0, g1, this.bytesPerCode, ptr);
      const at = g0 * groupBytes;
      out.set(this.kernel.u8(ptr, Math.min(out.length - at, (g1 - g0) * groupBytes)), at);
    }
  }

  /** Item id of the code at position `index`. */
  idAt(index: number): number {
    return this.itemIds instanceof Uint32Array ? this.itemIds[index] : this.itemIds.base + index;
  }

  /** Bytes this table holds in memory: the kernel instance's linear memory plus the id table. */
  get memoryBytes(): number {
    return this.kernel.memoryBytes + (this.itemIds instanceof Uint32Array ? this.itemIds.byteLength : 0);
  }

  /** Exact top-k of one query, sorted by (distance, id). */
  search(query: Uint8Array, k: number, options: SearchOptions = {}): SearchResult {
    return this.searchBatch(query, k, options)[0];
  }

  /** Exact top-k of each query in `queries` (nq * bits/8 bytes), in batched passes over the table. */
  searchBatch(queries: Uint8Array, k: number, options: SearchOptions = {}): SearchResult[] {
    const bpc = this.bytesPerCode;
    if (queries.length === 0 || queries.length % bpc !== 0) {
      throw new RangeError(`queries must be a non-empty multiple of ${bpc} bytes, got ${queries.length}`);
    }
    if (!Number.isInteger(k) || k < 0) throw new RangeError(`k must be a non-negative integer, got ${k}`);
    const maxDist = this.maxDistance(options.radius);
    const kEff = Math.min(k, this.count);
    const nq = queries.length / bpc;
    const perQuery = this.kernel.exports.scratchBytes(1, this.count, bpc, kEff, maxDist) + kEff * 6 + bpc + 8;
    const batch = Math.max(1, Math.min(MAX_BATCH, Math.floor(BATCH_SCRATCH_BUDGET / perQuery)));
    const results: SearchResult[] = [];
    for (let q0 = 0; q0 < nq; q0 += batch) {
      const q1 = Math.min(nq, q0 + batch);
      results.push(...this.runBatch(queries.subarray(q0 * bpc, q1 * bpc), q1 - q0, kEff, maxDist));
    }
    return results;
  }

  /** Every code within `radius` of the query, sorted by (distance, id). */
  within(query: Uint8Array, radius: number): SearchResult {
    const maxDist = this.maxDistance(radius);
    const bpc = this.bytesPerCode;
    this.checkQuery(query);
    const { countWithin, countScratchBytes } = this.kernel.exports;
    const layout = this.kernel.scratch(countScratchBytes(bpc) + bpc + 16);
    const queryPtr = layout.take(bpc);
    const scratch = layout.take(countScratchBytes(bpc));
    this.kernel.u8(queryPtr, bpc).set(query);
    const count = countWithin(this.codesPtr, this.count, bpc, queryPtr, maxDist, scratch);
    return this.runBatch(query, 1, count, maxDist)[0];
  }

  private maxDistance(radius: number | undefined): number {
    if (radius === undefined) return this.bits;
    if (!Number.isInteger(radius) || radius < 0) {
      throw new RangeError(`radius must be a non-negative integer, got ${radius}`);
    }
    return Math.min(radius, this.bits);
  }

  private checkQuery(query: Uint8Array): void {
    if (query.length !== this.bytesPerCode) {
      throw new RangeError(`query must be ${this.bytesPerCode} bytes, got ${query.length}`);
    }
  }

  private runBatch(queries: Uint8Array, nq: number, k: number, maxDist: number): SearchResult[] {
    const { exports } = this.kernel;
    const bpc = this.bytesPerCode;
    const work = exports.scratchBytes(nq, this.count, bpc, k, maxDist);
    const layout = this.kernel.scratch(work + queries.length + nq * k * 6 + nq * 4 + 64);
    const scratch = layout.take(work);
    const queryPtr = layout.take(queries.length);
    const outIdx = layout.take(nq * k * 4);
    const outDist = layout.take(nq * k * 2);
    const outCount = layout.take(nq * 4);
    this.kernel.u8(queryPtr, queries.length).set(queries);
    exports.topk(this.codesPtr, this.count, bpc, queryPtr, nq, k, maxDist, scratch, outIdx, outDist, outCount);
    const counts = this.kernel.u32(outCount, nq);
    const idx = this.kernel.u32(outIdx, nq * k);
    const dist = this.kernel.u16(outDist, nq * k);
    const results: SearchResult[] = [];
    for (let q = 0; q < nq; q++) {
      const found = idx.subarray(q * k, q * k + counts[q]);
      const ids = new Uint32Array(found.length);
      if (this.itemIds instanceof Uint32Array) {
        for (let i = 0; i < found.length; i++) ids[i] = this.itemIds[found[i]];
      } else {
        const base = this.itemIds.base;
        for (let i = 0; i < found.length; i++) ids[i] = base + found[i];
      }
      results.push({ ids, distances: dist.slice(q * k, q * k + counts[q]) });
    }
    return results;
  }
}

/** Merges per-shard results (each sorted by (distance, id)) into the first k overall. */
export class ResultMerger {
  private constructor(private readonly kernel: KernelInstance) {}

  static async create(module: WebAssembly.Module): Promise<ResultMerger> {
    return new ResultMerger(await KernelInstance.create(module));
  }

  merge(lists: readonly SearchResult[], k: number): SearchResult {
    const m = lists.length;
    const total = lists.reduce((sum, l) => sum + l.ids.length, 0);
    const layout = this.kernel.scratch((m + 1) * 8 + total * 6 + Math.min(k, total) * 6 + 128);
    const offsets = layout.take((m + 1) * 4);
    const heads = layout.take(m * 4);
    const ids = layout.take(total * 4);
    const dists = layout.take(total * 2);
    const kEff = Math.min(k, total);
    const outIds = layout.take(kEff * 4);
    const outDists = layout.take(kEff * 2);
    const offsetView = this.kernel.u32(offsets, m + 1);
    const idView = this.kernel.u32(ids, total);
    const distView = this.kernel.u16(dists, total);
    let at = 0;
    lists.forEach((list, i) => {
      offsetView[i] = at;
      idView.set(list.ids, at);
      distView.set(list.distances, at);
      at += list.ids.length;
    });
    offsetView[m] = at;
    const n = this.kernel.exports.merge(m, offsets, ids, dists, kEff, heads, outIds, outDists);
    return { ids: this.kernel.u32(outIds, n).slice(), distances: this.kernel.u16(outDists, n).slice() };
  }
}
