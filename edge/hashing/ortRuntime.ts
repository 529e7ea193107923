// onnxruntime-web inside workerd. Workers forbid compiling wasm from bytes and give modules no
// import.meta.url, so ORT cannot fetch or compile its own wasm. The worker imports the wasm as a
// precompiled WebAssembly.Module instead, and while ORT initializes (once per isolate) emscripten's
// `WebAssembly.instantiate(bytes, imports)` is routed to that module. The bytes ORT passes are a
// placeholder: they only make emscripten take its "binary given" path, which never fetches.
import * as ort from 'onnxruntime-web/wasm';

let ready: Promise<typeof ort> | undefined;

async function initialize(ortWasm: WebAssembly.Module): Promise<typeof ort> {
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  ort.env.wasm.wasmBinary = new Uint8Array(8);
  const instantiate = WebAssembly.instantiate;
  const routed = async (source: unknown, imports?: WebAssembly.Imports) => {
    if (source instanceof WebAssembly.Module) return instantiate(source, imports);
    const instance = await instantiate(ortWasm, imports);
    return { instance, module: ortWasm };
  };
  WebAssembly.instantiate = routed as typeof WebAssembly.instantiate;
  try {
    // Creating a session is what initializes the wasm backend; an empty model fails after that point.
    await ort.InferenceSession.create(new Uint8Array(0)).catch(() => undefined);
  } finally {
    WebAssembly.instantiate = instantiate;
  }
  return ort;
}

/** onnxruntime-web, initialized once per isolate with the precompiled ORT wasm module. */
export function onnxRuntime(ortWasm: WebAssembly.Module): Promise<typeof ort> {
  ready ??= initialize(ortWasm).catch((error) => {
    ready = undefined;
    throw error;
  });
  return ready;
}
