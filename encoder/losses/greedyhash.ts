// GreedyHash (Su et al. 2018), as in methods.md / DeepHash-pytorch: the forward pass uses b = sign(u)
// and the backward pass copies the gradient straight through; a linear classifier on b gives
//   CE(W b, y) + alpha * mean(| |u| - 1 |^3).
// The classifier W is part of the loss and trained with the network (the trainer's optimizer updates
// every trainable variable; data-parallel replicas average its gradients with the model's, see
// `variables`). Checkpoints keep W with the loss's state (lossState.ts).
import * as tf from '@tensorflow/tfjs';
import { numberOption } from './options.js';
import type { HashLoss, LossContext } from './types.js';

/** sign(x) forward, identity backward (the straight-through estimator). */
export const straightThroughSign = tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => ({
  value: tf.sign(inputs[0] as tf.Tensor),
  gradFunc: (dy: tf.Tensor) => dy,
})) as (x: tf.Tensor) => tf.Tensor;

/** Numbers the classifiers: tfjs refuses a second variable of the same name in one engine. */
let classifiers = 0;

/** Options: `alpha` (default 0.1), `classifier` (explicit bits x numClasses weights, for tests). */
export class GreedyHashLoss implements HashLoss {
  readonly name = 'greedyhash';
  readonly alpha: number;
  readonly classifier: tf.Variable;

  constructor(ctx: LossContext) {
    this.alpha = numberOption(ctx.options, 'alpha', 0.1, (v) => v >= 0);
    const explicit = ctx.options?.classifier;
    const initial =
      explicit === undefined
        ? tf.initializers.glorotUniform({ seed: ctx.seed }).apply([ctx.bits, ctx.numClasses])
        : tf.tensor2d(explicit as number[][], [ctx.bits, ctx.numClasses]);
    this.classifier = tf.variable(initial, true, `greedyhash_classifier_${ctx.seed}_${++classifiers}`);
    initial.dispose();
  }

  get variables(): tf.Variable[] {
    return [this.classifier];
  }

  compute(u: tf.Tensor2D, labels: tf.Tensor2D, _indices?: Int32Array): tf.Scalar {
    return tf.tidy(() => {
      const logits = tf.matMul(straightThroughSign(u) as tf.Tensor2D, this.classifier as tf.Tensor2D);
      const target = tf.div(labels, tf.maximum(tf.sum(labels, 1, true), 1));
      const crossEntropy = tf.neg(tf.mean(tf.sum(tf.mul(target, tf.logSoftmax(logits)), 1)));
      const quantization = tf.mean(tf.pow(tf.abs(tf.sub(tf.abs(u), 1)), 3));
      return tf.add(crossEntropy, tf.mul(quantization, this.alpha)) as tf.Scalar;
    });
  }

  dispose(): void {
    this.classifier.dispose();
  }
}
