// HashNet (Cao et al. 2017), as in methods.md / DeepHash-pytorch: weighted pairwise likelihood within
// the batch on u = tanh(beta z), beta = sqrt(floor(epoch / step) + 1) (continuation), positives
// weighted |S|/|S1| and negatives |S|/|S0| against the class imbalance. Give the model
// `outputActivation: "linear"` so z is the raw output; codes are sign(z) either way.
import * as tf from '@tensorflow/tfjs';
import { pairSimilarity } from './memoryBank.js';
import { numberOption } from './options.js';
import { logisticPairLoss } from './pairwise.js';
import type { HashLoss, LossContext } from './types.js';

/** Options: `alpha` (inner-product scale, default 0.1), `betaStep` (epochs per beta level, default 20). */
export class HashNetLoss implements HashLoss {
  readonly name = 'hashnet';
  readonly alpha: number;
  readonly betaStep: number;
  private epochsDone = 0;

  constructor(ctx: LossContext) {
    this.alpha = numberOption(ctx.options, 'alpha', 0.1, (v) => v > 0);
    this.betaStep = numberOption(ctx.options, 'betaStep', 20, (v) => Number.isInteger(v) && v >= 1);
  }

  get beta(): number {
    return Math.sqrt(Math.floor(this.epochsDone / this.betaStep) + 1);
  }

  compute(z: tf.Tensor2D, labels: tf.Tensor2D, _indices?: Int32Array): tf.Scalar {
    return tf.tidy(() => {
      const u = tf.tanh(tf.mul(z, this.beta));
      const s = pairSimilarity(labels, labels);
      const ip = tf.mul(tf.matMul(u, u, false, true), this.alpha);
      const total = s.size;
      // Counted on the device: a GPU backend has no synchronous readback inside the step.
      const positives = tf.maximum(tf.sum(s), 1);
      const negatives = tf.maximum(tf.sub(total, positives), 1);
      const weights = tf.add(tf.mul(s, tf.div(total, positives)), tf.mul(tf.sub(1, s), tf.div(total, negatives)));
      return tf.div(tf.sum(tf.mul(weights, logisticPairLoss(ip, s))), total) as tf.Scalar;
    });
  }

  onEpochEnd(epoch: number): void {
    this.epochsDone = epoch;
  }
}
