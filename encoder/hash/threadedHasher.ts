// An OnnxHasher on a worker thread, for the batch encoder: onnxruntime-node computes a batch
// synchronously on the thread that calls it, so with the session here the encoder's main thread
// would sit blocked during every batch. With it on a worker, the main thread decodes, gathers and
// normalizes the next batch while this one is hashed. Batches are answered in order.
import type { ModelCard } from '../../schemas/modelCard.js';
import { imageValues } from '../../schemas/preprocess.js';
import { startTsWorker } from '../workers/tsWorker.js';
import type { OnnxHasherOptions } from './onnxHasher.js';

export interface HashWorkerData {
  model: Uint8Array | string;
  card: ModelCard;
  options: OnnxHasherOptions;
}

export interface HashRequest {
  input: Float32Array;
  n: number;
}

export type HashWorkerMessage =
  | { kind: 'ready' }
  | { kind: 'codes'; codes: Uint8Array; input: Float32Array }
  | { kind: 'error'; message: string };

/** Codes of a batch, and its input buffer handed back (transferred twice, never copied) for reuse. */
export interface HashedBatch {
  codes: Uint8Array;
  input: Float32Array;
}

export class ThreadedHasher {
  /** Values of one normalized image (and bytes of one HWC uint8 image). */
  readonly imageValues: number;
  readonly bits: number;
  private readonly waiting: { resolve: (b: HashedBatch) => void; reject: (e: Error) => void }[] = [];
  private failure: Error | undefined;

  private constructor(
    private readonly worker: ReturnType<typeof startTsWorker>,
    readonly card: ModelCard,
  ) {
    this.imageValues = imageValues(card.input);
    this.bits = card.bits;
    worker.on('message', (message: HashWorkerMessage) => {
      if (message.kind === 'codes') this.waiting.shift()?.resolve({ codes: message.codes, input: message.input });
      else if (message.kind === 'error') this.waiting.shift()?.reject(new Error(message.message));
    });
    worker.on('error', (error: unknown) => this.fail(error instanceof Error ? error : new Error(String(error))));
    worker.on('exit', (code) => this.fail(new Error(`the hashing thread exited (code ${code})`)));
  }

  /** Loads the model on a new worker thread (checked against its card as OnnxHasher.create does). */
  static async create(
    model: Uint8Array | string,
    card: ModelCard,
    options: OnnxHasherOptions = {},
  ): Promise<ThreadedHasher> {
    const workerData: HashWorkerData = { model, card, options };
    const worker = startTsWorker(new URL('./hashWorker.ts', import.meta.url), { workerData });
    const first = await new Promise<HashWorkerMessage>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    }).catch(async (error: unknown) => {
      await worker.terminate();
      throw error;
    });
    if (first.kind !== 'ready') {
      await worker.terminate();
      throw new Error(first.kind === 'error' ? first.message : 'the hashing thread did not start');
    }
    return new ThreadedHasher(worker, card);
  }

  /**
   * Packed codes of a normalized float32 NHWC batch of n images. `input` is transferred to the
   * hashing thread (unusable here until it comes back in the result).
   */
  hash(input: Float32Array, n: number): Promise<HashedBatch> {
    if (!(Number.isInteger(n) && n > 0) || input.length !== n * this.imageValues) {
      return Promise.reject(
        new RangeError(`expected ${n} x ${this.imageValues} normalized values, got ${input.length}`),
      );
    }
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<HashedBatch>((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      const request: HashRequest = { input, n };
      this.worker.postMessage(request, [input.buffer as ArrayBuffer]);
    });
  }

  /** Releases the session on its thread, then lets the thread end (after the batches in flight). */
  async release(): Promise<void> {
    this.worker.removeAllListeners('exit');
    const exited = new Promise((resolve) => this.worker.once('exit', resolve));
    this.worker.postMessage('release');
    await exited;
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.waiting.splice(0)) waiter.reject(error);
  }
}
