// Shared machinery of the losses that pull each output toward a fixed +-1 vector per class (CSQ's
// centres, DPN's targets): the class table, the fill vector for multi-label ties, and the
// label -> target lookup.
import * as tf from '@tensorflow/tfjs';
import { mulberry32 } from '../random.js';
import { bernoulliVector, labelsToTargets, type SignMatrix, toTensor } from './centres.js';
import { signRowsOption } from './options.js';
import type { HashLoss, LossContext } from './types.js';

export abstract class SignTargetLoss implements HashLoss {
  abstract readonly name: string;
  /** Bits of a multi-label target whose label sum is zero come from this fixed random vector. */
  readonly fill: Float32Array;
  private readonly tableTensor: tf.Tensor2D;
  private readonly fillTensor: tf.Tensor1D;

  /** `table`: one +-1 row per class. Option `fill` overrides the seeded fill vector. */
  protected constructor(
    protected readonly table: SignMatrix,
    ctx: LossContext,
  ) {
    // A separate stream from the table's, so changing the table rule does not move the fill.
    this.fill =
      signRowsOption(ctx.options, 'fill', 1, ctx.bits) ?? bernoulliVector(ctx.bits, mulberry32(ctx.seed ^ 0x5eed));
    this.tableTensor = toTensor(table);
    this.fillTensor = tf.tensor1d(this.fill, 'float32');
  }

  /** The +-1 target of each row of `labels`: its class row, or the sign of the sum of its classes' rows. */
  targets(labels: tf.Tensor2D): tf.Tensor2D {
    return labelsToTargets(labels, this.tableTensor, this.fillTensor);
  }

  abstract compute(u: tf.Tensor2D, labels: tf.Tensor2D, indices?: Int32Array): tf.Scalar;

  dispose(): void {
    this.tableTensor.dispose();
    this.fillTensor.dispose();
  }
}
