// The trainer's optimizers: Adam (the default) or SGD with Nesterov momentum, each with optional
// decoupled weight decay (AdamW / SGDW, Loshchilov & Hutter 2019). tfjs has neither decay: Adam's L2
// penalty through the gradient is scaled away by Adam's per-weight normalisation, so the decay is
// applied to the weights directly after each step, for SGD the same way so that one setting means
// one thing.
import * as tf from '@tensorflow/tfjs';
import type { TrainConfig } from '../../schemas/trainConfig.js';

export interface OptimizerSettings {
  kind: 'adam' | 'sgd';
  /** Decoupled weight decay per unit learning rate, on the weights of rank >= 2; 0 for none. */
  weightDecay: number;
  /** SGD's (Nesterov) momentum; unused by Adam. */
  momentum: number;
}

export const DEFAULT_MOMENTUM = 0.9;

/** The settings of a run's config (`training.optimizer`, `weightDecay`, `momentum`). */
export function optimizerSettingsOf(training: TrainConfig['training']): OptimizerSettings {
  return {
    kind: training.optimizer ?? 'adam',
    weightDecay: training.weightDecay ?? 0,
    momentum: training.momentum ?? DEFAULT_MOMENTUM,
  };
}

/** For the training log, e.g. "AdamW, weight decay 0.05" or "SGD, Nesterov momentum 0.9". */
export function describeOptimizer(settings: OptimizerSettings): string {
  const decay = settings.weightDecay > 0 ? `, weight decay ${settings.weightDecay}` : '';
  if (settings.kind === 'sgd') return `SGD${decay ? 'W' : ''}, Nesterov momentum ${settings.momentum}${decay}`;
  return `Adam${decay ? 'W' : ''}${decay}`;
}

/**
 * Decays the weights of rank >= 2 (conv and dense kernels, attention projections, position tables):
 * biases and normalisation scales and shifts (rank 1) are left alone, as is usual.
 */
const decays = (variable: tf.Variable) => variable.rank >= 2;

type VariableGradients = Parameters<tf.AdamOptimizer['applyGradients']>[0];

/** w <- w - lr * wd * w for the variables just updated, with the learning rate of this step. */
function decayWeights(variableGradients: VariableGradients, learningRate: number, wd: number) {
  if (wd === 0) return;
  const names = Array.isArray(variableGradients)
    ? variableGradients.map((g) => g.name)
    : Object.keys(variableGradients);
  const registered = tf.engine().registeredVariables;
  const keep = 1 - learningRate * wd;
  tf.tidy(() => {
    for (const name of names) {
      const variable = registered[name];
      if (variable && decays(variable)) variable.assign(tf.mul(variable, keep));
    }
  });
}

export class AdamW extends tf.AdamOptimizer {
  constructor(
    learningRate: number,
    readonly weightDecay: number,
  ) {
    super(learningRate, 0.9, 0.999);
  }

  override applyGradients(variableGradients: VariableGradients): void {
    super.applyGradients(variableGradients);
    decayWeights(variableGradients, this.learningRate, this.weightDecay);
  }
}

/** SGD with Nesterov momentum (PyTorch's form: v <- m v + g, w <- w - lr (g + m v)), then the decay. */
export class NesterovSgd extends tf.MomentumOptimizer {
  constructor(
    learningRate: number,
    momentum: number,
    readonly weightDecay: number,
  ) {
    super(learningRate, momentum, true);
  }

  override applyGradients(variableGradients: VariableGradients): void {
    super.applyGradients(variableGradients);
    decayWeights(variableGradients, this.learningRate, this.weightDecay);
  }
}

/** Adam (AdamW with a weight decay) or Nesterov SGD; the state (moments) is the base optimizer's. */
export function createOptimizer(learningRate: number, settings: Partial<OptimizerSettings> = {}): tf.Optimizer {
  const weightDecay = settings.weightDecay ?? 0;
  if (settings.kind === 'sgd') return new NesterovSgd(learningRate, settings.momentum ?? DEFAULT_MOMENTUM, weightDecay);
  return weightDecay > 0 ? new AdamW(learningRate, weightDecay) : tf.train.adam(learningRate);
}

/** State tensors the optimizer keeps per variable besides its step count: Adam 2 moments, SGD 1. */
export function stateSlotsPerVariable(settings: Partial<OptimizerSettings>): number {
  return settings.kind === 'sgd' ? 1 : 2;
}

/**
 * The rate of the next step. Adam reads its `learningRate` field at each step; SGD keeps it as a
 * scalar tensor too, which only setLearningRate() replaces.
 */
export function setLearningRate(optimizer: tf.Optimizer, learningRate: number): void {
  // Not instanceof: tfjs optimizers answer it by duck typing, so Adam "is" an SGDOptimizer.
  const sgd = optimizer as Partial<Pick<tf.SGDOptimizer, 'setLearningRate'>>;
  if (typeof sgd.setLearningRate === 'function') sgd.setLearningRate(learningRate);
  else (optimizer as unknown as { learningRate: number }).learningRate = learningRate;
}

/**
 * Adam.setWeights() sets beta^(t+1) with pow(), while training reaches it by t float32 multiplications;
 * the two differ in the last bits, so a resumed run would drift from the original. Replays the
 * multiplications instead, which makes restore-then-step bit-identical to the uninterrupted run.
 * (Touches Adam's private accBeta1/accBeta2; skipped if a tfjs version has no such fields.)
 */
export function replayAdamPowers(optimizer: tf.Optimizer, iterations: number): void {
  const adam = optimizer as unknown as {
    beta1?: number;
    beta2?: number;
    accBeta1?: tf.Variable;
    accBeta2?: tf.Variable;
  };
  for (const [beta, acc] of [
    [adam.beta1, adam.accBeta1],
    [adam.beta2, adam.accBeta2],
  ] as const) {
    if (typeof beta !== 'number' || acc === undefined) continue;
    const b = Math.fround(beta);
    let value = b;
    for (let t = 0; t < iterations; t++) value = Math.fround(value * b);
    tf.tidy(() => acc.assign(tf.scalar(value)));
  }
}
