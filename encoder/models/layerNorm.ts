// Layer normalization over the last axis as one op with a closed-form gradient.
//
// tfjs-layers' LayerNormalization tiles the mean, variance, gamma and beta to the input's shape
// before normalizing, and the gradient of Tile is a loop of one Slice and one Add per tile: for
// a [32, 64, 48] activation, 2,048 of each per tiled tensor. That made the attention models'
// training step mostly tiny kernel calls (bench/engine/throughput.ts --profile --model
// hybridHash: 18,656 Slice and 18,992 Add calls, 690 of 1,028 ms). This layer is the same layer
// (class name, config, weights) with broadcasting instead of tiles and the backward written out.
import * as tf from '@tensorflow/tfjs';
import { type Kwargs, type LayerArgs, singleInput, stockLayerClass } from './layers.js';

type LayerNormArgs = NonNullable<Parameters<typeof tf.layers.layerNormalization>[0]>;
type StockLayerNorm = ReturnType<typeof tf.layers.layerNormalization>;

const StockLayerNormalization = stockLayerClass<LayerNormArgs, StockLayerNorm>('LayerNormalization');

/** The fields of the stock layer this one reads (private in its typings); axis is resolved by build(). */
interface LayerNormState {
  axis: number[];
  epsilon: number;
  gamma: tf.LayerVariable | null;
  beta: tf.LayerVariable | null;
}

/**
 * y = (x - mean) / sqrt(variance + epsilon) * gamma + beta, statistics over the last axis of each row.
 * Backward (C values per row, n = (x - mean) / sqrt(variance + epsilon), g = dy * gamma):
 *   dgamma = sum over rows of dy * n, dbeta = sum over rows of dy,
 *   dx = (g - mean_C(g) - n * mean_C(g * n)) / sqrt(variance + epsilon).
 */
export function layerNormLastAxis(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number): tf.Tensor {
  const rowAxes = x.shape.slice(0, -1).map((_, i) => i);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, g, b, save] = args as [tf.Tensor, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
    const mean = tf.mean(input, -1, true);
    const centered = tf.sub(input, mean);
    const invStd = tf.rsqrt(tf.add(tf.mean(tf.square(centered), -1, true), epsilon));
    const normalized = tf.mul(centered, invStd);
    save([normalized, invStd, g]);
    return {
      value: tf.add(tf.mul(normalized, g), b),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [n, inv, scale] = saved;
        const dyScaled = tf.mul(dy, scale);
        const projection = tf.mean(tf.mul(dyScaled, n), -1, true);
        const dx = tf.mul(tf.sub(tf.sub(dyScaled, tf.mean(dyScaled, -1, true)), tf.mul(n, projection)), inv);
        return [dx, tf.sum(tf.mul(dy, n), rowAxes), tf.sum(dy, rowAxes)];
      },
    };
  });
  return op(x, gamma, beta);
}

/** tf.layers.layerNormalization computed by layerNormLastAxis (last axis, scale and center on). */
export class LayerNormalization extends StockLayerNormalization {
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const state = this as unknown as LayerNormState;
    const x = singleInput(inputs);
    const lastAxisOnly = state.axis.length === 1 && state.axis[0] === x.rank - 1;
    if (!lastAxisOnly || state.gamma === null || state.beta === null) return super.call(inputs, kwargs);
    const { gamma, beta } = state;
    return tf.tidy(() => layerNormLastAxis(x, gamma.read() as tf.Tensor1D, beta.read() as tf.Tensor1D, state.epsilon));
  }
}

export function layerNormalization(args: LayerArgs & LayerNormArgs): LayerNormalization {
  return new LayerNormalization(args);
}
