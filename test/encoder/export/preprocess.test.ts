// The shared preprocessing agrees bit for bit with the encoder's training-time normalization.
import { describe, expect, it } from 'vitest';
import {
  CIFAR10_NORMALIZATION,
  computeNormalization,
  IMAGENET_NORMALIZATION,
  MNIST_NORMALIZATION,
  normalizationTable,
  normalizeInto,
} from '../../../encoder/data/augment.js';
import { TRAINING_PIXEL_SCALE } from '../../../encoder/export/modelCard.js';
import type { ModelCard } from '../../../schemas/modelCard.js';
import { imageValues, normalizationLut, preprocessInto } from '../../../schemas/preprocess.js';
import { randomBytes } from '../../support/random.js';

function inputFor(norm: { mean: number[]; std: number[] }, size = 4): ModelCard['input'] {
  const channels = norm.mean.length as 1 | 3;
  return {
    name: 'image',
    size,
    channels,
    layout: 'NHWC',
    channelOrder: channels === 3 ? 'RGB' : 'gray',
    resize: 'fill',
    normalization: { scale: TRAINING_PIXEL_SCALE, ...norm },
  };
}

const computed = computeNormalization({
  name: 'random',
  size: 6,
  height: 5,
  width: 5,
  channels: 3,
  pixels: randomBytes(6 * 5 * 5 * 3, 9),
  labels: new Uint8Array(6),
  classNames: ['a'],
} as unknown as Parameters<typeof computeNormalization>[0]);

describe('preprocessInto', () => {
  for (const [name, norm] of Object.entries({
    cifar10: CIFAR10_NORMALIZATION,
    imagenet: IMAGENET_NORMALIZATION,
    mnist: MNIST_NORMALIZATION,
    computed,
  })) {
    it(`equals the training lookup table for every byte: ${name}`, () => {
      const input = inputFor(norm);
      expect(Array.from(normalizationLut(input))).toEqual(Array.from(normalizationTable(norm, input.channels)));
    });
  }

  it('normalizes a batch of images like the training batches, at an offset', () => {
    const input = inputFor(CIFAR10_NORMALIZATION, 5);
    const pixels = randomBytes(3 * imageValues(input), 4);
    const expected = new Float32Array(pixels.length);
    normalizeInto(pixels, 0, expected, 0, pixels.length, 3, normalizationTable(CIFAR10_NORMALIZATION, 3));
    const out = new Float32Array(pixels.length + 7);
    expect(preprocessInto(input, pixels, out, 7)).toBe(out.length);
    expect(Array.from(out.subarray(7))).toEqual(Array.from(expected));
    expect(Array.from(out.subarray(0, 7))).toEqual(new Array(7).fill(0));
  });

  it('rejects partial images, outputs too small, and statistics for the wrong channel count', () => {
    const input = inputFor(MNIST_NORMALIZATION, 2);
    expect(() => preprocessInto(input, new Uint8Array(5), new Float32Array(8))).toThrow(/whole 2x2x1 images/);
    expect(() => preprocessInto(input, new Uint8Array(4), new Float32Array(4), 1)).toThrow(/do not fit/);
    const mismatched = { ...input, normalization: { ...input.normalization, mean: [0.1, 0.2, 0.3] } };
    expect(() => preprocessInto(mismatched, new Uint8Array(4), new Float32Array(4))).toThrow(/3 means/);
  });
});
