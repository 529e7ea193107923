import type * as tf from '@tensorflow/tfjs';

export interface HashLoss {
  readonly name: string;
  /** u: [B, bits] model outputs; labels: [B, numClasses] multi-hot float32; indices: dataset indices of the batch rows */
  compute(u: tf.Tensor2D, labels: tf.Tensor2D, indices: Int32Array): tf.Scalar;
  /**
   * True when the loss keeps state across batches (a memory bank, learned database codes, an epoch
   * schedule): replicas would each hold a different copy, so the trainer runs it in one process.
   */
  readonly stateful?: boolean;
  /** optional: called after each epoch (e.g. to update state) */
  onEpochEnd?(epoch: number): void;
  dispose?(): void;
}

export interface LossContext {
  bits: number;
  numClasses: number;
  seed: number;
  options?: Record<string, unknown>;
}
