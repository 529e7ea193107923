import type * as tf from '@tensorflow/tfjs';

export interface HashModelConfig {
  architecture: string;
  bits: number;
  inputSize: number;
  channels: number;
  numClasses: number;
  /** architecture-specific options */
  options?: Record<string, unknown>;
  seed?: number;
  /**
   * Test-time flip: the hash output is the mean of the network's outputs on the image and on its mirror
   * image, so an image and its mirror get one code. Evaluation and export both apply it.
   */
  testTimeFlip?: boolean;
}

export interface HashModel {
  readonly config: HashModelConfig;
  /**
   * input [N, H, W, C] float32 normalized; output [N, bits] real-valued hash output (tanh-bounded where
   * the method uses tanh; option `outputActivation: 'linear'` gives raw outputs, e.g. for DPN)
   */
  readonly net: tf.LayersModel;
}
