// A prepared run's loss and step engine, as its config asks: the loss with the run's bits, classes and
// seed; data-parallel replicas ('auto': one per core where the backend allows; one process when the
// loss keeps state replicas cannot share) and the optimizer. The trainer trains on the engine; the
// commands that hash a split with the tfjs model (eval, encode-split) encode on it, on every core.
import type { TrainConfig } from '../../schemas/trainConfig.js';
import { type BackendPreference, defaultWorkers } from '../engine/backend.js';
import { createLoss } from '../losses/index.js';
import type { HashLoss } from '../losses/types.js';
import type { BatchEncoder } from './encode.js';
import { optimizerSettingsOf } from './optimizer.js';
import { createStepEngine, type StepEngine } from './stepEngine.js';
import type { PreparedRun } from './trainer.js';

export function createRunLoss(run: PreparedRun, config: TrainConfig): HashLoss {
  return createLoss(config.loss.name, lossContext(run, config));
}

function lossContext(run: PreparedRun, config: TrainConfig) {
  return {
    bits: config.model.bits,
    numClasses: run.dataset.classNames.length,
    seed: config.training.seed,
    options: config.loss.options,
  };
}

export async function createRunEngine(
  run: PreparedRun,
  config: TrainConfig,
  loss: HashLoss,
  log: (line: string) => void = () => {},
): Promise<StepEngine> {
  const { training } = config;
  const requestedWorkers =
    training.workers === 'auto' ? defaultWorkers(run.backend.name, training.batchSize) : training.workers;
  if (loss.unsharedState && requestedWorkers > 1) {
    log(`loss ${loss.name} keeps state replicas cannot share: training in one process instead of ${requestedWorkers}`);
  }
  return createStepEngine({
    workers: loss.unsharedState ? 1 : requestedWorkers,
    // Replicas use the backend this thread resolved, so 'auto' cannot pick differently there.
    backend: run.backend.name as BackendPreference,
    model: run.model,
    loss,
    lossSpec: { name: config.loss.name, context: lossContext(run, config) },
    learningRate: training.learningRate,
    optimizer: optimizerSettingsOf(training),
  });
}

/** Runs `use` with an encoder of the run's model (its weights as they are now) on the run's engine. */
export async function withRunEncoder<T>(
  run: PreparedRun,
  config: TrainConfig,
  use: (encoder: BatchEncoder) => Promise<T>,
): Promise<T> {
  const engine = await createRunEngine(run, config, createRunLoss(run, config));
  try {
    return await use(await engine.encoder());
  } finally {
    await engine.dispose();
  }
}
