// Several ThreadedHashers, one onnxruntime thread each, taking batches in turn. Measured on the
// 2-core machine (npx tsx bench/encode/sessions.ts): 2 threads x 1 intra-op thread hash 9,559
// img/s where 1 thread x 2 intra-op threads hash 8,510, since one batch per core needs no
// synchronisation inside an operator. Answers come back in submission order when the caller awaits
// them in that order (each thread answers its own batches in order).
import type { ModelCard } from '../../schemas/modelCard.js';
import type { OnnxHasherOptions } from './onnxHasher.js';
import { type HashedBatch, ThreadedHasher } from './threadedHasher.js';

export class HasherPool {
  private next = 0;

  private constructor(private readonly hashers: ThreadedHasher[]) {}

  /** `threads` hashing threads (each with one intra-op thread unless options say otherwise). */
  static async create(
    model: Uint8Array | string,
    card: ModelCard,
    threads: number,
    options: OnnxHasherOptions = {},
  ): Promise<HasherPool> {
    if (!(Number.isInteger(threads) && threads > 0))
      throw new RangeError(`threads must be a positive integer, got ${threads}`);
    const started = await Promise.allSettled(
      Array.from({ length: threads }, () => ThreadedHasher.create(model, card, { intraOpNumThreads: 1, ...options })),
    );
    const hashers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) {
      await Promise.all(hashers.map((h) => h.release()));
      throw failed.reason;
    }
    return new HasherPool(hashers);
  }

  get size(): number {
    return this.hashers.length;
  }

  get card(): ModelCard {
    return this.hashers[0].card;
  }

  get bits(): number {
    return this.hashers[0].bits;
  }

  /** Hashes on the next thread in turn (see ThreadedHasher.hash). */
  hash(input: Float32Array, n: number): Promise<HashedBatch> {
    const hasher = this.hashers[this.next];
    this.next = (this.next + 1) % this.hashers.length;
    return hasher.hash(input, n);
  }

  async release(): Promise<void> {
    await Promise.all(this.hashers.map((h) => h.release()));
  }
}
