// The one training loop. A method is a model (encoder/models) plus a loss (encoder/losses); this
// loop is the same for all of them: augmented mini-batches, Adam with cosine decay (train/schedule.ts),
// a checkpoint every epoch, model selection on the validation split (never the query set), and a
// final evaluation of the selected model on the protocol's query and database sets.
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { TrainConfig } from '../../schemas/trainConfig.js';
import { loadKernelModule } from '../../wasm/nodeModule.js';
import { computeNormalization, describeAugmentation, type Normalization } from '../data/augment.js';
import { batches } from '../data/batches.js';
import { loadDatasetFromConfig } from '../data/fromConfig.js';
import { makeSplit } from '../data/protocols.js';
import type { ImageDataset } from '../data/types.js';
import { selectBackend } from '../engine/backend.js';
import { writeEvaluationReport } from '../eval/report.js';
import { evaluateRetrieval, type RetrievalMetrics } from '../eval/retrieval.js';
import { createModel, type HashModelConfig } from '../models/index.js';
import { loadPretrained } from '../models/pretrained.js';
import { loadCheckpoint, restoreWeights, saveCheckpoint } from './checkpoint.js';
import { type BatchEncoder, encodeIndices } from './encode.js';
import { assertLossTrainsOn } from './lossBackend.js';
import { describeOptimizer, optimizerSettingsOf } from './optimizer.js';
import { Progress } from './progress.js';
import { createRunEngine, createRunLoss } from './runEngine.js';
import { describeSchedule, learningRateAt } from './schedule.js';

export interface TrainerState {
  epoch: number;
  step: number;
  bestEpoch: number;
  bestValidationMap: number;
  /** Per epoch: training seconds, and validation seconds where it validated (a resumed run keeps both). */
  history: Array<{
    epoch: number;
    loss: number;
    imagesPerSecond: number;
    validationMap?: number;
    seconds: number;
    validationSeconds?: number;
  }>;
}

export interface TrainResult {
  backend: string;
  parameters: number;
  state: TrainerState;
  metrics: RetrievalMetrics;
  /** Seconds the final evaluation on the query set took. */
  evaluationSeconds: number;
  outputDir: string;
}

/** Wall time of a run: every epoch's training and validation (across resumes) plus its evaluation. */
export function runWallSeconds(result: TrainResult): number {
  const epochs = result.state.history.reduce((sum, h) => sum + h.seconds + (h.validationSeconds ?? 0), 0);
  return epochs + result.evaluationSeconds;
}

export interface TrainOptions {
  resume?: boolean;
  log?: (line: string) => void;
}

const checkpointsDir = (config: TrainConfig) => path.join(config.outputDir, 'checkpoints');
export const bestCheckpointDir = (config: TrainConfig) => path.join(config.outputDir, 'checkpoints', 'best');

async function latestEpochCheckpoint(config: TrainConfig): Promise<string | undefined> {
  const names = await readdir(checkpointsDir(config)).catch(() => [] as string[]);
  const epochs = names.filter((n) => /^epoch-\d+$/.test(n)).sort();
  return epochs.length ? path.join(checkpointsDir(config), epochs[epochs.length - 1]) : undefined;
}

/** The model a run config asks for, on images of the given shape and classes. */
export function hashModelConfigOf(
  config: TrainConfig,
  images: Pick<HashModelConfig, 'inputSize' | 'channels' | 'numClasses'>,
): HashModelConfig {
  return {
    architecture: config.model.architecture,
    bits: config.model.bits,
    ...images,
    options: config.model.options,
    seed: config.training.seed,
    testTimeFlip: config.model.testTimeFlip,
  };
}

/** Everything a run needs, built from its config. */
export async function prepareRun(config: TrainConfig) {
  const backend = await selectBackend(config.training.backend);
  const dataset = await loadDatasetFromConfig(config);
  const split = makeSplit(config.protocol, dataset, {
    seed: config.training.seed,
    validationPerClass: config.training.validationPerClass,
  });
  tf.util.assert(dataset.height === dataset.width, () => 'square images expected');
  const model = createModel(
    hashModelConfigOf(config, {
      inputSize: dataset.height,
      channels: dataset.channels,
      numClasses: dataset.classNames.length,
    }),
  );
  // Input statistics of the training images; recorded with the model for export.
  const normalization = computeNormalization(dataset, split.train);
  return { backend, dataset, split, model, normalization };
}

