// Code-table shard format v1: the one definition of the bytes that the encoder writes and the
// edge reads. The header layout table below drives encoding, decoding and the byte-by-byte
// documentation (docs/formats.md is checked against it by a test).
import { z } from 'zod';

export const CODE_TABLE_MAGIC = 'EHCT';
export const CODE_TABLE_VERSION = 1;
export const CODE_TABLE_HEADER_BYTES = 32;
export const CODE_TABLE_TRAILER_BYTES = 32;
export const CODE_TABLE_FILE_EXTENSION = '.ehct';
export const MAX_BITS = 1024;
/** Codes per block in the `blocked16` layout. */
export const BLOCK_CODES = 16;

export const codeLayouts = ['row-major', 'blocked16'] as const;
export type CodeLayout = (typeof codeLayouts)[number];
export const idKinds = ['range', 'table'] as const;
export type IdKind = (typeof idKinds)[number];

type FieldType = 'ascii4' | 'u8' | 'u16' | 'u32' | 'zero';

/** One header field: where it sits, how it is stored, what it means. */
export interface HeaderField {
  name: string;
  offset: number;
  size: number;
  type: FieldType;
  meaning: string;
}

export const codeTableHeaderLayout: readonly HeaderField[] = [
  { name: 'magic', offset: 0, size: 4, type: 'ascii4', meaning: 'ASCII "EHCT"' },
  { name: 'version', offset: 4, size: 2, type: 'u16', meaning: 'format version, 1' },
  { name: 'bits', offset: 6, size: 2, type: 'u16', meaning: 'bits per code, a multiple of 8 in 8..1024' },
  { name: 'count', offset: 8, size: 4, type: 'u32', meaning: 'number of codes N' },
  { name: 'layout', offset: 12, size: 1, type: 'u8', meaning: '0 = row-major, 1 = blocked16' },
  { name: 'idKind', offset: 13, size: 1, type: 'u8', meaning: '0 = range (id = idBase + i), 1 = table' },
  { name: 'reserved0', offset: 14, size: 2, type: 'zero', meaning: 'zero' },
  { name: 'idBase', offset: 16, size: 4, type: 'u32', meaning: 'first id when idKind = range, else 0' },
  { name: 'reserved1', offset: 20, size: 12, type: 'zero', meaning: 'zero' },
];

const u32 = z.number().int().min(0).max(0xffffffff);

/** Validated header values; the TypeScript type derives from this schema. */
export const CodeTableHeader = z
  .object({
    version: z.literal(CODE_TABLE_VERSION),
    bits: z.number().int().min(8).max(MAX_BITS).multipleOf(8),
    count: u32,
    layout: z.enum(codeLayouts),
    idKind: z.enum(idKinds),
    idBase: u32,
  })
  .refine((h) => h.idKind === 'table' || h.idBase + h.count <= 0x1_0000_0000, {
    message: 'idBase + count exceeds the u32 id space',
    path: ['idBase'],
  })
  .refine((h) => h.idKind === 'range' || h.idBase === 0, {
    message: 'idBase must be 0 when ids are stored in a table',
    path: ['idBase'],
  });
export type CodeTableHeader = z.infer<typeof CodeTableHeader>;

/** Bytes per code. */
export function codeBytes(bits: number): number {
  return bits >>> 3;
}

/** Bytes of the code section for a layout (blocked16 pads the last block with zero codes). */
export function codeSectionBytes(header: Pick<CodeTableHeader, 'bits' | 'count' | 'layout'>): number {
  const rows = header.layout === 'blocked16' ? Math.ceil(header.count / BLOCK_CODES) * BLOCK_CODES : header.count;
  return rows * codeBytes(header.bits);
}

/** Exact length of a shard file with this header. */
export function codeTableFileBytes(header: CodeTableHeader): number {
  const ids = header.idKind === 'table' ? header.count * 4 : 0;
  return CODE_TABLE_HEADER_BYTES + codeSectionBytes(header) + ids + CODE_TABLE_TRAILER_BYTES;
}

const encodedEnum = {
  layout: codeLayouts,
  idKind: idKinds,
} as const;

/** Writes the header into the first CODE_TABLE_HEADER_BYTES of `out`. */
export function encodeHeader(header: CodeTableHeader, out: Uint8Array): void {
  const view = new DataView(out.buffer, out.byteOffset, CODE_TABLE_HEADER_BYTES);
  const values: Record<string, number | string> = {
    magic: CODE_TABLE_MAGIC,
    ...header,
    layout: codeLayouts.indexOf(header.layout),
    idKind: idKinds.indexOf(header.idKind),
  };
  for (const field of codeTableHeaderLayout) {
    const value = values[field.name];
    switch (field.type) {
      case 'ascii4':
        for (let i = 0; i < 4; i++) view.setUint8(field.offset + i, String(value).charCodeAt(i));
        break;
      case 'u8':
        view.setUint8(field.offset, Number(value));
        break;
      case 'u16':
        view.setUint16(field.offset, Number(value), true);
        break;
      case 'u32':
        view.setUint32(field.offset, Number(value), true);
        break;
      case 'zero':
        for (let i = 0; i < field.size; i++) view.setUint8(field.offset + i, 0);
        break;
    }
  }
}

/** Raw field values, before validation. */
export function readHeaderFields(bytes: Uint8Array): Record<string, number | string> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, CODE_TABLE_HEADER_BYTES);
  const raw: Record<string, number | string> = {};
  for (const field of codeTableHeaderLayout) {
    switch (field.type) {
      case 'ascii4':
        raw[field.name] = String.fromCharCode(...bytes.subarray(field.offset, field.offset + 4));
        break;
      case 'u8':
        raw[field.name] = view.getUint8(field.offset);
        break;
      case 'u16':
        raw[field.name] = view.getUint16(field.offset, true);
        break;
      case 'u32':
        raw[field.name] = view.getUint32(field.offset, true);
        break;
      case 'zero': {
        const nonZero = bytes.subarray(field.offset, field.offset + field.size).some((b) => b !== 0);
        raw[field.name] = nonZero ? 1 : 0;
        break;
      }
    }
  }
  for (const [name, names] of Object.entries(encodedEnum)) {
    const index = raw[name] as number;
    raw[name] = (names as readonly string[])[index] ?? `unknown(${index})`;
  }
  return raw;
}

/** Packs real-valued hash outputs (count * bits, row-major) into codes: bit i is 1 when value i > 0. */
export function packCodes(values: ArrayLike<number>, bits: number): Uint8Array {
  const count = values.length / bits;
  const bpc = codeBytes(bits);
  const out = new Uint8Array(count * bpc);
  for (let i = 0; i < count; i++) {
    for (let b = 0; b < bits; b++) {
      if (values[i * bits + b] > 0) out[i * bpc + (b >>> 3)] |= 0x80 >>> (b & 7);
    }
  }
  return out;
}
