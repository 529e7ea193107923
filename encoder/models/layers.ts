// Custom tfjs layers for the attention hash nets. Each takes a plain config, round-trips through
// getConfig()/registerClass (so saved models load), and is built from ops that have gradients on the
// cpu and wasm backends (batched matMul, reshape, transpose, split, softmax; no einsum).
import * as tf from '@tensorflow/tfjs';

export type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;
export type Kwargs = Record<string, unknown>;

export function singleInput(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  return Array.isArray(inputs) ? inputs[0] : inputs;
}

/**
 * The class tfjs registered under a stock layer's name (tfjs exports most layers only through their
 * factories), for layers that keep a stock layer's name, config and weights and change how it trains.
 */
export function stockLayerClass<Args, Layer extends tf.layers.Layer>(className: string): new (args: Args) => Layer {
  const registered = tf.serialization.SerializationMap.getMap().classNameMap[className];
  if (registered === undefined) throw new Error(`tfjs has no layer class named ${className}`);
  return registered[0] as unknown as new (
    args: Args,
  ) => Layer;
}

export function singleShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
  return Array.isArray(inputShape[0]) ? (inputShape[0] as tf.Shape) : (inputShape as tf.Shape);
}

export interface MultiHeadSelfAttentionConfig extends LayerArgs {
  /** Token width C (input and output). */
  dim: number;
  /** Heads; each attends with width dim / heads. */
  heads: number;
  /**
   * Block-local attention (NesT / HybridHash): the T tokens form a square grid of side `grid`, cut into
   * non-overlapping blockSize x blockSize blocks, and tokens attend only within their block. Omitted:
   * global attention over all T tokens.
   */
  blockSize?: number;
  /**
   * Shifted windows (Swin): with blockSize, the grid is rolled up-left by `shift` tokens before the
   * blocks are cut and rolled back after, and tokens that the roll brought together from opposite
   * edges do not attend to each other (an additive mask). 0 or omitted: no shift.
   */
  shift?: number;
  /**
   * Mixed attention (MA-Swin, seed 000): channel attention inside the attention module. Each block's
   * attended values are rescaled per channel by sigmoid(MLP(mean over the block's tokens)) before the
   * output projection; the MLP width is dim / channelReduction. 0 or omitted: off.
   */
  channelReduction?: number;
  /** Initializer seed, for reproducible models. */
  seed?: number;
}

/**
 * Multi-head self-attention over the token axis: [N, T, C] -> [N, T, C]. Fused QKV projection, scaled
 * dot-product attention per head as a batched matMul over N * heads, output projection.
 */
export class MultiHeadSelfAttention extends tf.layers.Layer {
  static className = 'MultiHeadSelfAttention';
  readonly dim: number;
  readonly heads: number;
  readonly blockSize: number | undefined;
  readonly shift: number;
  readonly channelReduction: number;
  readonly seed: number | undefined;
  private channelKernel1: tf.LayerVariable | undefined;
  private channelBias1: tf.LayerVariable | undefined;
  private channelKernel2: tf.LayerVariable | undefined;
  private channelBias2: tf.LayerVariable | undefined;
  /** Shifted windows: token permutation into rolled order, its inverse, and the [windows, b*b, b*b] mask. */
  private shiftPlan: { roll: tf.Tensor1D; unroll: tf.Tensor1D; mask: tf.Tensor3D } | undefined;
  private qkvKernel!: tf.LayerVariable;
  private qkvBias!: tf.LayerVariable;
  private projKernel!: tf.LayerVariable;
  private projBias!: tf.LayerVariable;

