// ADSH, asymmetric deep supervised hashing (Jiang & Li 2018), as in methods.md: the network learns
// query codes u = tanh(F(x)); the database codes V in {-1, +1} are learned directly. Here the database
// is the training set (as in DeepHash-pytorch's ADSH), V has one row per training item seen, and:
//   L = [sum_ij (u_i . V_j - bits * S_ij)^2 + gamma sum_i (V_idx(i) - u_i)^2] / (|V| * B)
// with S_ij = 1 for similar pairs and -r for dissimilar ones (r = #similar / #dissimilar). After each
// epoch V is updated bit by bit in closed form from `samples` random training outputs:
//   Q = -2 bits S^T U - 2 gamma U_bar,   V[:, k] = -sign(Q_k + 2 V_notk (U_notk^T U_k)).
// ADSH alternates 3 epochs on 2000 samples with each V update; one V update per pass over the
// training set keeps the single training loop and gives a comparable number of updates.
// With single-label data s01_ij is the dot product of the labels, and the pair sum expands into
// statistics of V that change only when V does (once per epoch):
//   sum_ij (u_i . V_j - bits S_ij)^2 = sum_i u_i^T G u_i - 2 bits sum_i u_i . (S V)_i + bits^2 sum_ij S_ij^2,
//   G = V^T V,  S V = (1 + r) L_batch (L_bank^T V) - r 1 (1^T V),  sum S^2 = similar + dissimilar r^2,
// so a step costs O(B bits^2) instead of O(B |V| bits): on CIFAR-10's 49,000 codes the pair matrix
// would be most of a small network's step. Multi-label data keeps the pair matrix.
import * as tf from '@tensorflow/tfjs';
import { mulberry32 } from '../random.js';
import { labelStatistics, MemoryBank, pairSimilarity } from './memoryBank.js';
import { numberOption } from './options.js';
import type { HashLoss, LossContext, NamedArray } from './types.js';

/** {0, 1} similarity to {1, -r}, r = #similar / #dissimilar. */
function signedSimilarity(s01: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const similar = tf.sum(s01).dataSync()[0];
    const r = similar / Math.max(s01.size - similar, 1);
    return tf.sub(tf.mul(s01, 1 + r), r) as tf.Tensor2D;
  });
}

/** sum_ij (u_i . V_j - bits S_ij)^2 from the [B, |V|] pair matrix: any labels, O(B |V| bits). */
export function pairMatrixSquare(
  u: tf.Tensor2D,
  labels: tf.Tensor2D,
  bankLabels: tf.Tensor2D,
  v: tf.Tensor2D,
): tf.Scalar {
  return tf.tidy(() => {
    const s = signedSimilarity(pairSimilarity(labels, bankLabels));
    return tf.sum(tf.square(tf.sub(tf.matMul(u, v, false, true), tf.mul(s, v.shape[1]))));
  });
}

/** Options: `gamma` (default 200), `samples` (outputs per V update, default 2000). */
export class AdshLoss implements HashLoss {
  readonly name: string = 'adsh';
  readonly gamma: number;
  readonly samples: number;
  readonly bank: MemoryBank;
  /** Database codes, one row per bank row; 0 until the first update (as ADSH initialises V). */
  private v = new Float32Array(0);
  /** What the expanded pair sum reads of V; cleared whenever V changes. */
  private statistics?: { gram: Float32Array; classSums: Float32Array; codeSum: Float32Array };

  constructor(private readonly ctx: LossContext) {
    this.gamma = numberOption(ctx.options, 'gamma', 200, (v) => v >= 0);
    this.samples = numberOption(ctx.options, 'samples', 2000, (v) => Number.isInteger(v) && v >= 1);
    this.bank = new MemoryBank(ctx.bits, ctx.numClasses);
  }

  /** The learned database codes so far, row-major [rows, bits]. */
  get databaseCodes(): Float32Array {
    return this.v.slice(0, this.bank.size * this.ctx.bits);
  }

  compute(u: tf.Tensor2D, labels: tf.Tensor2D, indices: Int32Array): tf.Scalar {
    this.bank.update(indices, u, labels);
    this.growV();
    const bits = this.ctx.bits;
    const rows = this.bank.rowsOf(indices);
    const bankLabels = this.bank.labelStatistics();
    const batchLabels = labelStatistics(labels.dataSync(), this.ctx.numClasses);
    return tf.tidy(() => {
      const n = this.bank.size;
      const square =
        bankLabels.singleLabel && batchLabels.singleLabel
          ? this.expandedSquare(u, labels, batchLabels.counts, bankLabels.counts)
          : this.pairSquare(u, labels);
      const codes = new Float32Array(rows.length * bits);
      rows.forEach((row, i) => {
        codes.set(this.v.subarray(row * bits, (row + 1) * bits), i * bits);
      });
      const quantization = tf.sum(tf.square(tf.sub(tf.tensor2d(codes, [rows.length, bits]), u)));
      return tf.div(tf.add(square, tf.mul(quantization, this.gamma)), n * u.shape[0]) as tf.Scalar;
    });
  }

  private pairSquare(u: tf.Tensor2D, labels: tf.Tensor2D): tf.Scalar {
    return pairMatrixSquare(u, labels, this.bank.labelTensor(), this.codesTensor());
  }

