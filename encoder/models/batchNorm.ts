// Batch normalization whose training step is one op with a closed-form gradient.
//
// tfjs-layers' BatchNormalization trains through tf.moments and the FusedBatchNorm gradient, so the
// tape holds every small op of both: about 45 kernel calls per layer over activation-sized tensors
// (mostly Multiply, Add, Sub, Tile), where the textbook backward needs 7 passes. This layer is
// the same layer (class name, config, weights, inference path, moving averages) with only the
// training-mode forward and backward replaced. Measured with bench:train (see the README).
import * as tf from '@tensorflow/tfjs';
import {
  batchNormGradientSums,
  batchNormKernelsActive,
  batchVariance,
  channelAffine,
} from '../engine/batchNormKernels.js';
import { type Kwargs, type LayerArgs, singleInput, stockLayerClass } from './layers.js';

type BatchNormArgs = NonNullable<Parameters<typeof tf.layers.batchNormalization>[0]>;
type StockBatchNorm = ReturnType<typeof tf.layers.batchNormalization>;

const StockBatchNormalization = stockLayerClass<BatchNormArgs, StockBatchNorm>('BatchNormalization');

/** The fields of the stock layer this one reads (declared private in its typings). */
interface BatchNormState {
  axis: number;
  momentum: number;
  epsilon: number;
  gamma: tf.LayerVariable | null;
  beta: tf.LayerVariable | null;
  movingMean: tf.LayerVariable;
  movingVariance: tf.LayerVariable;
}

export interface BatchStatistics {
  /** Normalized, scaled and shifted x. */
  y: tf.Tensor;
  /** Per-channel batch mean and (biased) variance, for the moving averages; the caller disposes them. */
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}

/**
 * Training-mode batch normalization over every axis but the last, as one differentiable op:
 * y = (x - mean) / sqrt(variance + epsilon) * gamma + beta with the batch's mean and variance.
 * Backward (N values per channel, c = x - mean, s = gamma / sqrt(variance + epsilon)):
 *   dbeta = sum(dy), dgamma = sum(dy * c) / sqrt(variance + epsilon),
 *   dx = s * dy - s * c * sum(dy * c) / (N (variance + epsilon)) - s * sum(dy) / N.
 */
export function batchNormTraining(
  x: tf.Tensor,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon: number,
): BatchStatistics {
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const count = x.size / (x.shape[x.rank - 1] as number);
  // On wasm, SIMD kernels do each pass below over x in one go (2 forward, 2 backward).
  const simd = batchNormKernelsActive(x);
  let mean: tf.Tensor1D | undefined;
  let variance: tf.Tensor1D | undefined;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, g, b, save] = args as [tf.Tensor, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
    const mu = tf.keep(tf.mean(input, axes) as tf.Tensor1D);
    // The SIMD kernels take x and the mean; the tf-ops path keeps x - mean instead.
    const centered = simd ? input : tf.sub(input, mu);
    const sigma2 = tf.keep(simd ? batchVariance(input, mu) : (tf.mean(tf.square(centered), axes) as tf.Tensor1D));
    [mean, variance] = [mu, sigma2];
    const invStd = tf.rsqrt(tf.add(sigma2, epsilon)) as tf.Tensor1D;
    const scale = tf.mul(g, invStd) as tf.Tensor1D;
    save([invStd, scale, centered, mu]);
    return {
      value: simd ? channelAffine(input, mu, scale, b) : tf.add(tf.mul(centered, scale), b),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [inv, s, c, m] = saved as [tf.Tensor1D, tf.Tensor1D, tf.Tensor, tf.Tensor1D];
        const [dBeta, dyDotC] = simd
          ? batchNormGradientSums(dy, c, m)
          : [tf.sum(dy, axes) as tf.Tensor1D, tf.sum(tf.mul(dy, c), axes) as tf.Tensor1D];
        const cCoef = tf.neg(tf.mul(s, tf.mul(tf.square(inv), tf.div(dyDotC, count)))) as tf.Tensor1D;
        const shift = tf.neg(tf.mul(s, tf.div(dBeta, count))) as tf.Tensor1D;
        const dx = simd
          ? channelAffine(c, m, cCoef, shift, { dy, s })
          : tf.add(tf.add(tf.mul(dy, s), tf.mul(c, cCoef)), shift);
        return [dx, tf.mul(dyDotC, inv), dBeta];
      },
    };
  });
  const y = op(x, gamma, beta);
  return { y, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
}

/** tf.layers.batchNormalization with the fused training step (channels-last, scale and center on). */
export class BatchNormalization extends StockBatchNormalization {
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const state = this as unknown as BatchNormState;
    const x = singleInput(inputs);
    const lastAxis = state.axis === -1 || state.axis === x.rank - 1;
    if (!kwargs.training || !lastAxis || state.gamma === null || state.beta === null) {
      return super.call(inputs, kwargs);
    }
    const { gamma, beta } = state;
    return tf.tidy(() => {
      const { y, mean, variance } = batchNormTraining(
        x,
        gamma.read() as tf.Tensor1D,
        beta.read() as tf.Tensor1D,
        state.epsilon,
      );
      const decay = 1 - state.momentum;
      for (const [variable, batchValue] of [
        [state.movingMean, mean],
        [state.movingVariance, variance],
      ] as const) {
        const current = variable.read();
        variable.write(tf.sub(current, tf.mul(tf.sub(current, batchValue), decay)));
      }
      tf.dispose([mean, variance]);
      return y;
    });
  }
}

export function batchNormalization(args: LayerArgs & BatchNormArgs): BatchNormalization {
  return new BatchNormalization(args);
}
