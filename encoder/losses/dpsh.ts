// DPSH (Li et al. 2016), as in methods.md / DeepHash-pytorch: the pairwise likelihood of
// theta_ij = 0.5 u_i . U_j over the memory bank, plus alpha * mean((u - sign u)^2).
import * as tf from '@tensorflow/tfjs';
import { numberOption } from './options.js';
import { BankPairLoss, logisticPairLoss } from './pairwise.js';
import type { LossContext } from './types.js';

/** Options: `alpha` (quantization weight, default 0.1). */
export class DpshLoss extends BankPairLoss {
  readonly name = 'dpsh';
  readonly alpha: number;

  constructor(ctx: LossContext) {
    super(ctx);
    this.alpha = numberOption(ctx.options, 'alpha', 0.1, (v) => v >= 0);
  }

  protected pairLoss(u: tf.Tensor2D, bankOutputs: tf.Tensor2D, s: tf.Tensor2D): tf.Scalar {
    const theta = tf.mul(tf.matMul(u, bankOutputs, false, true), 0.5);
    const likelihood = tf.mean(logisticPairLoss(theta, s));
    const quantization = tf.mean(tf.square(tf.sub(u, tf.sign(u))));
    return tf.add(likelihood, tf.mul(quantization, this.alpha)) as tf.Scalar;
  }
}
