// How the training loop takes an optimizer step: in this thread, or across one worker replica per
// core (tfjs-wasm uses one thread in Node, so the second core would otherwise sit idle). The loop
// sees one interface; checkpoints and evaluation always use the main thread's model, synced from
// replica 0 at epoch ends.
import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../data/batches.js';
import type { BackendPreference } from '../engine/backend.js';
import { DataParallelTrainer, type NamedValues } from '../engine/dataParallel.js';
import { loadLossState, saveLossState } from '../losses/lossState.js';
import type { HashLoss, LossContext, NamedArray } from '../losses/types.js';
import type { HashModel } from '../models/types.js';
import type { NamedTensor } from './checkpoint.js';
import { type BatchEncoder, hashEncoder, inThreadEncoder } from './encode.js';
import { createOptimizer, type OptimizerSettings, replayAdamPowers, setLearningRate } from './optimizer.js';

/** What a checkpoint keeps of the engine besides the model: Adam's state and the loss's. */
export interface EngineState {
  optimizer: NamedTensor[];
  /** encoder/losses/lossState.ts; empty for a loss without state across batches. */
  loss: NamedArray[];
}

export interface StepEngine {
  readonly workers: number;
  /** One optimizer step on the batch at this learning rate; returns the batch loss. */
  step(batch: Batch, learningRate: number): Promise<number>;
  /** Brings the main thread's model up to date and returns the optimizer and loss state (caller disposes). */
  sync(): Promise<EngineState>;
  /** Loads weights (already in the main model), optimizer state and loss state into the engine. */
  restore(state: EngineState): Promise<void>;
  /**
   * Encodes with the main thread's model as it is now (after sync() or loading a checkpoint): in this
   * thread, or on the replicas after loading that model's weights into them.
   */
  encoder(): Promise<BatchEncoder>;
  /** Tells the loss (every replica's) that this epoch has ended. */
  epochEnd(epoch: number): Promise<void>;
  dispose(): Promise<void>;
}

class InProcessEngine implements StepEngine {
  readonly workers = 1;
  private readonly optimizer: tf.Optimizer;

  constructor(
    private readonly model: HashModel,
    private readonly loss: HashLoss,
    learningRate: number,
    optimizer: Partial<OptimizerSettings>,
  ) {
    this.optimizer = createOptimizer(learningRate, optimizer);
  }

  async step(batch: Batch, learningRate: number): Promise<number> {
    const { inputSize, channels } = this.model.config;
    setLearningRate(this.optimizer, learningRate);
    const numClasses = batch.labels.length / batch.size;
    const cost = tf.tidy(() => {
      const x = tf.tensor4d(batch.x, [batch.size, inputSize, inputSize, channels]);
      const y = tf.tensor2d(batch.labels, [batch.size, numClasses]);
      return this.optimizer.minimize(
        () => this.loss.compute(this.model.net.apply(x, { training: true }) as tf.Tensor2D, y, batch.indices),
        true,
      )!;
    });
    const value = (await cost.data())[0];
    cost.dispose();
    return value;
  }

  async sync(): Promise<EngineState> {
    const optimizer = (await this.optimizer.getWeights()).map(({ name, tensor }) => ({ name, tensor: tensor.clone() }));
    return { optimizer, loss: await saveLossState(this.loss) };
  }

  async epochEnd(epoch: number): Promise<void> {
    this.loss.onEpochEnd?.(epoch);
  }

  async encoder(): Promise<BatchEncoder> {
    return inThreadEncoder(this.model);
  }

  async restore(state: EngineState): Promise<void> {
    await this.optimizer.setWeights(state.optimizer);
    replayAdamPowers(this.optimizer, this.optimizer.iterations);
    loadLossState(this.loss, state.loss);
  }

  async dispose(): Promise<void> {
    this.optimizer.dispose();
  }
}

/** Every weight of the model (BatchNorm moving statistics included), by original name. */
const namedWeights = (model: HashModel): NamedTensor[] =>
  model.net.weights.map((w) => ({ name: w.originalName, tensor: w.read() }));

const toValues = (named: NamedTensor[]): NamedValues[] =>
  named.map(({ name, tensor }) => ({ name, shape: tensor.shape, values: tensor.dataSync() as Float32Array }));

class DataParallelEngine implements StepEngine {
  private constructor(
    private readonly trainer: DataParallelTrainer,
    private readonly model: HashModel,
  ) {}

  static async create(
    workers: number,
    backend: BackendPreference,
    model: HashModel,
    loss: { name: string; context: LossContext },
    learningRate: number,
    optimizer: Partial<OptimizerSettings>,
  ): Promise<DataParallelEngine> {
    const trainer = await DataParallelTrainer.create({
      workers,
      backend,
      model: model.config,
      loss,
      learningRate,
      optimizer,
    });
    // Replicas are built from the same config and seed; make them equal to this model exactly.
    await trainer.restore({
      weights: toValues(namedWeights(model)),
    });
    return new DataParallelEngine(trainer, model);
  }

  get workers(): number {
    return this.trainer.workers;
  }

  step(batch: Batch, learningRate: number): Promise<number> {
    return this.trainer.step(batch, learningRate);
  }

  async sync(): Promise<EngineState> {
    const snapshot = await this.trainer.snapshot(0);
    const weights = snapshot.weights.map((w) => tf.tensor(w.values, w.shape));
    this.model.net.setWeights(weights);
    tf.dispose(weights);
    return {
      optimizer: snapshot.optimizer.map((o) => ({ name: o.name, tensor: tf.tensor(o.values, o.shape) })),
      loss: snapshot.loss,
    };
  }

  async restore(state: EngineState): Promise<void> {
    const weights = namedWeights(this.model);
    await this.trainer.restore({ weights: toValues(weights), optimizer: toValues(state.optimizer), loss: state.loss });
  }

  epochEnd(epoch: number): Promise<void> {
    return this.trainer.epochEnd(epoch);
  }

  async encoder(): Promise<BatchEncoder> {
    // All weights, BatchNorm moving statistics included, so every replica encodes as this model does.
    await this.trainer.restore({ weights: toValues(namedWeights(this.model)) });
    return hashEncoder(this.model.config, (batch) => this.trainer.encode(batch.x, batch.size));
  }

  dispose(): Promise<void> {
    return this.trainer.dispose();
  }
}

export async function createStepEngine(options: {
  workers: number;
  backend: BackendPreference;
  model: HashModel;
  loss: HashLoss;
  lossSpec: { name: string; context: LossContext };
  learningRate: number;
  /** Optimizer and weight decay; default plain Adam. */
  optimizer?: Partial<OptimizerSettings>;
}): Promise<StepEngine> {
  const optimizer = options.optimizer ?? {};
  if (options.workers <= 1) return new InProcessEngine(options.model, options.loss, options.learningRate, optimizer);
  return DataParallelEngine.create(
    options.workers,
    options.backend,
    options.model,
    options.lossSpec,
    options.learningRate,
    optimizer,
  );
}
