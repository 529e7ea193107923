// A small hybrid conv + self-attention hash net in HybridHash's shape (ICMR 2024, seed 003): a conv stem
// cuts the image into fine patches, attention stages lower the resolution and raise the width, an
// interaction conv after each stage lets neighbouring patches exchange information, and a hash layer
// (Dense(bits) + tanh) sits on the pooled tokens. The defaults are sized for 32 px from scratch on a CPU;
// the published 224 px net (dims 128/256/512, heads 4/8/16, depths 2/2/15) is
// `widths [128, 256, 512], heads [4, 8, 16], depths [2, 2, 15]` here, with `blockSize: 14` for NesT's
// block-local attention (global attention on 56 x 56 tokens is costly).
import * as tf from '@tensorflow/tfjs';
import { batchNormalization } from './batchNorm.js';
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

export interface HybridHashOptions {
  /** Width of the stride-1 stem conv. */
  stemChannels: number;
  /** Stride-2 convs in the stem: the patch size is 2^stemStrides (2 -> 4 px patches, HybridHash's). */
  stemStrides: number;
  /**
   * Further stride-1 3x3 conv + BN + ReLU layers after each stem conv, at its resolution: a deeper
   * stem gives attention better local features when training from scratch at 32 px.
   */
  stemDepth: number;
  /**
   * Filters of each downsampling stem step, one per stride (the last is the first stage's width);
   * default: widths[0] at every step.
   */
  stemWidths: number[];
  /**
   * Downsample in the stem with a stride-1 conv then a 2x2 max-pool (ResNet-9 / airbench style: four
   * times the conv positions of a stride-2 conv, at full resolution) instead of a stride-2 conv.
   */
  stemPool: boolean;
  /**
   * Add each stem step's input to the output of its stemDepth stride-1 convs (a residual block, as in
   * ResNet-9 / airbench): deeper stems keep a short path for the gradient.
   */
  stemResidual: boolean;
  /** Token width per stage; each stage after the first halves the grid with a stride-2 merging conv. */
  widths: number[];
  /** Transformer blocks per stage. */
  depths: number[];
  /** Attention heads per stage (widths[i] % heads[i] === 0). */
  heads: number[];
  /**
   * Block-local attention: tokens attend within blockSize x blockSize blocks of the grid (NesT), in
   * every stage whose grid is larger than that; 0 = global attention everywhere.
   */
  blockSize: number;
  /** MLP hidden width = mlpRatio * width. */
  mlpRatio: number;
  /** Residual 3x3 conv on the token grid after each stage (HybridHash's interaction module). */
  interaction: boolean;
  /** Learned absolute position table on the first stage's tokens. */
  positionEmbedding: boolean;
  outputActivation: OutputActivation;
}

export const HYBRID_HASH_DEFAULTS: Readonly<HybridHashOptions> = Object.freeze({
  stemChannels: 32,
  stemStrides: 2,
  stemDepth: 0,
  stemWidths: [],
  stemPool: false,
  stemResidual: false,
  // Three stages, as HybridHash has (8x8, 4x4 and 2x2 token grids at 32 px); widths rise gently so
  // that the parameters stay near the other 32 px defaults (1.2M; [64, 128, 256] would be 3.3M).
  widths: [64, 96, 128],
  depths: [2, 2, 2],
  heads: [2, 4, 4],
  blockSize: 0,
  mlpRatio: 4,
  interaction: true,
  positionEmbedding: true,
  outputActivation: 'tanh',
});

export function resolveHybridHashOptions(options: Record<string, unknown> | undefined): HybridHashOptions {
  const d = HYBRID_HASH_DEFAULTS;
  const resolved: HybridHashOptions = {
    stemChannels: numberOption(options, 'stemChannels', d.stemChannels, isPositiveInteger),
    stemStrides: numberOption(options, 'stemStrides', d.stemStrides, isPositiveInteger),
    stemDepth: numberOption(options, 'stemDepth', d.stemDepth, (v) => Number.isInteger(v) && v >= 0),
    stemWidths: integerListOption(options, 'stemWidths', d.stemWidths),
    stemPool: booleanOption(options, 'stemPool', d.stemPool),
    stemResidual: booleanOption(options, 'stemResidual', d.stemResidual),
    widths: integerListOption(options, 'widths', d.widths),
    depths: integerListOption(options, 'depths', d.depths),
    heads: integerListOption(options, 'heads', d.heads),
    blockSize: numberOption(options, 'blockSize', d.blockSize, (v) => Number.isInteger(v) && v >= 0),
    mlpRatio: numberOption(options, 'mlpRatio', d.mlpRatio, (v) => v > 0),
    interaction: booleanOption(options, 'interaction', d.interaction),
    positionEmbedding: booleanOption(options, 'positionEmbedding', d.positionEmbedding),
    outputActivation: outputActivationOption(options),
  };
  if (resolved.stemWidths.length === 0) resolved.stemWidths = Array(resolved.stemStrides).fill(resolved.widths[0]);
  if (resolved.stemWidths.length !== resolved.stemStrides || resolved.stemWidths.at(-1) !== resolved.widths[0]) {
    throw new RangeError(
      `hybridHash: stemWidths needs one entry per stem stride (${resolved.stemStrides}), the last equal to widths[0] (${resolved.widths[0]})`,
    );
  }
  const stages = resolved.widths.length;
  if (resolved.depths.length !== stages || resolved.heads.length !== stages) {
    throw new RangeError(`hybridHash: widths, depths and heads need one entry per stage (${stages})`);
  }
  resolved.widths.forEach((w, i) => {
    if (w % resolved.heads[i] !== 0)
      throw new RangeError(`hybridHash: stage ${i} width ${w} not divisible by heads ${resolved.heads[i]}`);
  });
  return resolved;
}

