// Hashing with an exported model in onnxruntime-node: bytes in, packed codes out, preprocessed by the
// shared schemas/preprocess.ts exactly as the edge and the widget do. The batch encoder builds on it.
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import { packCodes } from '../../schemas/codeTable.js';
import type { ModelCard } from '../../schemas/modelCard.js';
import { imageValues, preprocessInto } from '../../schemas/preprocess.js';
import { sha256Hex } from '../export/modelCard.js';

export interface OnnxHasherOptions {
  /** Threads inside one operator; default every core. */
  intraOpNumThreads?: number;
  /** onnxruntime-node execution providers, e.g. ['cuda', 'cpu'] where the install has CUDA; default ['cpu']. */
  executionProviders?: ort.InferenceSession.SessionOptions['executionProviders'];
}

// Weight-only int8 models (float activations) are computed in float32 with the dequantized weights.
// onnxruntime keeps each weight's DequantizeLinear in the graph by default (for QDQ fusions) and
// runs it on every batch; with QDQ fusion off, constant folding dequantizes the weights once at load:
// the same float32 values, so the same codes as onnxruntime-web, and measured 4,833 -> 8,347 img/s,
// as fast as the float model (npx tsx bench/encode/sessions.ts).
// Otherwise onnxruntime-node would turn a weight-only int8 MatMul into MatMulNBits computing with
// int8 activations (accuracy level 4); level 1 keeps float activations, as the card says.
function sessionConfig(card: ModelCard): Record<string, string> {
  if (card.quantization?.activations === 'float32') return { disable_quant_qdq: '1' };
  return { qdq_matmulnbits_accuracy_level: '1' };
}

export class OnnxHasher {
  /** Bytes of one image at the card's size (HWC uint8). */
  readonly imageBytes: number;
  readonly bits: number;

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly card: ModelCard,
  ) {
    this.imageBytes = imageValues(card.input);
    this.bits = card.bits;
  }

  /**
   * Loads the model (bytes, or a path to the .onnx file) and checks it against its card: the SHA-256,
   * and the input and output names.
   */
  static async create(
    model: Uint8Array | string,
    card: ModelCard,
    options: OnnxHasherOptions = {},
  ): Promise<OnnxHasher> {
    const bytes = typeof model === 'string' ? new Uint8Array(await readFile(model)) : model;
    const source = typeof model === 'string' ? model : `model ${card.modelId}`;
    const checksum = sha256Hex(bytes);
    if (checksum !== card.onnx.checksum) {
      throw new Error(`${source}: SHA-256 ${checksum} does not match its model card (${card.onnx.checksum})`);
    }
    const session = await ort.InferenceSession.create(bytes, {
      intraOpNumThreads: options.intraOpNumThreads ?? availableParallelism(),
      interOpNumThreads: 1,
      executionProviders: options.executionProviders ?? ['cpu'],
      graphOptimizationLevel: 'all',
      extra: { session: sessionConfig(card) },
    });
    if (!session.inputNames.includes(card.input.name) || !session.outputNames.includes(card.output.name)) {
      await session.release();
      throw new Error(
        `${source}: tensors ${session.inputNames} -> ${session.outputNames} do not match the card's ` +
          `${card.input.name} -> ${card.output.name}`,
      );
    }
    return new OnnxHasher(session, card);
  }

  /** Raw outputs [n, bits] for a normalized float32 NHWC batch of n images. */
  async outputs(batch: Float32Array, n: number): Promise<Float32Array> {
    if (!(Number.isInteger(n) && n > 0) || batch.length !== n * this.imageBytes) {
      throw new RangeError(`expected ${n} x ${this.imageBytes} normalized values, got ${batch.length}`);
    }
    const { size, channels, name } = this.card.input;
    const input = new ort.Tensor('float32', batch, [n, size, size, channels]);
    const result = await this.session.run({ [name]: input });
    return result[this.card.output.name].data as Float32Array;
  }

  /** Packed codes of a normalized float32 NHWC batch of n images (as preprocessInto writes them). */
  async hashNormalized(batch: Float32Array, n: number): Promise<Uint8Array> {
    return packCodes(await this.outputs(batch, n), this.bits);
  }

  /** Packed codes (n * bits / 8 bytes, bit i of a code = output i > 0, MSB first) of n HWC uint8 images. */
  async hashPixels(pixels: Uint8Array, n: number): Promise<Uint8Array> {
    if (!(Number.isInteger(n) && n > 0) || pixels.length !== n * this.imageBytes) {
      throw new RangeError(`expected ${n} images of ${this.imageBytes} bytes, got ${pixels.length} bytes`);
    }
    const batch = new Float32Array(pixels.length);
    preprocessInto(this.card.input, pixels, batch);
    return this.hashNormalized(batch, n);
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
