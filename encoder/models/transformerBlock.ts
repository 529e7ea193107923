// The pre-norm transformer block shared by the attention hash nets: x + MHSA(LN(x)), then
// x + MLP(LN(x)) with a GELU hidden layer of width * mlpRatio.
import * as tf from '@tensorflow/tfjs';
import { layerNormalization } from './layerNorm.js';
import { MultiHeadSelfAttention } from './layers.js';

export interface TransformerBlockSpec {
  name: string;
  width: number;
  heads: number;
  mlpRatio: number;
  /** Block-local attention over a square token grid (see MultiHeadSelfAttention). */
  blockSize?: number;
  /** Shifted windows and mixed (channel) attention, see MultiHeadSelfAttention. */
  shift?: number;
  channelReduction?: number;
  nextSeed: () => number | undefined;
}

type Symbolic = tf.SymbolicTensor;
const apply = (layer: tf.layers.Layer, x: Symbolic | Symbolic[]) => layer.apply(x) as Symbolic;

export function glorotFrom(nextSeed: () => number | undefined) {
  return () => {
    const seed = nextSeed();
    return tf.initializers.glorotUniform(seed === undefined ? {} : { seed });
  };
}

export const layerNorm = (name: string) => layerNormalization({ name, axis: -1, epsilon: 1e-6 });

export function transformerBlock(x: Symbolic, spec: TransformerBlockSpec): Symbolic {
  const { name, width, heads, mlpRatio, blockSize, shift, channelReduction, nextSeed } = spec;
  const glorot = glorotFrom(nextSeed);
  let y = apply(layerNorm(`${name}_norm1`), x);
  y = apply(
    new MultiHeadSelfAttention({
      name: `${name}_attention`,
      dim: width,
      heads,
      ...(blockSize !== undefined ? { blockSize } : {}),
      ...(shift ? { shift } : {}),
      ...(channelReduction ? { channelReduction } : {}),
      seed: nextSeed(),
    }),
    y,
  );
  x = apply(tf.layers.add({ name: `${name}_residual1` }), [x, y]);
  y = apply(layerNorm(`${name}_norm2`), x);
  y = apply(
    tf.layers.dense({
      name: `${name}_mlp1`,
      units: Math.round(width * mlpRatio),
      activation: 'gelu',
      kernelInitializer: glorot(),
    }),
    y,
  );
  y = apply(tf.layers.dense({ name: `${name}_mlp2`, units: width, kernelInitializer: glorot() }), y);
  return apply(tf.layers.add({ name: `${name}_residual2` }), [x, y]);
}