async function mapOf(
  encoder: BatchEncoder,
  bits: number,
  dataset: ImageDataset,
  queries: Int32Array,
  database: Int32Array,
  topK: number,
  normalization: Normalization,
  batchSize: number,
): Promise<RetrievalMetrics> {
  const kernel = await loadKernelModule();
  const numClasses = dataset.classNames.length;
  const pick = (indices: Int32Array) => {
    const labels = new Uint8Array(indices.length * numClasses);
    for (let r = 0; r < indices.length; r++) {
      const i = indices[r];
      labels.set(dataset.labels.subarray(i * numClasses, (i + 1) * numClasses), r * numClasses);
    }
    return labels;
  };
  const encode = (indices: Int32Array) => encodeIndices(encoder, bits, dataset, indices, normalization, batchSize);
  return evaluateRetrieval(
    { codes: await encode(queries), labels: pick(queries) },
    { codes: await encode(database), labels: pick(database) },
    { bits, numClasses, topK, kernel },
  );
}

export type PreparedRun = Awaited<ReturnType<typeof prepareRun>>;

/** Validation: the held-out validation images ranked against the training pool. */
export function validate(run: PreparedRun, batchSize: number, encoder: BatchEncoder) {
  const { split } = run;
  const bits = run.model.config.bits;
  return mapOf(encoder, bits, run.dataset, split.validation, split.train, split.topK, run.normalization, batchSize);
}

