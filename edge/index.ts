// Worker entry: the compiled wasm modules (the Hamming kernel and onnxruntime-web's engine) are
// imported as modules, as workerd requires, and handed to the app.
import ortWasm from 'onnxruntime-web/ort-wasm-simd-threaded.wasm';
import kernelWasm from '../wasm/build/hamming.wasm';
import { createApp } from './app.js';

const app = createApp({ kernel: kernelWasm, ort: ortWasm });

export default { fetch: app.fetch };
