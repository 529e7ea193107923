// The latest network output and label of every training item seen so far, keyed by dataset index:
// pairwise losses (DPSH, DSH, DAH) compare a batch against the whole bank, as DeepHash-pytorch does.
// Host memory, not a tf variable: rows change every step and tfjs has no cheap in-place row update.
import * as tf from '@tensorflow/tfjs';
import type { NamedArray } from './types.js';

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
  /** 1 for rows written at least once; reserve() leaves a row unwritten until its write(). */
  private written: Uint8Array;
  private unwritten = 0;

  constructor(
    readonly bits: number,
    readonly numClasses: number,
    initialCapacity = 1024,
  ) {
    this.outputs = new Float32Array(initialCapacity * bits);
    this.labels = new Float32Array(initialCapacity * numClasses);
    this.written = new Uint8Array(initialCapacity);
  }

  get size(): number {
    return this.rowOf.size;
  }

  /** Stores (or replaces) the rows of a batch; `u` and `labels` are read back from the backend. */
  update(indices: Int32Array, u: tf.Tensor2D, labels: tf.Tensor2D): void {
    this.write({ indices, outputs: u.dataSync() as Float32Array, labels: labels.dataSync() as Float32Array });
  }

  /**
   * Gives rows, in order, to the indices not yet stored (zero and unwritten until written). A data-parallel replica
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
      if (this.written[row] === 0) {
        this.written[row] = 1;
        this.unwritten--;
      }
      this.outputs.set(outputs.subarray(i * this.bits, (i + 1) * this.bits), row * this.bits);
      this.labels.set(labels.subarray(i * this.numClasses, (i + 1) * this.numClasses), row * this.numClasses);
    });
  }

  /** Copies of the stored rows of these dataset indices (update() or write() first). */
  read(indices: Int32Array): BankRows {
    return { indices: Int32Array.from(indices), ...this.copyRows(this.rowsOf(indices)) };
  }

  private rowFor(index: number): number {
    let row = this.rowOf.get(index);
    if (row === undefined) {
      row = this.rowOf.size;
      this.reserveCapacity(row + 1);
      this.rowOf.set(index, row);
      this.unwritten++;
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

  /** [size, numClasses] labels as a tensor (caller disposes); what a loss needs that does not read the outputs. */
  labelTensor(): tf.Tensor2D {
    return tf.tensor2d(this.labels.subarray(0, this.size * this.numClasses), [this.size, this.numClasses]);
  }

  /** Label statistics of the stored rows (see labelStatistics). */
  labelStatistics(): LabelStatistics {
    return labelStatistics(this.labels.subarray(0, this.size * this.numClasses), this.numClasses);
  }

  /**
   * The written rows only, in row order (caller disposes). Equal to tensors() in one process, which
   * writes a batch before reading the bank; a data-parallel replica has reserved its peers' share of
   * the batch, and in the first epoch those rows hold nothing yet: counted as zero codes with no
   * label, they would read as dissimilar to everything.
   */
  writtenTensors(): { outputs: tf.Tensor2D; labels: tf.Tensor2D } {
    if (this.unwritten === 0) return this.tensors();
    const rows: number[] = [];
    for (let row = 0; row < this.size; row++) if (this.written[row] === 1) rows.push(row);
    const { outputs, labels } = this.copyRows(rows);
    return {
      outputs: tf.tensor2d(outputs, [rows.length, this.bits]),
      labels: tf.tensor2d(labels, [rows.length, this.numClasses]),
    };
  }

  /**
   * The bank for a checkpoint, rows in order: dataset indices (exact in float32 below 2^24), outputs,
   * labels and written flags.
   */
  saveState(): NamedArray[] {
    const n = this.size;
    const indices = new Float32Array(n);
    for (const [index, row] of this.rowOf) indices[row] = index;
    return [
      { name: 'bank/indices', shape: [n], values: indices },
      { name: 'bank/outputs', shape: [n, this.bits], values: this.outputs.slice(0, n * this.bits) },
      { name: 'bank/labels', shape: [n, this.numClasses], values: this.labels.slice(0, n * this.numClasses) },
      { name: 'bank/written', shape: [n], values: Float32Array.from(this.written.subarray(0, n)) },
    ];
  }

  /** Replaces the bank with one saveState() wrote; checks the shapes first, so a bad state changes nothing. */
  loadState(entries: readonly NamedArray[]): void {
    const find = (name: string) => {
      const entry = entries.find((e) => e.name === name);
      if (entry === undefined) throw new Error(`memory bank state: ${name} is missing`);
      return entry;
    };
    const [indices, outputs, labels, written] = ['indices', 'outputs', 'labels', 'written'].map((k) =>
      find(`bank/${k}`),
    );
    const n = indices.values.length;
    if (
      outputs.values.length !== n * this.bits ||
      labels.values.length !== n * this.numClasses ||
      written.values.length !== n
    ) {
      throw new RangeError(
        `memory bank state: ${n} rows need ${n * this.bits} outputs (${this.bits} bits) and ${n * this.numClasses} labels, ` +
          `got ${outputs.values.length} and ${labels.values.length}`,
      );
    }
    this.rowOf = new Map(Array.from(indices.values, (index, row) => [index, row]));
    this.outputs = new Float32Array(Math.max(n, 1) * this.bits);
    this.outputs.set(outputs.values);
    this.labels = new Float32Array(Math.max(n, 1) * this.numClasses);
    this.labels.set(labels.values);
    this.written = new Uint8Array(Math.max(n, 1));
    this.written.set(written.values);
    this.unwritten = n - this.written.reduce((sum, w) => sum + w, 0);
  }

  private copyRows(rows: ArrayLike<number>): { outputs: Float32Array; labels: Float32Array } {
    const outputs = new Float32Array(rows.length * this.bits);
    const labels = new Float32Array(rows.length * this.numClasses);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i];
      outputs.set(this.outputs.subarray(row * this.bits, (row + 1) * this.bits), i * this.bits);
      labels.set(this.labels.subarray(row * this.numClasses, (row + 1) * this.numClasses), i * this.numClasses);
    }
    return { outputs, labels };
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
    const written = new Uint8Array(capacity);
    written.set(this.written);
    this.written = written;
  }
}

export interface LabelStatistics {
  /** Per class, how many rows carry it. */
  counts: Float64Array;
  /** Every row has at most one label, of value 1: the similarity of two rows is then their labels' dot product. */
  singleLabel: boolean;
}

/** Statistics of row-major multi-hot labels, [rows, numClasses]. */
export function labelStatistics(labels: ArrayLike<number>, numClasses: number): LabelStatistics {
  const counts = new Float64Array(numClasses);
  let singleLabel = true;
  for (let start = 0; start < labels.length; start += numClasses) {
    let labelsOfRow = 0;
    for (let k = 0; k < numClasses; k++) {
      const value = labels[start + k];
      if (value === 0) continue;
      if (value !== 1) singleLabel = false;
      counts[k] += value;
      labelsOfRow++;
    }
    if (labelsOfRow > 1) singleLabel = false;
  }
  return { counts, singleLabel };
}

/** s_ij = 1 when rows i of `a` and j of `b` share at least one label, else 0. */
export function pairSimilarity(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.cast(tf.greater(tf.matMul(a, b, false, true), 0), 'float32') as tf.Tensor2D);
}
