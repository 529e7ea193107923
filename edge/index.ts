// Worker entry: the compiled wasm modules (the Hamming kernel and onnxruntime-web's engine) are
// imported as modules, as workerd requires, and handed to the app. wrangler resolves .wasm imports as
// file paths, hence the path into node_modules rather than the package export.
import ortWasm from '../node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm';
import kernelWasm from '../wasm/build/hamming.wasm';
import { createApp } from './app.js';

const app = createApp({ kernel: kernelWasm, ort: ortWasm });

export default { fetch: app.fetch };
