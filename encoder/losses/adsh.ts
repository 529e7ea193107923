// ADSH, asymmetric deep supervised hashing (Jiang & Li 2018), as in methods.md: the network learns
// query codes u = tanh(F(x)); the database codes V in {-1, +1} are learned directly. Here the database
// is the training set (as in DeepHash-pytorch's ADSH), V has one row per training item seen, and:
//   L = [sum_ij (u_i . V_j - bits * S_ij)^2 + gamma sum_i (V_idx(i) - u_i)^2] / (|V| * B)
// with S_ij = 1 for similar pairs and -r for dissimilar ones (r = #similar / #dissimilar). After each
// epoch V is updated bit by bit in closed form from `samples` random training outputs:
//   Q = -2 bits S^T U - 2 gamma U_bar,   V[:, k] = -sign(Q_k + 2 V_notk (U_notk^T U_k)).
// ADSH alternates 3 epochs on 2000 samples with each V update; one V update per pass over the
// training set keeps the single training loop and gives a comparable number of updates.
import * as tf from '@tensorflow/tfjs';
import { mulberry32 } from '../random.js';
import { MemoryBank, pairSimilarity } from './memoryBank.js';
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

/** Options: `gamma` (default 200), `samples` (outputs per V update, default 2000). */
export class AdshLoss implements HashLoss {
  readonly name: string = 'adsh';
  readonly gamma: number;
  readonly samples: number;
  readonly bank: MemoryBank;
  /** Database codes, one row per bank row; 0 until the first update (as ADSH initialises V). */
  private v = new Float32Array(0);

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
    return tf.tidy(() => {
      const n = this.bank.size;
      const { outputs, labels: bankLabels } = this.bank.tensors();
      outputs.dispose();
      const v = tf.tensor2d(this.v.subarray(0, n * bits), [n, bits]);
      const s = signedSimilarity(pairSimilarity(labels, bankLabels));
      const square = tf.sum(tf.square(tf.sub(tf.matMul(u, v, false, true), tf.mul(s, bits))));
      const quantization = tf.sum(tf.square(tf.sub(tf.gather(v, rows), u)));
      return tf.div(tf.add(square, tf.mul(quantization, this.gamma)), n * u.shape[0]) as tf.Scalar;
    });
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