  constructor(config: MultiHeadSelfAttentionConfig) {
    const { dim, heads, blockSize, shift = 0, channelReduction = 0, seed, ...layerArgs } = config;
    super(layerArgs);
    if (!Number.isInteger(dim) || !Number.isInteger(heads) || heads < 1 || dim % heads !== 0) {
      throw new RangeError(`MultiHeadSelfAttention: dim ${dim} must be a positive multiple of heads ${heads}`);
    }
    this.dim = dim;
    this.heads = heads;
    if (blockSize !== undefined && !(Number.isInteger(blockSize) && blockSize >= 1)) {
      throw new RangeError(`MultiHeadSelfAttention: blockSize must be a positive integer, got ${blockSize}`);
    }
    this.blockSize = blockSize;
    if (!(Number.isInteger(shift) && shift >= 0 && (shift === 0 || (blockSize !== undefined && shift < blockSize)))) {
      throw new RangeError(`MultiHeadSelfAttention: shift ${shift} needs blockSize and must be below it`);
    }
    this.shift = shift;
    if (!(Number.isInteger(channelReduction) && channelReduction >= 0)) {
      throw new RangeError(`MultiHeadSelfAttention: channelReduction must be an integer >= 0, got ${channelReduction}`);
    }
    this.channelReduction = channelReduction;
    this.seed = seed;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = singleShape(inputShape);
    if (shape.length !== 3 || shape[2] !== this.dim) {
      throw new RangeError(`MultiHeadSelfAttention expects [N, T, ${this.dim}], got [${shape.join(', ')}]`);
    }
    if (this.blockSize !== undefined && shape[1] !== null) {
      const grid = Math.round(Math.sqrt(shape[1]));
      if (grid * grid !== shape[1] || grid % this.blockSize !== 0) {
        throw new RangeError(
          `MultiHeadSelfAttention: ${shape[1]} tokens are not a square grid divisible into ${this.blockSize}-blocks`,
        );
      }
    }
    const seed = this.seed;
    const init = (offset: number) => tf.initializers.glorotUniform(seed === undefined ? {} : { seed: seed + offset });
    this.qkvKernel = this.addWeight('qkv_kernel', [this.dim, 3 * this.dim], 'float32', init(0));
    this.qkvBias = this.addWeight('qkv_bias', [3 * this.dim], 'float32', tf.initializers.zeros());
    this.projKernel = this.addWeight('proj_kernel', [this.dim, this.dim], 'float32', init(1));
    this.projBias = this.addWeight('proj_bias', [this.dim], 'float32', tf.initializers.zeros());
    if (this.channelReduction > 0) {
      const hidden = Math.max(1, Math.floor(this.dim / this.channelReduction));
      this.channelKernel1 = this.addWeight('channel_kernel1', [this.dim, hidden], 'float32', init(2));
      this.channelBias1 = this.addWeight('channel_bias1', [hidden], 'float32', tf.initializers.zeros());
      this.channelKernel2 = this.addWeight('channel_kernel2', [hidden, this.dim], 'float32', init(3));
      this.channelBias2 = this.addWeight('channel_bias2', [this.dim], 'float32', tf.initializers.zeros());
    }
    if (this.shift > 0 && shape[1] !== null)
      this.shiftPlan = shiftedWindowPlan(Math.round(Math.sqrt(shape[1])), this.blockSize!, this.shift);
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return singleShape(inputShape);
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const input = singleInput(inputs);
      const plan = this.shiftPlan;
      const rolled = plan ? tf.gather(input, plan.roll, 1) : input;
      const x = this.blockSize === undefined ? rolled : this.toBlocks(rolled);
      const [n, t, c] = x.shape;
      const h = this.heads;
      const d = c / h;
      const qkv = tf.add(tf.matMul(tf.reshape(x, [n * t, c]), this.qkvKernel.read()), this.qkvBias.read());
      // [N*T, C] -> [N*h, T, d]: heads become extra batch entries of one batched matMul.
      const toHeads = (m: tf.Tensor) =>
        tf.reshape(tf.transpose(tf.reshape(m, [n, t, h, d]), [0, 2, 1, 3]), [n * h, t, d]);
      const [q, k, v] = tf.split(qkv, 3, 1).map(toHeads) as tf.Tensor3D[];
      let scores = tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(d));
      if (plan) {
        // scores rows are (sample, window, head); the mask depends on the window only.
        const windows = plan.mask.shape[0];
        const perWindow = tf.reshape(scores, [n / windows, windows, h, t, t]);
        scores = tf.reshape(tf.add(perWindow, tf.reshape(plan.mask, [1, windows, 1, t, t])), [n * h, t, t]);
      }
      const attended = tf.matMul(tf.softmax(scores), v);
      let merged = tf.reshape(tf.transpose(tf.reshape(attended, [n, h, t, d]), [0, 2, 1, 3]), [n * t, c]);
      if (this.channelReduction > 0) merged = this.channelAttention(merged, n, t, c);
      const out = tf.add(tf.matMul(merged, this.projKernel.read()), this.projBias.read());
      const result = tf.reshape(out, [n, t, c]) as tf.Tensor3D;
      const restored = this.blockSize === undefined ? result : this.fromBlocks(result, input.shape[0]);
      return plan ? tf.gather(restored, plan.unroll, 1) : restored;
    });
  }

  /** [n*t, c] attended values of n blocks -> rescaled per block and channel. */
  private channelAttention(merged: tf.Tensor, n: number, t: number, c: number): tf.Tensor {
    const descriptor = tf.mean(tf.reshape(merged, [n, t, c]), 1) as tf.Tensor2D;
    const weights = tf.sigmoid(
      squeezeMlp(descriptor, [this.channelKernel1!, this.channelBias1!, this.channelKernel2!, this.channelBias2!]),
    );
    return tf.reshape(tf.mul(tf.reshape(merged, [n, t, c]), tf.reshape(weights, [n, 1, c])), [n * t, c]);
  }

  /**
   * [N, G*G, C] -> [N * (G/b)^2, b*b, C], each row one block. Only 4-D transposes (the wasm backend's
   * transpose handles them): merging b and C into one axis keeps the reshapes contiguous.
   */
  private toBlocks(x: tf.Tensor): tf.Tensor3D {
    const [n, t, c] = x.shape;
    const b = this.blockSize!;
    const g = Math.round(Math.sqrt(t));
    const rows = tf.reshape(x, [n * (g / b), b, g / b, b * c]); // [N*G/b, row in block, block col, (col in block, C)]
    return tf.reshape(tf.transpose(rows, [0, 2, 1, 3]), [n * (g / b) * (g / b), b * b, c]);
  }

  /** Inverse of toBlocks. */
  private fromBlocks(x: tf.Tensor3D, n: number): tf.Tensor3D {
    const c = x.shape[2];
    const b = this.blockSize!;
    const g = Math.round(Math.sqrt((x.shape[0] / n) * b * b));
    const blocks = tf.reshape(x, [n * (g / b), g / b, b, b * c]);
    return tf.reshape(tf.transpose(blocks, [0, 2, 1, 3]), [n, g * g, c]);
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = { ...super.getConfig(), dim: this.dim, heads: this.heads };
    if (this.blockSize !== undefined) config.blockSize = this.blockSize;
    if (this.shift > 0) config.shift = this.shift;
    if (this.channelReduction > 0) config.channelReduction = this.channelReduction;
    if (this.seed !== undefined) config.seed = this.seed;
    return config;
  }

  override dispose(): ReturnType<tf.layers.Layer['dispose']> {
    if (this.shiftPlan) tf.dispose([this.shiftPlan.roll, this.shiftPlan.unroll, this.shiftPlan.mask]);
    return super.dispose();
  }
}
tf.serialization.registerClass(MultiHeadSelfAttention);

