import type * as tf from '@tensorflow/tfjs';
import type { MemoryBank } from './memoryBank.js';

export interface HashLoss {
  readonly name: string;
  /** u: [B, bits] model outputs; labels: [B, numClasses] multi-hot float32; indices: dataset indices of the batch rows */
  compute(u: tf.Tensor2D, labels: tf.Tensor2D, indices: Int32Array): tf.Scalar;
  /**
   * State across batches that data-parallel replicas can share (encoder/engine/dataParallel.ts):
   * what onEpochEnd sets (every replica hears every epoch end), a memory bank (`bank`: replicas
   * exchange the rows each step writes) and trainable variables of the loss (`variables`). True when
   * the loss keeps any other state: the trainer then runs it in one process.
   */
  readonly unsharedState?: boolean;
  /** The memory bank of a bank loss (DPSH, DSH, DAH, ADSH, PAL), and what onEpochEnd derives from. */
  readonly bank?: MemoryBank;
  /**
   * Trainable variables of the loss (GreedyHash's classifier), trained with the network: replicas
   * average their gradients with the model's, so they stay equal like the model's weights.
   */
  readonly variables?: readonly tf.Variable[];
  /** optional: called after each epoch (e.g. to update state) */
  onEpochEnd?(epoch: number): void;
  /**
   * State beyond the bank that a checkpoint must keep for an exact resume (ADSH's learned database
   * codes); the bank itself is saved by lossState.ts. What onEpochEnd derives from the epoch number
   * alone (HashNet's beta) needs no saving: a resume replays it.
   */
  saveState?(): NamedArray[];
  loadState?(entries: readonly NamedArray[]): void;
  dispose?(): void;
}

/** One named float32 host array with its shape: a piece of a loss's state in a checkpoint. */
export interface NamedArray {
  name: string;
  shape: number[];
  values: Float32Array;
}

export interface LossContext {
  bits: number;
  numClasses: number;
  seed: number;
  options?: Record<string, unknown>;
}