export async function train(config: TrainConfig, options: TrainOptions = {}): Promise<TrainResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const run = await prepareRun(config);
  const { dataset, split, model, normalization } = run;
  const { training } = config;
  log(`backend: ${run.backend.name} (${run.backend.reason})`);
  log(
    `dataset: ${dataset.name} ${dataset.size} images; protocol ${config.protocol}: train ${split.train.length}, ` +
      `validation ${split.validation.length}, query ${split.query.length}, database ${split.database.length}`,
  );
  log(
    `model: ${config.model.architecture} ${model.net.countParams()} parameters, ${config.model.bits} bits; loss ${config.loss.name}`,
  );
  const loss = createRunLoss(run, config);
  assertLossTrainsOn(loss, run.backend.name);
  const engine = await createRunEngine(run, config, loss, log);
  log(`training on ${engine.workers} core${engine.workers > 1 ? 's (data-parallel worker replicas)' : ''}`);
  log(`optimizer: ${describeOptimizer(optimizerSettingsOf(training))}, ${describeSchedule(training)}`);
  log(`augmentation: ${describeAugmentation(training.augment)}`);
  let state: TrainerState = { epoch: 0, step: 0, bestEpoch: 0, bestValidationMap: -1, history: [] };
  if (config.model.pretrained) {
    const report = await loadPretrained(model.net, config.model.pretrained);
    log(
      `pretrained: ${report.loaded.length} weights from ${config.model.pretrained.weights}; ` +
        `${report.untouched.length} keep their initialisation (${report.untouched.join(', ') || 'none'})`,
    );
  }

  const resumeFrom = options.resume ? await latestEpochCheckpoint(config) : undefined;
  if (options.resume && !resumeFrom) log('resume: no checkpoint yet, starting from scratch');
  if (resumeFrom) {
    const checkpoint = await loadCheckpoint<TrainerState>(resumeFrom);
    restoreWeights(model.net, checkpoint.weights, resumeFrom);
    await engine.restore({ optimizer: checkpoint.optimizer, loss: checkpoint.loss });
    state = checkpoint.state;
    // A loss with saved state (bank, database codes, classifier) has it back as it was after that
    // epoch's end; one without replays its epoch schedule (HashNet's beta). Checkpoints from before
    // loss state was saved also replay, and their bank starts empty again.
    if (checkpoint.loss.length === 0) await engine.epochEnd(state.epoch);
    log(`resumed from ${resumeFrom} (epoch ${state.epoch})`);
  }

  // dropLast keeps batch statistics stable; a batch never exceeds the training set.
  const batchSize = Math.max(1, Math.min(training.batchSize, split.train.length));
  const stepsPerEpoch = Math.floor(split.train.length / batchSize);
  const totalSteps = Math.min(training.epochs * stepsPerEpoch, training.maxSteps ?? Number.POSITIVE_INFINITY);
  await mkdir(checkpointsDir(config), { recursive: true });

  while (state.epoch < training.epochs && state.step < totalSteps) {
    const epoch = state.epoch + 1;
    const started = performance.now();
    const progress = new Progress(`epoch ${epoch}/${training.epochs}`, stepsPerEpoch * batchSize);
    let seen = 0;
    let lossSum = 0;
    let lossCount = 0;
    for (const batch of batches(dataset, split.train, batchSize, {
      shuffle: true,
      augment: training.augment,
      seed: training.seed,
      epoch,
      normalization,
      dropLast: true,
    })) {
      if (state.step >= totalSteps) break;
      lossSum += await engine.step(batch, learningRateAt(training, state.step, totalSteps, stepsPerEpoch));
      lossCount++;
      state.step++;
      seen += batch.size;
      progress.update(seen, `loss ${(lossSum / lossCount).toFixed(4)}`);
    }
    await engine.epochEnd(epoch);
    const engineState = await engine.sync();
    const imagesPerSecond = progress.imagesPerSecond;
    state.epoch = epoch;
    const entry: TrainerState['history'][number] = {
      epoch,
      loss: lossSum / Math.max(lossCount, 1),
      imagesPerSecond,
      seconds: (performance.now() - started) / 1000,
    };
    const last = epoch === training.epochs || state.step >= totalSteps;
    if (epoch % training.validateEvery === 0 || last) {
      const validationStarted = performance.now();
      const validation = await validate(run, training.batchSize, await engine.encoder());
      entry.validationMap = validation.map;
      entry.validationSeconds = (performance.now() - validationStarted) / 1000;
    }
    state.history.push(entry);
    if (entry.validationMap !== undefined && entry.validationMap > state.bestValidationMap) {
      state.bestValidationMap = entry.validationMap;
      state.bestEpoch = epoch;
      await saveCheckpoint(bestCheckpointDir(config), model.net, engineState.optimizer, state, engineState.loss);
    }
    await saveCheckpoint(
      path.join(checkpointsDir(config), `epoch-${String(epoch).padStart(4, '0')}`),
      model.net,
      engineState.optimizer,
      state,
      engineState.loss,
    );
    tf.dispose(engineState.optimizer.map((o) => o.tensor));
    log(
      `epoch ${epoch}: loss ${entry.loss.toFixed(4)}, ${imagesPerSecond.toFixed(0)} img/s, ` +
        `${entry.seconds.toFixed(0)} s${entry.validationMap === undefined ? '' : `, validation mAP ${entry.validationMap.toFixed(4)}`}`,
    );
  }

  const best = await loadCheckpoint<TrainerState>(bestCheckpointDir(config));
  restoreWeights(model.net, best.weights, bestCheckpointDir(config));
  tf.dispose([...best.weights, ...best.optimizer.map((t) => t.tensor)]);
  log(`evaluating the best validation epoch (${state.bestEpoch}) on the ${config.protocol} query set`);
  const evaluationStarted = performance.now();
  const metrics = await evaluate(run, config, await engine.encoder());
  const evaluationSeconds = (performance.now() - evaluationStarted) / 1000;
  await engine.dispose();
  await writeEvaluationReport(
    path.join(config.outputDir, 'eval'),
    `${config.model.architecture} + ${config.loss.name}`,
    metrics,
    {
      protocol: config.protocol,
      model: config.model,
      loss: config.loss,
      selectedEpoch: state.bestEpoch,
      validationMap: state.bestValidationMap,
      backend: run.backend.name,
      training: state.history,
    },
  );
  await writeFile(path.join(config.outputDir, 'state.json'), `${JSON.stringify(state, null, 2)}\n`);
  return {
    backend: run.backend.name,
    parameters: run.model.net.countParams(),
    state,
    metrics,
    evaluationSeconds,
    outputDir: config.outputDir,
  };
}

/** The protocol's evaluation: query set against database set. */
export function evaluate(run: PreparedRun, config: TrainConfig, encoder: BatchEncoder): Promise<RetrievalMetrics> {
  const { split } = run;
  const { bits } = config.model;
  return mapOf(
    encoder,
    bits,
    run.dataset,
    split.query,
    split.database,
    split.topK,
    run.normalization,
    config.training.batchSize,
  );
}
