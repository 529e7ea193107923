// In-browser hashing: the image never leaves the device, only its code does. onnxruntime-web is
// imported lazily from `ortBase` (only when the widget's hash="browser" is set), the model is the
// active index version's own (checked against its card's SHA-256), and the code is computed exactly
// as the encoder does: model-card preprocessing, then bit i = output[i] > 0, MSB first.
import type * as Ort from 'onnxruntime-web';
import { packCodes } from '../../../schemas/codeTable.js';
import type { ModelCard } from '../../../schemas/modelCard.js';
import { imageValues, preprocessInto } from '../../../schemas/preprocess.js';
import { toHex } from '../../bytes.js';
import type { EdgehashApi } from './api.js';
import { modelPixels } from './pixels.js';

/** onnxruntime-web's single-file browser build (its wasm glue inlined); the .wasm sits beside it. */
export const ORT_SCRIPT = 'ort.wasm.bundle.min.mjs';
export const ORT_WASM = 'ort-wasm-simd-threaded.wasm';

export interface BrowserHasher {
  card: ModelCard;
  /** The index version whose model this is; searches by code pin it. */
  version: number;
  /** Hex code of an image file. */
  hash(image: Blob): Promise<string>;
}

async function loadOrt(ortBase: string): Promise<typeof Ort> {
  const ort = (await import(new URL(ORT_SCRIPT, ortBase).href)) as typeof Ort;
  // Only the .wasm's URL: a prefix would also make ORT fetch the glue script the bundle already has.
  ort.env.wasm.wasmPaths = { wasm: new URL(ORT_WASM, ortBase).href };
  // Threads need cross-origin isolation, which a page embedding a widget rarely has.
  ort.env.wasm.numThreads = 1;
  return ort;
}

async function checkModel(model: ArrayBuffer, card: ModelCard): Promise<void> {
  // crypto.subtle exists only in secure contexts (https, localhost); elsewhere the size check remains.
  if (model.byteLength !== card.onnx.bytes) {
    throw new Error(`the model has ${model.byteLength} bytes, its card says ${card.onnx.bytes}`);
  }
  if (!globalThis.crypto?.subtle) return;
  const digest = toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', model)));
  if (digest !== card.onnx.checksum) throw new Error('the model does not match the active index (it changed?)');
}

/** Loads the runtime and the active index's model; resolves once a session is ready. */
export async function loadBrowserHasher(api: EdgehashApi, ortBase: string): Promise<BrowserHasher> {
  const index = await api.index();
  const card = index.model;
  if (!card) throw new Error(`index ${index.indexId} v${index.version} has no model card to hash with`);
  const [ort, model] = await Promise.all([loadOrt(ortBase), api.model(index.version)]);
  await checkModel(model, card);
  const session = await ort.InferenceSession.create(new Uint8Array(model), { executionProviders: ['wasm'] });
  const { input, output, bits } = card;
  return {
    card,
    version: index.version,
    async hash(image) {
      const values = new Float32Array(imageValues(input));
      preprocessInto(input, await modelPixels(image, input), values);
      const result = await session.run({
        [input.name]: new ort.Tensor('float32', values, [1, input.size, input.size, input.channels]),
      });
      return toHex(packCodes(result[output.name].data as Float32Array, bits));
    },
  };
}