  /** V as a [bank rows, bits] tensor (caller disposes). */
  private codesTensor(): tf.Tensor2D {
    const n = this.bank.size;
    return tf.tensor2d(this.v.subarray(0, n * this.ctx.bits), [n, this.ctx.bits]);
  }

  /** The same pair sum, expanded (single-label data; see the header). */
  private expandedSquare(u: tf.Tensor2D, labels: tf.Tensor2D, batchCounts: Float64Array, bankCounts: Float64Array) {
    const bits = this.ctx.bits;
    const pairs = u.shape[0] * this.bank.size;
    const similar = batchCounts.reduce((sum, count, k) => sum + count * bankCounts[k], 0);
    const r = similar / Math.max(pairs - similar, 1);
    const { gram, classSums, codeSum } = this.databaseStatistics();
    const quadratic = tf.sum(tf.mul(tf.matMul(u, tf.tensor2d(gram, [bits, bits])), u));
    const sv = tf.sub(
      tf.mul(tf.matMul(labels, tf.tensor2d(classSums, [this.ctx.numClasses, bits])), 1 + r),
      tf.mul(tf.tensor2d(codeSum, [1, bits]), r),
    );
    const cross = tf.sum(tf.mul(u, sv));
    const squaredSimilarity = similar + (pairs - similar) * r * r;
    return tf.add(tf.sub(quadratic, tf.mul(cross, 2 * bits)), bits * bits * squaredSimilarity) as tf.Scalar;
  }

  /** G = V^T V, L_bank^T V and 1^T V, kept until V changes (rows added since hold zero codes). */
  private databaseStatistics(): { gram: Float32Array; classSums: Float32Array; codeSum: Float32Array } {
    if (this.statistics === undefined) {
      this.statistics = tf.tidy(() => {
        const labels = this.bank.labelTensor();
        const v = this.codesTensor();
        return {
          gram: tf.matMul(v, v, true, false).dataSync() as Float32Array,
          classSums: tf.matMul(labels, v, true, false).dataSync() as Float32Array,
          codeSum: tf.sum(v, 0).dataSync() as Float32Array,
        };
      });
    }
    return this.statistics;
  }

  onEpochEnd(epoch: number): void {
    const bits = this.ctx.bits;
    const n = this.bank.size;
    if (n === 0) return;
    const sample = this.sampleRows(n, epoch);
    const q = tf.tidy(() => {
      const { outputs, labels } = this.bank.tensors();
      const sampleRows = tf.tensor1d(sample, 'int32');
      const u = tf.gather(outputs, sampleRows);
      const s = signedSimilarity(pairSimilarity(tf.gather(labels, sampleRows), labels));
      const uBar = tf.scatterND(tf.reshape(sampleRows, [-1, 1]), u, [n, bits]);
      return {
        q: tf.sub(tf.mul(tf.matMul(s, u, true, false), -2 * bits), tf.mul(uBar, 2 * this.gamma)).dataSync(),
        gram: tf.matMul(u, u, true, false).dataSync(),
      };
    });
    const v = this.v;
    for (let k = 0; k < bits; k++) {
      for (let row = 0; row < n; row++) {
        // V_notk (U_notk^T U_k) = V (U^T U)[:, k] - V_k (U^T U)[k, k]
        let t = -v[row * bits + k] * q.gram[k * bits + k];
        for (let j = 0; j < bits; j++) t += v[row * bits + j] * q.gram[j * bits + k];
        v[row * bits + k] = q.q[row * bits + k] + 2 * t > 0 ? -1 : 1;
      }
    }
    this.statistics = undefined;
  }

  saveState(): NamedArray[] {
    const n = this.bank.size;
    return [{ name: 'adsh/databaseCodes', shape: [n, this.ctx.bits], values: this.databaseCodes }];
  }

  /** After the bank's loadState: one database code per bank row. */
  loadState(entries: readonly NamedArray[]): void {
    const codes = entries.find((e) => e.name === 'adsh/databaseCodes');
    if (codes === undefined) throw new Error('adsh state: adsh/databaseCodes is missing');
    const needed = this.bank.size * this.ctx.bits;
    if (codes.values.length !== needed) {
      throw new RangeError(
        `adsh state: ${codes.values.length} database code values, the bank's ${this.bank.size} rows need ${needed}`,
      );
    }
    this.v = Float32Array.from(codes.values);
    this.statistics = undefined;
  }

  private sampleRows(n: number, epoch: number): Int32Array {
    const random = mulberry32(this.ctx.seed + epoch);
    const rows = Int32Array.from({ length: n }, (_, i) => i);
    const m = Math.min(this.samples, n);
    for (let i = 0; i < m; i++) {
      const j = i + Math.floor(random() * (n - i));
      [rows[i], rows[j]] = [rows[j], rows[i]];
    }
    return rows.slice(0, m).sort();
  }

  private growV(): void {
    const needed = this.bank.size * this.ctx.bits;
    if (needed <= this.v.length) return;
    const grown = new Float32Array(Math.max(needed, this.v.length * 2));
    grown.set(this.v);
    this.v = grown;
  }
}
