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