/** The squeeze-excitation MLP of channel attention: relu(v W1 + b1) W2 + b2, v [N, C]. */
export function squeezeMlp(v: tf.Tensor2D, [w1, b1, w2, b2]: tf.LayerVariable[]): tf.Tensor2D {
  const hidden = tf.relu(tf.add(tf.matMul(v, w1.read() as tf.Tensor2D), b1.read())) as tf.Tensor2D;
  return tf.add(tf.matMul(hidden, w2.read() as tf.Tensor2D), b2.read()) as tf.Tensor2D;
}

/** Large negative added to masked attention logits (Swin uses -100): softmax weight ~e^-100. */
const MASKED = -100;

/**
 * Swin's cyclic shift on a grid x grid token grid with blocks of side b: `roll` gathers tokens into
 * the grid rolled up-left by `shift`, `unroll` undoes it, and `mask` [windows, b*b, b*b] is 0 between
 * tokens of the same region of the unrolled image and MASKED between tokens the roll wrapped together.
 */
export function shiftedWindowPlan(grid: number, b: number, shift: number) {
  const roll = new Int32Array(grid * grid);
  const unroll = new Int32Array(grid * grid);
  // Regions along one axis: [0, grid - b), [grid - b, grid - shift), [grid - shift, grid) in rolled coordinates.
  const region = (i: number) => (i < grid - b ? 0 : i < grid - shift ? 1 : 2);
  for (let r = 0; r < grid; r++) {
    for (let c = 0; c < grid; c++) {
      const source = ((r + shift) % grid) * grid + ((c + shift) % grid);
      roll[r * grid + c] = source;
      unroll[source] = r * grid + c;
    }
  }
  const perSide = grid / b;
  const t = b * b;
  const mask = new Float32Array(perSide * perSide * t * t);
  for (let w = 0; w < perSide * perSide; w++) {
    const [wr, wc] = [Math.floor(w / perSide), w % perSide];
    const label = (i: number) => region(wr * b + Math.floor(i / b)) * 3 + region(wc * b + (i % b));
    for (let i = 0; i < t; i++)
      for (let j = 0; j < t; j++) mask[(w * t + i) * t + j] = label(i) === label(j) ? 0 : MASKED;
  }
  return {
    roll: tf.tensor1d(roll, 'int32'),
    unroll: tf.tensor1d(unroll, 'int32'),
    mask: tf.tensor3d(mask, [perSide * perSide, t, t]),
  };
}

