// onnxruntime-web (its wasm build, the runtime of the edge worker and the browser) inside Node, one
// thread: for checking that a model gives the same outputs there as in onnxruntime-node.
import * as ortWeb from 'onnxruntime-web';

let configured = false;

/** Raw outputs of `onnx` for a float32 batch [n, ...inputDims], computed by onnxruntime-web. */
export async function runInOrtWeb(
  onnx: Uint8Array,
  inputName: string,
  outputName: string,
  batch: Float32Array,
  dims: readonly number[],
): Promise<Float32Array> {
  if (!configured) {
    ortWeb.env.wasm.numThreads = 1;
    ortWeb.env.wasm.proxy = false;
    configured = true;
  }
  const session = await ortWeb.InferenceSession.create(onnx, { executionProviders: ['wasm'] });
  try {
    const result = await session.run({ [inputName]: new ortWeb.Tensor('float32', batch, [...dims]) });
    return result[outputName].data as Float32Array;
  } finally {
    await session.release();
  }
}
