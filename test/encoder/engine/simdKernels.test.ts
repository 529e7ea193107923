// The SIMD training kernels share the tfjs wasm backend's memory, so the module must never write
// where it was not told: it imports that memory and has no data segment (which would be copied
// into the backend's heap at instantiation) and no start function.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';

const wasmUrl = new URL('../../../encoder/engine/build/trainKernels.wasm', import.meta.url);

/** Section ids of a wasm binary, in order. */
function sectionIds(bytes: Uint8Array): number[] {
  const ids: number[] = [];
  let at = 8; // magic + version
  while (at < bytes.length) {
    const id = bytes[at++];
    let size = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = bytes[at++];
      size |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) break;
    }
    ids.push(id);
    at += size;
  }
  return ids;
}

describe('trainKernels.wasm', () => {
  it('imports its memory and has no data segment and no start function', async () => {
    const bytes = new Uint8Array(await readFile(wasmUrl));
    const module = await WebAssembly.compile(bytes);
    expect(WebAssembly.Module.imports(module)).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
    const ids = sectionIds(bytes);
    expect(ids).toContain(10); // code
    expect(ids).not.toContain(11); // data
    expect(ids).not.toContain(8); // start
    expect(WebAssembly.Module.exports(module).map((e) => e.name)).not.toContain('__new');
  });
});
