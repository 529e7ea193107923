// Finite differences against tf.grad for a layer: central differences in float32, compared as vectors
// (relative error of the whole gradient), for the input and for every trainable weight.
import * as tf from '@tensorflow/tfjs';

export interface GradientCheckResult {
  /** ||numeric - analytic|| / max(||numeric||, ||analytic||), per checked tensor. */
  relativeError: Record<string, number>;
}

function relativeError(numeric: Float32Array, analytic: Float32Array): number {
  let diff = 0;
  let a = 0;
  let b = 0;
  for (let i = 0; i < numeric.length; i++) {
    diff += (numeric[i] - analytic[i]) ** 2;
    a += numeric[i] ** 2;
    b += analytic[i] ** 2;
  }
  return Math.sqrt(diff) / Math.max(Math.sqrt(a), Math.sqrt(b), 1e-12);
}

/** Projects the layer output on a fixed random tensor so every output element contributes. */
export function checkLayerGradients(
  layer: tf.layers.Layer,
  input: tf.Tensor,
  epsilon = 1e-2,
  seed = 1,
): GradientCheckResult {
  const output = layer.apply(input) as tf.Tensor; // builds the layer
  const projection = tf.randomNormal(output.shape, 0, 1, 'float32', seed);
  output.dispose();
  const objective = (x: tf.Tensor) => tf.sum(tf.mul(layer.apply(x) as tf.Tensor, projection)) as tf.Scalar;
  const value = (x: tf.Tensor) => tf.tidy(() => objective(x).dataSync()[0]);
  const result: GradientCheckResult = { relativeError: {} };

  // Input gradient.
  const analyticInput = tf.grad(objective)(input);
  const base = input.dataSync();
  const numericInput = new Float32Array(base.length);
  for (let i = 0; i < base.length; i++) {
    const shifted = (delta: number) => {
      const values = Float32Array.from(base);
      values[i] += delta;
      const x = tf.tensor(values, input.shape);
      const v = value(x);
      x.dispose();
      return v;
    };
    numericInput[i] = (shifted(epsilon) - shifted(-epsilon)) / (2 * epsilon);
  }
  result.relativeError.input = relativeError(numericInput, analyticInput.dataSync() as Float32Array);
  analyticInput.dispose();

  // Weight gradients.
  const variables = layer.trainableWeights.map((w) => w.read() as tf.Variable);
  const { grads } = tf.variableGrads(() => objective(input), variables);
  for (const variable of variables) {
    const original = variable.dataSync().slice() as Float32Array;
    const numeric = new Float32Array(original.length);
    for (let i = 0; i < original.length; i++) {
      const shifted = (delta: number) => {
        const values = Float32Array.from(original);
        values[i] += delta;
        variable.assign(tf.tensor(values, variable.shape));
        return value(input);
      };
      numeric[i] = (shifted(epsilon) - shifted(-epsilon)) / (2 * epsilon);
    }
    variable.assign(tf.tensor(original, variable.shape));
    result.relativeError[variable.name] = relativeError(numeric, grads[variable.name].dataSync() as Float32Array);
  }
  tf.dispose(grads);
  projection.dispose();
  return result;
}
