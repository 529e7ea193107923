// The single loss of seed 001 (ViT hashing: "one objective for discriminability and quantization, no
// weights to tune"). Its formula is not published; as methods.md says, the closest documented single
// objective is OrthoHash (Hoe et al. 2021), implemented here and registered as both `orthohash` and
// `single`: cross-entropy over s * (cos(u, c_k) - m * 1[k = y]) against orthogonal class centres c_k
// (CSQ's Hadamard rows). Maximising the cosine to a +-1 centre also pulls u toward the hypercube
// corners, which is why no separate quantization term is needed.
import * as tf from '@tensorflow/tfjs';
import { toTensor } from './centres.js';
import { csqCentres } from './csq.js';
import { numberOption } from './options.js';
import type { HashLoss, LossContext } from './types.js';

/** Options: `scale` (s, default 8), `margin` (m, default 0.2). */
export class OrthoHashLoss implements HashLoss {
  readonly name: string;
  readonly scale: number;
  readonly margin: number;
  private readonly centres: tf.Tensor2D;

  constructor(ctx: LossContext, name = 'orthohash') {
    this.name = name;
    this.scale = numberOption(ctx.options, 'scale', 8, (v) => v > 0);
    this.margin = numberOption(ctx.options, 'margin', 0.2, (v) => v >= 0);
    // Centre rows are +-1, so each has norm sqrt(bits): normalise once.
    this.centres = tf.tidy(() => tf.div(toTensor(csqCentres(ctx.numClasses, ctx.bits, ctx.seed)), Math.sqrt(ctx.bits)));
  }

  compute(u: tf.Tensor2D, labels: tf.Tensor2D, _indices?: Int32Array): tf.Scalar {
    return tf.tidy(() => {
      const unit = tf.div(u, tf.add(tf.norm(u, 'euclidean', 1, true), 1e-12));
      const cosine = tf.matMul(unit, this.centres, false, true);
      const logits = tf.mul(tf.sub(cosine, tf.mul(labels, this.margin)), this.scale);
      // Multi-hot labels share the target mass equally (one-hot: plain softmax cross-entropy).
      const target = tf.div(labels, tf.maximum(tf.sum(labels, 1, true), 1));
      return tf.neg(tf.mean(tf.sum(tf.mul(target, tf.logSoftmax(logits)), 1))) as tf.Scalar;
    });
  }

  dispose(): void {
    this.centres.dispose();
  }
}