type Symbolic = tf.SymbolicTensor;
const apply = (layer: tf.layers.Layer, x: Symbolic | Symbolic[]) => layer.apply(x) as Symbolic;

export function buildHybridHash(config: HashModelConfig): HashModel {
  const o = resolveHybridHashOptions(config.options);
  const nextSeed = seedSequence(config.seed);
  const glorot = glorotFrom(nextSeed);
  const conv = (name: string, filters: number, strides: number, useBias = false) =>
    conv2d({ name, filters, kernelSize: 3, strides, padding: 'same', useBias, kernelInitializer: glorot() });

  const input = tf.input({ shape: [config.inputSize, config.inputSize, config.channels], name: 'image' });

  // Stem: full-resolution 3x3 conv, then stemStrides downsampling steps (a stride-2 conv, or a conv and
  // a max-pool) down to 2^stemStrides-pixel patches, each followed by stemDepth stride-1 convs (with a
  // skip connection around them when stemResidual).
  const convBnRelu = (x: Symbolic, suffix: string, filters: number, downsample: 'none' | 'stride' | 'pool') => {
    let y = apply(conv(`stem_conv${suffix}`, filters, downsample === 'stride' ? 2 : 1), x);
    if (downsample === 'pool') {
      y = apply(tf.layers.maxPooling2d({ name: `stem_pool${suffix}`, poolSize: 2, strides: 2, padding: 'same' }), y);
    }
    const normed = apply(batchNormalization({ name: `stem_bn${suffix}` }), y);
    return apply(tf.layers.reLU({ name: `stem_relu${suffix}` }), normed);
  };
  let x = input;
  let side = config.inputSize;
  for (let i = 0; i <= o.stemStrides; i++) {
    const filters = i === 0 ? o.stemChannels : o.stemWidths[i - 1];
    x = convBnRelu(x, `${i}`, filters, i === 0 ? 'none' : o.stemPool ? 'pool' : 'stride');
    if (i > 0) side = Math.ceil(side / 2);
    const blockInput = x;
    for (let d = 1; d <= o.stemDepth; d++) x = convBnRelu(x, `${i}_${d}`, filters, 'none');
    if (o.stemResidual && o.stemDepth > 0) x = apply(tf.layers.add({ name: `stem_residual${i}` }), [blockInput, x]);
  }

  for (let s = 0; s < o.widths.length; s++) {
    const width = o.widths[s];
    const stage = `stage${s + 1}`;
    if (s > 0) {
      // Patch merging: an overlapping 3x3 stride-2 conv halves the grid and raises the width.
      x = apply(conv(`${stage}_merge`, width, 2, true), x);
      side = Math.ceil(side / 2);
      x = apply(layerNorm(`${stage}_merge_norm`), x);
    }
    const tokens = side * side;
    const local = o.blockSize > 0 && side > o.blockSize;
    if (local && side % o.blockSize !== 0) {
      throw new RangeError(`hybridHash: stage ${s + 1} grid ${side} is not divisible into blocks of ${o.blockSize}`);
    }
    x = apply(tf.layers.reshape({ name: `${stage}_to_tokens`, targetShape: [tokens, width] }), x);
    if (s === 0 && o.positionEmbedding) {
      x = apply(new LearnedPositionEmbedding({ name: `${stage}_position`, tokens, dim: width, seed: nextSeed() }), x);
    }
    for (let b = 0; b < o.depths[s]; b++) {
      x = transformerBlock(x, {
        name: `${stage}_block${b + 1}`,
        width,
        heads: o.heads[s],
        mlpRatio: o.mlpRatio,
        ...(local ? { blockSize: o.blockSize } : {}),
        nextSeed,
      });
    }
    x = apply(tf.layers.reshape({ name: `${stage}_to_grid`, targetShape: [side, side, width] }), x);
    if (o.interaction) {
      // Interaction: tokens only met inside attention; a residual 3x3 conv mixes neighbouring patches.
      const y = apply(conv(`${stage}_interaction`, width, 1, true), apply(layerNorm(`${stage}_interaction_norm`), x));
      x = apply(tf.layers.add({ name: `${stage}_interaction_residual` }), [x, y]);
    }
  }

  x = apply(layerNorm('head_norm'), x);
  x = apply(tf.layers.globalAveragePooling2d({ name: 'head_pool' }), x);
  const output = apply(
    tf.layers.dense({ name: 'hash', units: config.bits, activation: o.outputActivation, kernelInitializer: glorot() }),
    x,
  );
  const net = tf.model({ inputs: input, outputs: output, name: 'hybridHash' });
  return { config, net };
}
