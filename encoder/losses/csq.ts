// CSQ, central similarity quantization (Yuan et al. 2020), as in methods.md and DeepHash-pytorch:
// each class has a hash centre; the tanh output is pulled to its centre by a bitwise BCE, plus a small
// quantization term pushing |u| to 1.
import * as tf from '@tensorflow/tfjs';
import { mulberry32 } from '../random.js';
import { bernoulliVector, drawCentres, hadamardCentres, isPowerOfTwo, type SignMatrix } from './centres.js';
import { numberOption, signRowsOption } from './options.js';
import { SignTargetLoss } from './signTargetLoss.js';
import type { LossContext } from './types.js';

/** Keeps log() finite where tanh saturates to exactly +-1 in float32 (Keras' BCE epsilon). */
const BCE_EPSILON = 1e-7;

/**
 * Class centres: rows of [H; -H] when 2*bits >= numClasses and bits is a power of two (Sylvester's
 * construction only exists there); otherwise Bernoulli(0.5) vectors with pairwise distance > bits/4.
 */
export function csqCentres(numClasses: number, bits: number, seed: number): SignMatrix {
  if (numClasses <= 2 * bits && isPowerOfTwo(bits)) return hadamardCentres(numClasses, bits);
  const random = mulberry32(seed);
  return drawCentres(numClasses, bits, () => bernoulliVector(bits, random), {
    minDistance: Math.floor(bits / 4) + 1,
    triesPerLevel: 200,
  });
}

/**
 * Options: `lambda` (quantization weight, default 1e-4), `centres` (explicit numClasses x bits +-1 rows),
 * `fill` (explicit +-1 vector for multi-label ties).
 */
export class CsqLoss extends SignTargetLoss {
  readonly name = 'csq';
  readonly lambda: number;

  constructor(ctx: LossContext) {
    const { bits, numClasses, seed, options } = ctx;
    const explicit = signRowsOption(options, 'centres', numClasses, bits);
    super(explicit ? { rows: numClasses, bits, values: explicit } : csqCentres(numClasses, bits, seed), ctx);
    this.lambda = numberOption(options, 'lambda', 1e-4, (v) => v >= 0);
  }

  get centres(): SignMatrix {
    return this.table;
  }

  compute(u: tf.Tensor2D, labels: tf.Tensor2D, _indices?: Int32Array): tf.Scalar {
    return tf.tidy(() => {
      const target = tf.div(tf.add(this.targets(labels), 1), 2);
      const p = tf.clipByValue(tf.div(tf.add(u, 1), 2), BCE_EPSILON, 1 - BCE_EPSILON);
      const bce = tf.neg(tf.mean(tf.add(tf.mul(target, tf.log(p)), tf.mul(tf.sub(1, target), tf.log(tf.sub(1, p))))));
      const quantization = tf.mean(tf.square(tf.sub(tf.abs(u), 1)));
      return tf.add(bce, tf.mul(quantization, this.lambda)) as tf.Scalar;
    });
  }
}
