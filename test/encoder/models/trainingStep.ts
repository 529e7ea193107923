// One training-mode call of a layer, for comparing a layer with the stock tfjs layer it replaces.
import * as tf from '@tensorflow/tfjs';

export function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

/**
 * Output, input gradient and weight gradients (in trainableWeights order) of the layer in training
 * mode, with the output projected on `projection`. Calls the layer three times in training mode.
 */
export function trainingStep(layer: tf.layers.Layer, x: tf.Tensor, projection: tf.Tensor) {
  const objective = (input: tf.Tensor) =>
    tf.sum(tf.mul(layer.apply(input, { training: true }) as tf.Tensor, projection)) as tf.Scalar;
  const y = layer.apply(x, { training: true }) as tf.Tensor; // builds the layer
  const weights = layer.trainableWeights.map((w) => w.read() as tf.Variable);
  const dx = tf.grad(objective)(x);
  const { grads } = tf.variableGrads(() => objective(x), weights);
  return { y, dx, grads: weights.map((w) => grads[w.name]) };
}
