// Node entry to the compiled kernel. workerd imports wasm/build/hamming.wasm as a module instead
// (it forbids compiling wasm from bytes), so this file is for Node only.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const wasmPath = fileURLToPath(new URL('./build/hamming.wasm', import.meta.url));
let compiled: Promise<WebAssembly.Module> | undefined;

export function loadKernelModule(): Promise<WebAssembly.Module> {
  compiled ??= readFile(wasmPath).then(
    (bytes) => WebAssembly.compile(bytes),
    (error: NodeJS.ErrnoException) => {
      throw new Error(`${wasmPath}: ${error.code ?? error.message}; build it with \`npm run build:wasm\``);
    },
  );
  return compiled;
}
