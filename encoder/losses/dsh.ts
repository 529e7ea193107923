// DSH (Liu et al. 2016), as in methods.md / DeepHash-pytorch: contrastive loss on squared Euclidean
// distances to the memory bank (similar pulled together, dissimilar pushed past margin m = 2 * bits),
// plus alpha * mean(| |u| - 1 |).
import * as tf from '@tensorflow/tfjs';
import { numberOption } from './options.js';
import { BankPairLoss, squaredDistances } from './pairwise.js';
import type { LossContext } from './types.js';

/** Options: `margin` (default 2 * bits), `alpha` (default 0.1). */
export class DshLoss extends BankPairLoss {
  readonly name = 'dsh';
  readonly margin: number;
  readonly alpha: number;

  constructor(ctx: LossContext) {
    super(ctx);
    this.margin = numberOption(ctx.options, 'margin', 2 * ctx.bits, (v) => v > 0);
    this.alpha = numberOption(ctx.options, 'alpha', 0.1, (v) => v >= 0);
  }

  protected pairLoss(u: tf.Tensor2D, bankOutputs: tf.Tensor2D, s: tf.Tensor2D): tf.Scalar {
    const dist = squaredDistances(u, bankOutputs);
    const similar = tf.mul(tf.mul(s, dist), 0.5);
    const dissimilar = tf.mul(tf.mul(tf.sub(1, s), tf.relu(tf.sub(this.margin, dist))), 0.5);
    const contrastive = tf.mean(tf.add(similar, dissimilar));
    const quantization = tf.mean(tf.abs(tf.sub(tf.abs(u), 1)));
    return tf.add(contrastive, tf.mul(quantization, this.alpha)) as tf.Scalar;
  }
}
