// DPN, deep polarization network (Fan et al. 2020), as in methods.md and DeepHash-pytorch: each class
// has a random +-1 target vector; every bit of the raw output is pushed past the margin on its
// target's side by a hinge, mean_{i,k} max(0, m - u_ik * t_ik).
import * as tf from '@tensorflow/tfjs';
import { mulberry32 } from '../random.js';
import { balancedVector, drawCentres, type SignMatrix } from './centres.js';
import { choiceOption, numberOption, signRowsOption } from './options.js';
import { SignTargetLoss } from './signTargetLoss.js';
import type { LossContext } from './types.js';

export type DpnTargetRule = 'random' | 'minDistance';

/**
 * 'random': independent vectors, each with exactly round(p * bits) bits at -1 (DeepHash-pytorch draws
 * the -1 positions with random.sample). 'minDistance': the variant from methods.md, vectors drawn so
 * each is at Hamming distance >= 0.61*bits from the earlier ones, relaxed one bit at a time down to 0.2*bits.
 */
export function dpnTargets(numClasses: number, bits: number, seed: number, rule: DpnTargetRule, p = 0.5): SignMatrix {
  const random = mulberry32(seed);
  const draw = () => balancedVector(bits, Math.round(p * bits), random);
  if (rule === 'minDistance') {
    return drawCentres(numClasses, bits, draw, {
      minDistance: Math.ceil(0.61 * bits),
      relaxTo: Math.ceil(0.2 * bits),
      triesPerLevel: 200,
    });
  }
  const values = new Float32Array(numClasses * bits);
  for (let i = 0; i < numClasses; i++) values.set(draw(), i * bits);
  return { rows: numClasses, bits, values };
}

/**
 * Options: `margin` (m, default 1), `p` (fraction of -1 bits per target, default 0.5), `targetRule`
 * ('random' | 'minDistance', default 'random'), `regularization` (weight of mean(u^2); default 0, and
 * 0.1 for 'minDistance' as in methods.md), `targets` (explicit numClasses x bits +-1 rows), `fill`.
 * u is the raw network output (DPN uses no tanh).
 */
export class DpnLoss extends SignTargetLoss {
  readonly name = 'dpn';
  readonly margin: number;
  readonly regularization: number;
  readonly targetRule: DpnTargetRule;

  constructor(ctx: LossContext) {
    const { bits, numClasses, seed, options } = ctx;
    const p = numberOption(options, 'p', 0.5, (v) => v >= 0 && v <= 1);
    const targetRule = choiceOption(options, 'targetRule', ['random', 'minDistance'] as const, 'random');
    const explicit = signRowsOption(options, 'targets', numClasses, bits);
    super(
      explicit ? { rows: numClasses, bits, values: explicit } : dpnTargets(numClasses, bits, seed, targetRule, p),
      ctx,
    );
    this.targetRule = targetRule;
    this.margin = numberOption(options, 'margin', 1, (v) => v > 0);
    this.regularization = numberOption(
      options,
      'regularization',
      this.targetRule === 'minDistance' ? 0.1 : 0,
      (v) => v >= 0,
    );
  }

  get targetVectors(): SignMatrix {
    return this.table;
  }

  compute(u: tf.Tensor2D, labels: tf.Tensor2D, _indices?: Int32Array): tf.Scalar {
    return tf.tidy(() => {
      const polarization = tf.mean(tf.relu(tf.sub(this.margin, tf.mul(u, this.targets(labels)))));
      if (this.regularization === 0) return polarization as tf.Scalar;
      return tf.add(polarization, tf.mul(tf.mean(tf.square(u)), this.regularization)) as tf.Scalar;
    });
  }
}