export interface LearnedPositionEmbeddingConfig extends LayerArgs {
  /** Number of tokens T. */
  tokens: number;
  /** Token width C. */
  dim: number;
  seed?: number;
}

/** Adds a learned [T, C] table to [N, T, C] tokens (ViT-style absolute positions). */
export class LearnedPositionEmbedding extends tf.layers.Layer {
  static className = 'LearnedPositionEmbedding';
  readonly tokens: number;
  readonly dim: number;
  readonly seed: number | undefined;
  private table!: tf.LayerVariable;

  constructor(config: LearnedPositionEmbeddingConfig) {
    const { tokens, dim, seed, ...layerArgs } = config;
    super(layerArgs);
    this.tokens = tokens;
    this.dim = dim;
    this.seed = seed;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = singleShape(inputShape);
    if (shape.length !== 3 || shape[1] !== this.tokens || shape[2] !== this.dim) {
      throw new RangeError(
        `LearnedPositionEmbedding expects [N, ${this.tokens}, ${this.dim}], got [${shape.join(', ')}]`,
      );
    }
    // Small init (ViT's 0.02) so positions start as a mild perturbation of the conv features.
    const init = tf.initializers.truncatedNormal({
      stddev: 0.02,
      ...(this.seed === undefined ? {} : { seed: this.seed }),
    });
    this.table = this.addWeight('table', [this.tokens, this.dim], 'float32', init);
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return singleShape(inputShape);
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => tf.add(singleInput(inputs), this.table.read()));
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = { ...super.getConfig(), tokens: this.tokens, dim: this.dim };
    if (this.seed !== undefined) config.seed = this.seed;
    return config;
  }
}
tf.serialization.registerClass(LearnedPositionEmbedding);

export interface ClassTokenConfig extends LayerArgs {
  /** Token width C. */
  dim: number;
  seed?: number;
}

/** Prepends one learned token to [N, T, C] tokens: [N, T + 1, C] (ViT's class token). */
export class ClassToken extends tf.layers.Layer {
  static className = 'ClassToken';
  readonly dim: number;
  readonly seed: number | undefined;
  private token!: tf.LayerVariable;

  constructor(config: ClassTokenConfig) {
    const { dim, seed, ...layerArgs } = config;
    super(layerArgs);
    this.dim = dim;
    this.seed = seed;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = singleShape(inputShape);
    if (shape.length !== 3 || shape[2] !== this.dim) {
      throw new RangeError(`ClassToken expects [N, T, ${this.dim}], got [${shape.join(', ')}]`);
    }
    const init = tf.initializers.truncatedNormal({
      stddev: 0.02,
      ...(this.seed === undefined ? {} : { seed: this.seed }),
    });
    this.token = this.addWeight('token', [1, 1, this.dim], 'float32', init);
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [n, t, c] = singleShape(inputShape);
    return [n, t === null ? null : t + 1, c];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = singleInput(inputs);
      const token = tf.tile(this.token.read(), [x.shape[0], 1, 1]);
      return tf.concat([token, x], 1);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = { ...super.getConfig(), dim: this.dim };
    if (this.seed !== undefined) config.seed = this.seed;
    return config;
  }
}
tf.serialization.registerClass(ClassToken);

/** Takes token 0 of [N, T, C]: [N, C] (the class token after the encoder). */
export class FirstToken extends tf.layers.Layer {
  static className = 'FirstToken';

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [n, , c] = singleShape(inputShape);
    return [n, c];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = singleInput(inputs);
      return tf.reshape(tf.slice(x, [0, 0, 0], [-1, 1, -1]), [x.shape[0], x.shape[2] as number]);
    });
  }
}
tf.serialization.registerClass(FirstToken);
