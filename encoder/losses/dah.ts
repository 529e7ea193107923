// DAH (seed 002): "similar pairs get a small Hamming distance, dissimilar ones a larger constant
// distance (margin), plus a quantization loss from Euclidean to Hamming". The exact formula is not
// published; this is our reading, documented in docs/methods (options make every choice visible):
// with tanh outputs the Hamming distance relaxes to d_ij = (bits - u_i . U_j) / 2, and
//   L = mean[ s d / bits + (1 - s) max(margin - d, 0) / bits ] + lambda * mean((|u| - 1)^2).
import * as tf from '@tensorflow/tfjs';
import { numberOption } from './options.js';
import { BankPairLoss } from './pairwise.js';
import type { LossContext } from './types.js';

/** Options: `margin` in bits (default bits / 2), `lambda` (quantization weight, default 0.1). */
export class DahLoss extends BankPairLoss {
  readonly name = 'dah';
  readonly margin: number;
  readonly lambda: number;

  constructor(ctx: LossContext) {
    super(ctx);
    this.margin = numberOption(ctx.options, 'margin', ctx.bits / 2, (v) => v > 0 && v <= ctx.bits);
    this.lambda = numberOption(ctx.options, 'lambda', 0.1, (v) => v >= 0);
  }

  protected pairLoss(u: tf.Tensor2D, bankOutputs: tf.Tensor2D, s: tf.Tensor2D): tf.Scalar {
    const bits = this.ctx.bits;
    const hamming = tf.mul(tf.sub(bits, tf.matMul(u, bankOutputs, false, true)), 0.5);
    const similar = tf.mul(s, hamming);
    const dissimilar = tf.mul(tf.sub(1, s), tf.relu(tf.sub(this.margin, hamming)));
    const pair = tf.div(tf.mean(tf.add(similar, dissimilar)), bits);
    const quantization = tf.mean(tf.square(tf.sub(tf.abs(u), 1)));
    return tf.add(pair, tf.mul(quantization, this.lambda)) as tf.Scalar;
  }
}
