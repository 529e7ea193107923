// Shard files: round trips, both layouts, and every defect rejected with a typed error.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CODE_TABLE_HEADER_BYTES,
  CODE_TABLE_TRAILER_BYTES,
  type CodeTableHeader,
  codeTableFileBytes,
  encodeHeader,
} from '../../schemas/codeTable.js';
import { CodeTable, CodeTableError, type CodeTableErrorCode, sha256 } from '../../wasm/index.js';
import { loadKernelModule } from '../../wasm/nodeModule.js';
import { randomBytes } from '../support/random.js';

let module: WebAssembly.Module;
beforeAll(async () => {
  module = await loadKernelModule();
});

/** Rewrites the trailer so a deliberately changed file still passes the checksum. */
async function reseal(bytes: Uint8Array): Promise<Uint8Array> {
  const body = bytes.subarray(0, bytes.length - CODE_TABLE_TRAILER_BYTES);
  bytes.set(await sha256(body), body.length);
  return bytes;
}

async function expectLoadError(bytes: Uint8Array, code: CodeTableErrorCode) {
  const error = await CodeTable.load(module, bytes, 'shard-7').catch((e: unknown) => e);
  expect(error).toBeInstanceOf(CodeTableError);
  expect(error).toMatchObject({ code, shard: 'shard-7' });
  expect((error as Error).message).toContain('shard-7');
}

