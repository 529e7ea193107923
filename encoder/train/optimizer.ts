// The trainer's optimizer: Adam, with optional decoupled weight decay (AdamW, Loshchilov & Hutter
// 2019). tfjs has no AdamW; Adam's L2 penalty through the gradient is scaled away by Adam's
// per-weight normalisation, so the decay is applied to the weights directly after each Adam step.
import * as tf from '@tensorflow/tfjs';

/**
 * Decays the weights of rank >= 2 (conv and dense kernels, attention projections, position tables):
 * biases and normalisation scales and shifts (rank 1) are left alone, as is usual.
 */
const decays = (variable: tf.Variable) => variable.rank >= 2;

export class AdamW extends tf.AdamOptimizer {
  constructor(
    learningRate: number,
    readonly weightDecay: number,
  ) {
    super(learningRate, 0.9, 0.999);
  }

  override applyGradients(variableGradients: Parameters<tf.AdamOptimizer['applyGradients']>[0]): void {
    super.applyGradients(variableGradients);
    if (this.weightDecay === 0) return;
    const names = Array.isArray(variableGradients)
      ? variableGradients.map((g) => g.name)
      : Object.keys(variableGradients);
    const registered = tf.engine().registeredVariables;
    // w <- w - lr * wd * w, with the learning rate of this step (the trainer's cosine schedule).
    const keep = 1 - this.learningRate * this.weightDecay;
    tf.tidy(() => {
      for (const name of names) {
        const variable = registered[name];
        if (variable && decays(variable)) variable.assign(tf.mul(variable, keep));
      }
    });
  }
}

/** Adam when weightDecay is 0 (or absent), AdamW otherwise; the state (moments) is Adam's either way. */
export function createOptimizer(learningRate: number, weightDecay = 0): tf.AdamOptimizer {
  return weightDecay > 0 ? new AdamW(learningRate, weightDecay) : tf.train.adam(learningRate);
}

/**
 * Adam.setWeights() sets beta^(t+1) with pow(), while training reaches it by t float32 multiplications;
 * the two differ in the last bits, so a resumed run would drift from the original. Replays the
 * multiplications instead, which makes restore-then-step bit-identical to the uninterrupted run.
 * (Touches Adam's private accBeta1/accBeta2; skipped if a tfjs version has no such fields.)
 */
export function replayAdamPowers(optimizer: tf.Optimizer, iterations: number): void {
  const adam = optimizer as unknown as {
    beta1?: number;
    beta2?: number;
    accBeta1?: tf.Variable;
    accBeta2?: tf.Variable;
  };
  for (const [beta, acc] of [
    [adam.beta1, adam.accBeta1],
    [adam.beta2, adam.accBeta2],
  ] as const) {
    if (typeof beta !== 'number' || acc === undefined) continue;
    const b = Math.fround(beta);
    let value = b;
    for (let t = 0; t < iterations; t++) value = Math.fround(value * b);
    tf.tidy(() => acc.assign(tf.scalar(value)));
  }
}
