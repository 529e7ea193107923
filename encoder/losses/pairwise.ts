// Pairwise losses that compare each batch output with the memory bank of all training outputs seen so
// far (DeepHash-pytorch keeps the same bank): DPSH, DSH, and the DAH reading of seed 002.
// Option `pairs`: 'bank' (default) or 'batch', pairs within the batch only (as the DSH paper forms
// them), both sides differentiable. The bank's rows are up to an epoch old, and from scratch at a
// high learning rate that lag keeps all three near chance (docs/encoder-results.md, "The pair losses
// learn with pairs within the batch"); within the batch every code is current. On data-parallel
// replicas, 'batch' pairs lie within each replica's share.
import * as tf from '@tensorflow/tfjs';
import { MemoryBank, pairSimilarity } from './memoryBank.js';
import { choiceOption } from './options.js';
import type { HashLoss, LossContext } from './types.js';

export abstract class BankPairLoss implements HashLoss {
  abstract readonly name: string;
  readonly bank?: MemoryBank;

  constructor(protected readonly ctx: LossContext) {
    if (choiceOption(ctx.options, 'pairs', ['bank', 'batch'], 'bank') === 'bank') {
      this.bank = new MemoryBank(ctx.bits, ctx.numClasses);
    }
  }

  compute(u: tf.Tensor2D, labels: tf.Tensor2D, indices: Int32Array): tf.Scalar {
    const memory = this.bank;
    if (!memory) return tf.tidy(() => this.pairLoss(u, u, pairSimilarity(labels, labels)));
    memory.update(indices, u, labels);
    return tf.tidy(() => {
      const bank = memory.writtenTensors();
      return this.pairLoss(u, bank.outputs, pairSimilarity(labels, bank.labels));
    });
  }

  /** u [B, bits] (differentiable), bankOutputs [N, bits] (the bank, or u itself), s [B, N] in {0, 1}. */
  protected abstract pairLoss(u: tf.Tensor2D, bankOutputs: tf.Tensor2D, s: tf.Tensor2D): tf.Scalar;
}

/** Squared Euclidean distance between every row of a and every row of b: [A, B]. */
export function squaredDistances(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const aa = tf.sum(tf.square(a), 1, true);
    const bb = tf.reshape(tf.sum(tf.square(b), 1), [1, -1]);
    return tf.relu(tf.sub(tf.add(aa, bb), tf.mul(tf.matMul(a, b, false, true), 2))) as tf.Tensor2D;
  });
}

/** log(1 + e^x) - s x, written so it never overflows: log(1 + e^-|x|) + max(x, 0) - s x. */
export function logisticPairLoss(x: tf.Tensor, s: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.sub(tf.add(tf.log1p(tf.exp(tf.neg(tf.abs(x)))), tf.relu(x)), tf.mul(s, x)));
}
