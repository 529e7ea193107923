// One ONNX hash model in onnxruntime-web: model-input pixels -> normalized tensor (schemas/preprocess.ts)
// -> model output -> packed code (schemas/codeTable.ts packCodes). Concurrent requests call run() on
// the one session: the single-threaded wasm backend runs each inference to completion in one call.
import type * as ort from 'onnxruntime-web/wasm';
import { packCodes } from '../../schemas/codeTable.js';
import type { ModelCard } from '../../schemas/modelCard.js';
import { imageValues, preprocessInto } from '../../schemas/preprocess.js';
import { IndexStoreError } from '../storage/indexReader.js';

type Ort = typeof ort;

/** A model dropped from the store and unloaded while a request held it: fetching it again works. */
export class ModelUnloadedError extends IndexStoreError {}

export class ModelHasher {
  /** Runs in progress; a retired hasher releases its session when the last one ends. */
  private running = 0;
  private retired = false;
  private released = false;

  private constructor(
    private readonly ort: Ort,
    private readonly session: ort.InferenceSession,
    readonly card: ModelCard,
    readonly onnxBytes: number,
  ) {}

  static async create(runtime: Ort, card: ModelCard, onnx: Uint8Array): Promise<ModelHasher> {
    const session = await runtime.InferenceSession.create(onnx, { executionProviders: ['wasm'] });
    const hasher = new ModelHasher(runtime, session, card, onnx.byteLength);
    // One run on a blank image: the first inference pays one-off costs (the engine compiles its wasm
    // functions lazily, buffers are sized) that belong to the load, not to a user's first search; and a
    // model whose output does not fit the card fails its load here.
    const { size, channels } = card.input;
    await hasher.hash(new Uint8Array(size * size * channels));
    return hasher;
  }

  /**
   * No new runs: the session (its onnxruntime wasm memory) is released once the runs in progress
   * end. The model store retires the models it drops, which would otherwise hold their memory for
   * the isolate's life.
   */
  retire(): void {
    this.retired = true;
    this.releaseIfIdle();
  }

  private releaseIfIdle(): void {
    if (!this.retired || this.running > 0 || this.released) return;
    this.released = true;
    this.session.release().catch((error: unknown) => console.error(`edgehash: releasing a model failed: ${error}`));
  }

  /** The code of one image given as HWC bytes at the card's input size and channels. */
  async hash(pixels: Uint8Array): Promise<Uint8Array> {
    if (this.released) {
      throw new ModelUnloadedError(`model ${this.card.modelId} was unloaded while this request held it; retry`);
    }
    this.running++;
    try {
      return await this.run(pixels);
    } finally {
      this.running--;
      this.releaseIfIdle();
    }
  }

  private async run(pixels: Uint8Array): Promise<Uint8Array> {
    const { input, output, bits } = this.card;
    const values = new Float32Array(imageValues(input));
    preprocessInto(input, pixels, values);
    const tensor = new this.ort.Tensor('float32', values, [1, input.size, input.size, input.channels]);
    const outputs = await this.session.run({ [input.name]: tensor });
    const result = outputs[output.name];
    if (!result || result.data.length !== bits) {
      throw new Error(
        `model ${this.card.modelId}: output ${output.name} has ${result?.data.length ?? 0} values, expected ${bits}`,
      );
    }
    return packCodes(result.data as Float32Array, bits);
  }
}
