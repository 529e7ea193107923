// The small CNN baseline: conv blocks (3x3 conv + BN + ReLU + 2x2 max-pool) at widths 32-64-128, global
// average pool, an optional hidden dense layer, and the hash layer Dense(bits) + tanh.
// DAH (seed 002, "a CNN with an attention module") is the same network with channel + spatial
// attention (CBAM, cbam.ts) after every block ('every'), the last one ('last'), or none (ablation).
import * as tf from '@tensorflow/tfjs';
import { batchNormalization } from './batchNorm.js';
import { ChannelAttention, SpatialAttention } from './cbam.js';
import { conv2d } from './conv2d.js';
import {
  choiceOption,
  integerListOption,
  isPositiveInteger,
  numberOption,
  type OutputActivation,
  outputActivationOption,
  seedSequence,
} from './options.js';
import type { HashModel, HashModelConfig } from './types.js';

export interface CnnHashOptions {
  /** One conv block per entry. */
  widths: number[];
  /** Units of a ReLU dense layer before the hash layer; 0 for none. */
  hidden: number;
  /** Dropout before the hash layer (training only); 0 for none. */
  dropout: number;
  outputActivation: OutputActivation;
  /** Where CBAM attention follows a conv block. */
  attention: CnnAttention;
  /** Channel attention MLP width is channels / reduction. */
  reduction: number;
  /** Spatial attention conv side (odd). */
  spatialKernel: number;
}

export type CnnAttention = 'none' | 'last' | 'every';

export const CNN_HASH_DEFAULTS: Readonly<CnnHashOptions> = Object.freeze({
  widths: [32, 64, 128],
  hidden: 256,
  dropout: 0,
  outputActivation: 'tanh',
  attention: 'none',
  reduction: 8,
  spatialKernel: 7,
});

export function resolveCnnHashOptions(options: Record<string, unknown> | undefined): CnnHashOptions {
  const d = CNN_HASH_DEFAULTS;
  return {
    widths: integerListOption(options, 'widths', d.widths),
    hidden: numberOption(options, 'hidden', d.hidden, (v) => Number.isInteger(v) && v >= 0),
    dropout: numberOption(options, 'dropout', d.dropout, (v) => v >= 0 && v < 1),
    outputActivation: outputActivationOption(options),
    attention: choiceOption(options, 'attention', ['none', 'last', 'every'] as const, d.attention),
    reduction: numberOption(options, 'reduction', d.reduction, isPositiveInteger),
    spatialKernel: numberOption(options, 'spatialKernel', d.spatialKernel, (v) => isPositiveInteger(v) && v % 2 === 1),
  };
}

type Symbolic = tf.SymbolicTensor;
const apply = (layer: tf.layers.Layer, x: Symbolic) => layer.apply(x) as Symbolic;

export function buildCnnHash(config: HashModelConfig): HashModel {
  const o = resolveCnnHashOptions(config.options);
  const nextSeed = seedSequence(config.seed);
  const glorot = () => {
    const seed = nextSeed();
    return tf.initializers.glorotUniform(seed === undefined ? {} : { seed });
  };
  const input = tf.input({ shape: [config.inputSize, config.inputSize, config.channels], name: 'image' });
  let x = input;
  let side = config.inputSize;
  o.widths.forEach((filters, i) => {
    const block = `block${i + 1}`;
    x = apply(
      conv2d({
        name: `${block}_conv`,
        filters,
        kernelSize: 3,
        padding: 'same',
        useBias: false,
        kernelInitializer: glorot(),
      }),
      x,
    );
    x = apply(batchNormalization({ name: `${block}_bn` }), x);
    x = apply(tf.layers.reLU({ name: `${block}_relu` }), x);
    if (o.attention === 'every' || (o.attention === 'last' && i === o.widths.length - 1)) {
      x = apply(
        new ChannelAttention({ name: `${block}_channel_attention`, reduction: o.reduction, seed: nextSeed() }),
        x,
      );
      x = apply(
        new SpatialAttention({ name: `${block}_spatial_attention`, kernelSize: o.spatialKernel, seed: nextSeed() }),
        x,
      );
    }
    // Pool only while the grid is at least 2x2 so small inputs still build.
    if (side >= 2) {
      x = apply(tf.layers.maxPooling2d({ name: `${block}_pool`, poolSize: 2, strides: 2 }), x);
      side = Math.floor(side / 2);
    }
  });
  x = apply(tf.layers.globalAveragePooling2d({ name: 'pool' }), x);
  if (o.hidden > 0) {
    x = apply(tf.layers.dense({ name: 'hidden', units: o.hidden, activation: 'relu', kernelInitializer: glorot() }), x);
  }
  if (o.dropout > 0) x = apply(tf.layers.dropout({ name: 'dropout', rate: o.dropout, seed: nextSeed() }), x);
  const output = apply(
    tf.layers.dense({ name: 'hash', units: config.bits, activation: o.outputActivation, kernelInitializer: glorot() }),
    x,
  );
  return { config, net: tf.model({ inputs: input, outputs: output, name: config.architecture }) };
}

/** DAH: cnnHash with attention after every block unless the options say otherwise. */
export function buildDahNet(config: HashModelConfig): HashModel {
  return buildCnnHash({ ...config, options: { attention: 'every', ...config.options } });
}