describe('code table files', () => {
  it('round-trip codes, ids and results, with the exact length the header implies', async () => {
    const codes = randomBytes(1001 * 8, 1);
    const ids = Uint32Array.from({ length: 1001 }, (_, i) => i * 3 + 10);
    const table = await CodeTable.fromCodes(module, codes, 64, ids);
    const bytes = await table.serialize();
    expect(bytes.length).toBe(32 + 1008 * 8 + 1001 * 4 + 32);
    const loaded = await CodeTable.load(module, bytes, 'a');
    expect(loaded.codes()).toEqual(codes);
    expect(loaded.idAt(1000)).toBe(3010);
    const query = codes.subarray(8 * 500, 8 * 501);
    expect(loaded.search(query, 5)).toEqual(table.search(query, 5));
    expect(loaded.search(query, 1).ids[0]).toBe(1510);
  });

  it('codes survive the in-memory bit-sliced layout exactly, for every code length and partial group', async () => {
    // 10,000 x 64 bits spans several unslice passes; 1, 127 and 129 codes leave partial groups.
    for (const [bits, count] of [
      [8, 1],
      [24, 127],
      [64, 10_000],
      [136, 129],
      [1024, 300],
    ]) {
      const codes = randomBytes(count * (bits / 8), bits + count);
      const table = await CodeTable.fromCodes(module, codes, bits);
      expect(table.codes()).toEqual(codes);
      const bpc = bits / 8;
      for (const i of [0, count - 1, Math.floor(count / 2), Math.min(count - 1, 128)]) {
        expect(table.codeAt(i), `${bits}x${count} #${i}`).toEqual(codes.subarray(i * bpc, (i + 1) * bpc));
      }
      expect(() => table.codeAt(count)).toThrow(RangeError);
      const loaded = await CodeTable.load(module, await table.serialize(), `${bits}x${count}`);
      expect(loaded.codes()).toEqual(codes);
      expect(await loaded.serialize()).toEqual(await table.serialize());
    }
  });

  it('loads a row-major shard (as another writer may produce) into the same results', async () => {
    const codes = randomBytes(300 * 16, 2);
    const header: CodeTableHeader = {
      version: 1,
      bits: 128,
      count: 300,
      layout: 'row-major',
      idKind: 'range',
      idBase: 5,
    };
    const bytes = new Uint8Array(codeTableFileBytes(header));
    encodeHeader(header, bytes);
    bytes.set(codes, CODE_TABLE_HEADER_BYTES);
    const loaded = await CodeTable.load(module, await reseal(bytes), 'row');
    const built = await CodeTable.fromCodes(module, codes, 128, { base: 5 });
    const query = randomBytes(16, 3);
    expect(loaded.search(query, 20)).toEqual(built.search(query, 20));
    expect(loaded.codes()).toEqual(codes);
  });

  it('holds an empty table and answers with nothing', async () => {
    const table = await CodeTable.fromCodes(module, new Uint8Array(0), 64);
    const loaded = await CodeTable.load(module, await table.serialize(), 'empty');
    expect(loaded.count).toBe(0);
    expect(loaded.search(new Uint8Array(8), 10).ids).toHaveLength(0);
    expect(loaded.within(new Uint8Array(8), 64).ids).toHaveLength(0);
  });

  describe('rejects', () => {
    let good: Uint8Array;
    beforeAll(async () => {
      good = await (await CodeTable.fromCodes(module, randomBytes(50 * 8, 4), 64, { base: 0 })).serialize();
    });
    const copy = () => good.slice();

    it('a file shorter than header and trailer', () => expectLoadError(good.slice(0, 40), 'wrong_length'));
    it('a truncated file', async () => expectLoadError(await reseal(good.slice(0, good.length - 8)), 'wrong_length'));
    it('a file with extra bytes', async () => {
      const longer = new Uint8Array(good.length + 16);
      longer.set(good);
      await expectLoadError(await reseal(longer), 'wrong_length');
    });
    it('a bad magic', () => {
      const bytes = copy();
      bytes[0] = 0x50;
      return expectLoadError(bytes, 'bad_magic');
    });
    it('an unsupported version', () => {
      const bytes = copy();
      bytes[4] = 2;
      return expectLoadError(bytes, 'unsupported_version');
    });
    it('bits that are not a multiple of 8', async () => {
      const bytes = copy();
      bytes[6] = 63;
      await expectLoadError(await reseal(bytes), 'invalid_header');
    });
    it('an unknown layout', async () => {
      const bytes = copy();
      bytes[12] = 9;
      await expectLoadError(await reseal(bytes), 'invalid_header');
    });
    it('non-zero reserved bytes', async () => {
      const bytes = copy();
      bytes[25] = 1;
      await expectLoadError(await reseal(bytes), 'invalid_header');
    });
    it('a range of ids past 2^32', async () => {
      const bytes = copy();
      new DataView(bytes.buffer).setUint32(16, 0xffffffff, true);
      await expectLoadError(await reseal(bytes), 'invalid_header');
    });
    it('a flipped bit anywhere in the codes', () => {
      const bytes = copy();
      bytes[100] ^= 1;
      return expectLoadError(bytes, 'checksum_mismatch');
    });
    it('a damaged trailer', () => {
      const bytes = copy();
      bytes[bytes.length - 1] ^= 0xff;
      return expectLoadError(bytes, 'checksum_mismatch');
    });
    it('an id table that is not strictly ascending', async () => {
      const table = await CodeTable.fromCodes(
        module,
        randomBytes(10 * 8, 5),
        64,
        Uint32Array.from({ length: 10 }, (_, i) => i),
      );
      const bytes = await table.serialize();
      const idsAt = CODE_TABLE_HEADER_BYTES + 16 * 8;
      new DataView(bytes.buffer).setUint32(idsAt + 4 * 4, 2, true);
      await expectLoadError(await reseal(bytes), 'ids_not_ascending');
    });
  });

  it('rejects bad arguments with RangeError, not a wrong answer', async () => {
    const table = await CodeTable.fromCodes(module, randomBytes(10 * 8, 6), 64);
    expect(() => table.search(new Uint8Array(7), 1)).toThrow(RangeError);
    expect(() => table.search(new Uint8Array(8), -1)).toThrow(RangeError);
    expect(() => table.search(new Uint8Array(8), 1.5)).toThrow(RangeError);
    expect(() => table.search(new Uint8Array(8), 1, { radius: -1 })).toThrow(RangeError);
    await expect(CodeTable.fromCodes(module, randomBytes(10, 6), 64)).rejects.toThrow();
    await expect(CodeTable.fromCodes(module, randomBytes(16, 6), 64, Uint32Array.of(2, 1))).rejects.toThrow(
      /ascending/,
    );
  });
});

describe('memory', () => {
  it('a loaded 1M x 64-bit table costs at most its packed size + 5%', async () => {
    const table = await CodeTable.fromCodes(module, randomBytes(1_000_000 * 8, 8), 64);
    const bytes = await table.serialize();
    const loaded = await CodeTable.load(module, bytes, 'big');
    loaded.search(randomBytes(8, 9), 100);
    expect(loaded.memoryBytes).toBeLessThanOrEqual(bytes.length * 1.05);
  });
});
