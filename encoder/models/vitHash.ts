// ViT hashing (seed 001): patch embedding, a class token and learned positions, a transformer encoder,
// and the class token into the hash layer. Small defaults train from scratch on 32 px inputs; the
// published size is ViT-B/16 at 224 px (patch 16, width 768, depth 12, heads 12), reachable by options.
import * as tf from '@tensorflow/tfjs';
import { conv2d } from './conv2d.js';
import { ClassToken, FirstToken, LearnedPositionEmbedding } from './layers.js';
import {
  isPositiveInteger,
  numberOption,
  type OutputActivation,
  outputActivationOption,
  seedSequence,
} from './options.js';
import { glorotFrom, layerNorm, transformerBlock } from './transformerBlock.js';
import type { HashModel, HashModelConfig } from './types.js';

export interface VitHashOptions {
  patchSize: number;
  width: number;
  depth: number;
  heads: number;
  mlpRatio: number;
  outputActivation: OutputActivation;
}

export const VIT_HASH_DEFAULTS: Readonly<VitHashOptions> = Object.freeze({
  patchSize: 4,
  width: 96,
  depth: 4,
  heads: 4,
  mlpRatio: 2,
  outputActivation: 'tanh',
});

export function resolveVitHashOptions(options: Record<string, unknown> | undefined): VitHashOptions {
  const d = VIT_HASH_DEFAULTS;
  return {
    patchSize: numberOption(options, 'patchSize', d.patchSize, isPositiveInteger),
    width: numberOption(options, 'width', d.width, isPositiveInteger),
    depth: numberOption(options, 'depth', d.depth, isPositiveInteger),
    heads: numberOption(options, 'heads', d.heads, isPositiveInteger),
    mlpRatio: numberOption(options, 'mlpRatio', d.mlpRatio, (v) => v > 0),
    outputActivation: outputActivationOption(options),
  };
}

type Symbolic = tf.SymbolicTensor;
const apply = (layer: tf.layers.Layer, x: Symbolic) => layer.apply(x) as Symbolic;

export function buildVitHash(config: HashModelConfig): HashModel {
  const o = resolveVitHashOptions(config.options);
  if (config.inputSize % o.patchSize !== 0) {
    throw new RangeError(`vitHash: input size ${config.inputSize} is not a multiple of patchSize ${o.patchSize}`);
  }
  const nextSeed = seedSequence(config.seed);
  const glorot = glorotFrom(nextSeed);
  const grid = config.inputSize / o.patchSize;
  const input = tf.input({ shape: [config.inputSize, config.inputSize, config.channels], name: 'image' });
  let x = apply(
    conv2d({
      name: 'patch_embed',
      filters: o.width,
      kernelSize: o.patchSize,
      strides: o.patchSize,
      kernelInitializer: glorot(),
    }),
    input,
  );
  x = apply(tf.layers.reshape({ name: 'to_tokens', targetShape: [grid * grid, o.width] }), x);
  x = apply(new ClassToken({ name: 'class_token', dim: o.width, seed: nextSeed() }), x);
  x = apply(
    new LearnedPositionEmbedding({ name: 'position', tokens: grid * grid + 1, dim: o.width, seed: nextSeed() }),
    x,
  );
  for (let b = 0; b < o.depth; b++) {
    x = transformerBlock(x, { name: `block${b + 1}`, width: o.width, heads: o.heads, mlpRatio: o.mlpRatio, nextSeed });
  }
  x = apply(layerNorm('head_norm'), x);
  x = apply(new FirstToken({ name: 'class_output' }), x);
  const output = apply(
    tf.layers.dense({ name: 'hash', units: config.bits, activation: o.outputActivation, kernelInitializer: glorot() }),
    x,
  );
  return { config, net: tf.model({ inputs: input, outputs: output, name: 'vitHash' }) };
}
