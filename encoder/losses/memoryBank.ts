// The latest network output and label of every training item seen so far, keyed by dataset index:
// pairwise losses (DPSH, DSH, DAH) compare a batch against the whole bank, as DeepHash-pytorch does.
// Host memory, not a tf variable: rows change every step and tfjs has no cheap in-place row update.
import * as tf from '@tensorflow/tfjs';

/** Rows of a bank as host arrays: dataset indices, [n, bits] outputs, [n, numClasses] labels. */
export interface BankRows {
  indices: Int32Array;
  outputs: Float32Array;
  labels: Float32Array;
}

export class MemoryBank {
  private rowOf = new Map<number, number>();
  private outputs: Float32Array;
  private labels: Float32Array;

  constructor(
    readonly bits: number,
    readonly numClasses: number,
    initialCapacity = 1024,
  ) {
    this.outputs = new Float32Array(initialCapacity * bits);
    this.labels = new Float32Array(initialCapacity * numClasses);
  }

  get size(): number {
    return this.rowOf.size;
  }

  /** Stores (or replaces) the rows of a batch; `u` and `labels` are read back from the backend. */
  update(indices: Int32Array, u: tf.Tensor2D, labels: tf.Tensor2D): void {
    this.write({ indices, outputs: u.dataSync() as Float32Array, labels: labels.dataSync() as Float32Array });
  }

  /**
   * Gives rows, in order, to the indices not yet stored (zero until written). A data-parallel replica
   * reserves the whole batch before writing its share, so every replica's rows come in the same order
   * as in one process, which writes the whole batch at once.
   */
  reserve(indices: Int32Array): void {
    for (const index of indices) this.rowFor(index);
  }

  /** Stores (or replaces) rows given as host arrays. */
  write(rows: BankRows): void {
    const { indices, outputs, labels } = rows;
    if (outputs.length !== indices.length * this.bits || labels.length !== indices.length * this.numClasses) {
      throw new RangeError(
        `memory bank rows: ${indices.length} indices need ${indices.length * this.bits} outputs and ` +
          `${indices.length * this.numClasses} labels, got ${outputs.length} and ${labels.length}`,
      );
    }
    indices.forEach((index, i) => {
      const row = this.rowFor(index);
      this.outputs.set(outputs.subarray(i * this.bits, (i + 1) * this.bits), row * this.bits);
      this.labels.set(labels.subarray(i * this.numClasses, (i + 1) * this.numClasses), row * this.numClasses);
    });
  }

  /** Copies of the stored rows of these dataset indices (update() or write() first). */
  read(indices: Int32Array): BankRows {
    const rows = this.rowsOf(indices);
    const outputs = new Float32Array(indices.length * this.bits);
    const labels = new Float32Array(indices.length * this.numClasses);
    rows.forEach((row, i) => {
      outputs.set(this.outputs.subarray(row * this.bits, (row + 1) * this.bits), i * this.bits);
      labels.set(this.labels.subarray(row * this.numClasses, (row + 1) * this.numClasses), i * this.numClasses);
    });
    return { indices: Int32Array.from(indices), outputs, labels };
  }

  private rowFor(index: number): number {
    let row = this.rowOf.get(index);
    if (row === undefined) {
      row = this.rowOf.size;
      this.reserveCapacity(row + 1);
      this.rowOf.set(index, row);
    }
    return row;
  }

  /** Bank rows of dataset indices already stored (update() first). */
  rowsOf(indices: Int32Array): Int32Array {
    return Int32Array.from(indices, (index) => {
      const row = this.rowOf.get(index);
      if (row === undefined) throw new RangeError(`dataset index ${index} is not in the memory bank`);
      return row;
    });
  }

  /** [size, bits] outputs and [size, numClasses] labels as tensors (caller disposes). */
  tensors(): { outputs: tf.Tensor2D; labels: tf.Tensor2D } {
    const n = this.size;
    return {
      outputs: tf.tensor2d(this.outputs.subarray(0, n * this.bits), [n, this.bits]),
      labels: tf.tensor2d(this.labels.subarray(0, n * this.numClasses), [n, this.numClasses]),
    };
  }

  private reserveCapacity(rows: number): void {
    if (rows * this.bits <= this.outputs.length) return;
    const capacity = Math.max(rows, (this.outputs.length / this.bits) * 2);
    const outputs = new Float32Array(capacity * this.bits);
    outputs.set(this.outputs);
    const labels = new Float32Array(capacity * this.numClasses);
    labels.set(this.labels);
    this.outputs = outputs;
    this.labels = labels;
  }
}

/** s_ij = 1 when rows i of `a` and j of `b` share at least one label, else 0. */
export function pairSimilarity(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.cast(tf.greater(tf.matMul(a, b, false, true), 0), 'float32') as tf.Tensor2D);
}
