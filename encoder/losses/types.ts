import type * as tf from '@tensorflow/tfjs';
import type { MemoryBank } from './memoryBank.js';

export interface HashLoss {
  readonly name: string;
  /** u: [B, bits] model outputs; labels: [B, numClasses] multi-hot float32; indices: dataset indices of the batch rows */
  compute(u: tf.Tensor2D, labels: tf.Tensor2D, indices: Int32Array): tf.Scalar;
  /**
   * The state the loss keeps across batches, which decides how data-parallel replicas train it
   * (encoder/engine/dataParallel.ts). Undefined: none.
   * - 'epoch': only what onEpochEnd sets (a schedule); every replica hears every epoch end.
   * - 'bank': a MemoryBank (`bank`) and what onEpochEnd derives from it (learned database codes);
   *   replicas also exchange the bank rows each step writes, so their banks stay equal.
   * - 'local': anything else: trained in one process.
   * Trainable variables of the loss itself are not state: see `variables`.
   */
  readonly state?: 'epoch' | 'bank' | 'local';
  /** The memory bank, when state is 'bank'. */
  readonly bank?: MemoryBank;
  /**
   * Trainable variables of the loss (GreedyHash's classifier), trained with the network: replicas
   * average their gradients with the model's, so they stay equal like the model's weights.
   */
  readonly variables?: readonly tf.Variable[];
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
