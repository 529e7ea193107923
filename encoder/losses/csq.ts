// CSQ, central similarity quantization (Yuan et al. 2020), as in methods.md and DeepHash-pytorch:
// each class has a hash centre; the tanh output is pulled to its centre by a bitwise BCE, plus a small
// quantization term pushing |u| to 1.
import * as tf from '@tensorflow/tfjs';
import { mulberry32 } from '../random.js';
import {
  bernoulliVector,
  drawCentres,
  hadamardCentres,
  isPowerOfTwo,
  labelsToTargets,
  type SignMatrix,
  toTensor,
} from './centres.js';
import { numberOption, signRowsOption } from './options.js';
import type { HashLoss, LossContext } from './types.js';

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
export class CsqLoss implements HashLoss {
  readonly name = 'csq';
  readonly lambda: number;
  readonly centres: SignMatrix;
  /** Bits of a multi-label centre whose label sum is zero come from this fixed random vector. */
  readonly fill: Float32Array;
  private readonly centresTensor: tf.Tensor2D;
  private readonly fillTensor: tf.Tensor1D;

  constructor(ctx: LossContext) {
    const { bits, numClasses, seed, options } = ctx;
    this.lambda = numberOption(options, 'lambda', 1e-4, (v) => v >= 0);
    const explicit = signRowsOption(options, 'centres', numClasses, bits);
    this.centres = explicit ? { rows: numClasses, bits, values: explicit } : csqCentres(numClasses, bits, seed);
    // A separate stream from the centres' so changing the centre rule does not move the fill.
    this.fill = signRowsOption(options, 'fill', 1, bits) ?? bernoulliVector(bits, mulberry32(seed ^ 0x5eed));
    this.centresTensor = toTensor(this.centres);
    this.fillTensor = tf.tensor1d(this.fill, 'float32');
  }

  /** The +-1 centre of each row of `labels`. */
  targets(labels: tf.Tensor2D): tf.Tensor2D {
    return labelsToTargets(labels, this.centresTensor, this.fillTensor);
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

  dispose(): void {
    this.centresTensor.dispose();
    this.fillTensor.dispose();
  }
}
