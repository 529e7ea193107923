// MA-Swin hashing (seed 000): Swin Transformer stages (window attention, shifted windows in every
// second block, patch merging between stages) with a channel-attention block inside each window
// attention module ("mixed attention", switchable off with `channelAttention: false` for the
// ablation), then the hash layer. Not published: the channel block's exact form (we use a
// squeeze-excitation MLP on the window's attended values, see MultiHeadSelfAttention) and Swin's
// relative position bias (replaced by a learned absolute position embedding after the patch embedding).
// Patch merging (concatenate 2x2 neighbours, then a linear map) is computed as the equivalent 2x2
// stride-2 convolution. Small defaults for 32 px from scratch; Swin-T at 224 px is patchSize 4,
// widths [96, 192, 384, 768], depths [2, 2, 6, 2], heads [3, 6, 12, 24], window 7.
import * as tf from '@tensorflow/tfjs';
import { conv2d } from './conv2d.js';
import { LearnedPositionEmbedding } from './layers.js';
import {
  booleanOption,
  integerListOption,
  isPositiveInteger,
  numberOption,
  type OutputActivation,
  outputActivationOption,
  seedSequence,
} from './options.js';
import { glorotFrom, layerNorm, transformerBlock } from './transformerBlock.js';
import type { HashModel, HashModelConfig } from './types.js';

export interface MaSwinOptions {
  patchSize: number;
  widths: number[];
  depths: number[];
  heads: number[];
  window: number;
  mlpRatio: number;
  channelAttention: boolean;
  channelReduction: number;
  outputActivation: OutputActivation;
}

export const MA_SWIN_DEFAULTS: Readonly<MaSwinOptions> = Object.freeze({
  patchSize: 2,
  widths: [64, 128],
  depths: [2, 2],
  heads: [2, 4],
  window: 4,
  mlpRatio: 2,
  channelAttention: true,
  channelReduction: 4,
  outputActivation: 'tanh',
});

export function resolveMaSwinOptions(options: Record<string, unknown> | undefined): MaSwinOptions {
  const d = MA_SWIN_DEFAULTS;
  const o: MaSwinOptions = {
    patchSize: numberOption(options, 'patchSize', d.patchSize, isPositiveInteger),
    widths: integerListOption(options, 'widths', d.widths),
    depths: integerListOption(options, 'depths', d.depths),
    heads: integerListOption(options, 'heads', d.heads),
    window: numberOption(options, 'window', d.window, isPositiveInteger),
    mlpRatio: numberOption(options, 'mlpRatio', d.mlpRatio, (v) => v > 0),
    channelAttention: booleanOption(options, 'channelAttention', d.channelAttention),
    channelReduction: numberOption(options, 'channelReduction', d.channelReduction, isPositiveInteger),
    outputActivation: outputActivationOption(options),
  };
  if (o.depths.length !== o.widths.length || o.heads.length !== o.widths.length) {
    throw new RangeError('maSwin: widths, depths and heads need one entry per stage');
  }
  return o;
}

type Symbolic = tf.SymbolicTensor;
const apply = (layer: tf.layers.Layer, x: Symbolic) => layer.apply(x) as Symbolic;

export function buildMaSwin(config: HashModelConfig): HashModel {
  const o = resolveMaSwinOptions(config.options);
  const nextSeed = seedSequence(config.seed);
  const glorot = glorotFrom(nextSeed);
  let side = config.inputSize / o.patchSize;
  const stageSides = o.widths.map((_, s) => side / 2 ** s);
  if (stageSides.some((g) => !Number.isInteger(g) || g % Math.min(o.window, g) !== 0)) {
    throw new RangeError(
      `maSwin: input ${config.inputSize} / patch ${o.patchSize} gives stage grids ${stageSides.join(', ')}, ` +
        `not all divisible into windows of ${o.window}`,
    );
  }
  const input = tf.input({ shape: [config.inputSize, config.inputSize, config.channels], name: 'image' });
  let x = apply(
    conv2d({
      name: 'patch_embed',
      filters: o.widths[0],
      kernelSize: o.patchSize,
      strides: o.patchSize,
      kernelInitializer: glorot(),
    }),
    input,
  );
  x = apply(layerNorm('patch_norm'), x);
  o.widths.forEach((width, s) => {
    const stage = `stage${s + 1}`;
    if (s > 0) {
      x = apply(
        conv2d({
          name: `${stage}_merge`,
          filters: width,
          kernelSize: 2,
          strides: 2,
          kernelInitializer: glorot(),
        }),
        x,
      );
      side /= 2;
      x = apply(layerNorm(`${stage}_merge_norm`), x);
    }
    // A window as large as the grid is global attention, and there is nothing to shift.
    const window = Math.min(o.window, side);
    x = apply(tf.layers.reshape({ name: `${stage}_to_tokens`, targetShape: [side * side, width] }), x);
    if (s === 0) {
      x = apply(
        new LearnedPositionEmbedding({ name: 'position', tokens: side * side, dim: width, seed: nextSeed() }),
        x,
      );
    }
    for (let b = 0; b < o.depths[s]; b++) {
      x = transformerBlock(x, {
        name: `${stage}_block${b + 1}`,
        width,
        heads: o.heads[s],
        mlpRatio: o.mlpRatio,
        blockSize: window,
        shift: b % 2 === 1 && window < side ? window / 2 : 0,
        channelReduction: o.channelAttention ? o.channelReduction : 0,
        nextSeed,
      });
    }
    x = apply(tf.layers.reshape({ name: `${stage}_to_grid`, targetShape: [side, side, width] }), x);
  });
  x = apply(layerNorm('head_norm'), x);
  x = apply(tf.layers.globalAveragePooling2d({ name: 'head_pool' }), x);
  const output = apply(
    tf.layers.dense({ name: 'hash', units: config.bits, activation: o.outputActivation, kernelInitializer: glorot() }),
    x,
  );
  return { config, net: tf.model({ inputs: input, outputs: output, name: 'maSwin' }) };
}
