// CBAM-style attention for the DAH model (seed 002: "a CNN with an attention module"; the module is not
// published, so we use the common channel + spatial pair of Woo et al. 2018). Both layers rescale a
// [N, H, W, C] feature map and keep its shape.
import * as tf from '@tensorflow/tfjs';
import { type Kwargs, type LayerArgs, singleInput, singleShape, squeezeMlp } from './layers.js';

const seeded = (seed: number | undefined) => tf.initializers.glorotUniform(seed === undefined ? {} : { seed });

export interface ChannelAttentionConfig extends LayerArgs {
  /** Hidden width of the shared MLP is channels / reduction (at least 1). */
  reduction: number;
  seed?: number;
}

/** x * sigmoid(MLP(avgpool(x)) + MLP(maxpool(x))), one weight per channel. */
export class ChannelAttention extends tf.layers.Layer {
  static className = 'ChannelAttention';
  readonly reduction: number;
  readonly seed: number | undefined;
  private w1!: tf.LayerVariable;
  private b1!: tf.LayerVariable;
  private w2!: tf.LayerVariable;
  private b2!: tf.LayerVariable;

  constructor(config: ChannelAttentionConfig) {
    const { reduction, seed, ...layerArgs } = config;
    super(layerArgs);
    if (!(Number.isInteger(reduction) && reduction >= 1)) {
      throw new RangeError(`ChannelAttention: reduction must be a positive integer, got ${reduction}`);
    }
    this.reduction = reduction;
    this.seed = seed;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const channels = singleShape(inputShape)[3] as number;
    const hidden = Math.max(1, Math.floor(channels / this.reduction));
    this.w1 = this.addWeight('w1', [channels, hidden], 'float32', seeded(this.seed));
    this.b1 = this.addWeight('b1', [hidden], 'float32', tf.initializers.zeros());
    this.w2 = this.addWeight(
      'w2',
      [hidden, channels],
      'float32',
      seeded(this.seed === undefined ? undefined : this.seed + 1),
    );
    this.b2 = this.addWeight('b2', [channels], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return singleShape(inputShape);
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = singleInput(inputs) as tf.Tensor4D;
      const mlp = (v: tf.Tensor2D) => squeezeMlp(v, [this.w1, this.b1, this.w2, this.b2]);
      const weights = tf.sigmoid(tf.add(mlp(tf.mean(x, [1, 2])), mlp(tf.max(x, [1, 2]))));
      return tf.mul(x, tf.reshape(weights, [x.shape[0], 1, 1, x.shape[3]]));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = { ...super.getConfig(), reduction: this.reduction };
    if (this.seed !== undefined) config.seed = this.seed;
    return config;
  }
}
tf.serialization.registerClass(ChannelAttention);

export interface SpatialAttentionConfig extends LayerArgs {
  /** Side of the square conv over the [mean, max] channel descriptors (CBAM uses 7). */
  kernelSize: number;
  seed?: number;
}

/** x * sigmoid(conv([mean_c(x), max_c(x)])), one weight per position. */
export class SpatialAttention extends tf.layers.Layer {
  static className = 'SpatialAttention';
  readonly kernelSize: number;
  readonly seed: number | undefined;
  private kernel!: tf.LayerVariable;
  private bias!: tf.LayerVariable;

  constructor(config: SpatialAttentionConfig) {
    const { kernelSize, seed, ...layerArgs } = config;
    super(layerArgs);
    if (!(Number.isInteger(kernelSize) && kernelSize >= 1 && kernelSize % 2 === 1)) {
      throw new RangeError(`SpatialAttention: kernelSize must be a positive odd integer, got ${kernelSize}`);
    }
    this.kernelSize = kernelSize;
    this.seed = seed;
  }

  override build(_inputShape: tf.Shape | tf.Shape[]): void {
    this.kernel = this.addWeight('kernel', [this.kernelSize, this.kernelSize, 2, 1], 'float32', seeded(this.seed));
    this.bias = this.addWeight('bias', [1], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return singleShape(inputShape);
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = singleInput(inputs) as tf.Tensor4D;
      const descriptors = tf.concat([tf.mean(x, 3, true), tf.max(x, 3, true)], 3) as tf.Tensor4D;
      const map = tf.conv2d(descriptors, this.kernel.read() as tf.Tensor4D, 1, 'same');
      return tf.mul(x, tf.sigmoid(tf.add(map, this.bias.read())));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = { ...super.getConfig(), kernelSize: this.kernelSize };
    if (this.seed !== undefined) config.seed = this.seed;
    return config;
  }
}
tf.serialization.registerClass(SpatialAttention);
