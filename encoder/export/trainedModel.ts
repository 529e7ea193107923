// Export of a trained run: the float ONNX model and its card (and, on request, the int8 model and its
// card) written into one folder as <modelId>.onnx, <modelId>.card.json, <modelId>.int8.onnx,
// <modelId>.int8.card.json. The card's training block comes from the checkpoint and the run's files.
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ModelCard } from '../../schemas/modelCard.js';
import { imageValues, preprocessInto } from '../../schemas/preprocess.js';
import type { TrainConfig } from '../../schemas/trainConfig.js';
import {
  resolveCnnHashOptions,
  resolveHybridHashOptions,
  resolveMaSwinOptions,
  resolveVitHashOptions,
} from '../models/index.js';
import { mulberry32, sampleIndices } from '../random.js';
import { bestCheckpointDir, type prepareRun, type TrainerState } from '../train/trainer.js';
import { exportHashModel } from './exportModel.js';
import { writeFileAtomic } from './files.js';
import { buildModelCard } from './modelCard.js';
import { quantizeModel } from './quantize.js';

type PreparedRun = Awaited<ReturnType<typeof prepareRun>>;

type Options = Record<string, unknown> | undefined;
/** Each architecture's options with its defaults filled in, for the card (others: the config's own). */
const optionResolvers: Record<string, (options: Options) => object> = {
  cnnHash: resolveCnnHashOptions,
  // dahNet is cnnHash with CBAM after every block unless told otherwise (buildDahNet).
  dahNet: (options: Options) => resolveCnnHashOptions({ attention: 'every', ...options }),
  hybridHash: resolveHybridHashOptions,
  maSwin: resolveMaSwinOptions,
  vitHash: resolveVitHashOptions,
};

export interface ExportedFile {
  onnxPath: string;
  cardPath: string;
  card: ModelCard;
  onnx: Uint8Array;
}

export interface TrainedModelExport {
  float: ExportedFile;
  int8?: ExportedFile;
}

export interface ExportTrainedOptions {
  config: TrainConfig;
  run: PreparedRun;
  checkpointDir: string;
  checkpointState: unknown;
  outDir: string;
  modelId: string;
  /** Also write the int8 model; `calibrationImages` > 0 calibrates activations on that many training images. */
  int8?: { calibrationImages?: number };
}

async function readJson(file: string): Promise<Record<string, unknown> | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/**
 * The card's training block. Query-set metrics come from the run's eval/metrics.json, which the
 * trainer measures on the best checkpoint, so they are given only when that is the one exported.
 */
async function trainingBlock(
  config: TrainConfig,
  run: PreparedRun,
  checkpointDir: string,
  checkpointState: unknown,
): Promise<ModelCard['training']> {
  const state = (checkpointState ?? {}) as Partial<TrainerState>;
  const finalState = (await readJson(path.join(config.outputDir, 'state.json'))) as Partial<TrainerState> | undefined;
  const metrics: Record<string, number> = {};
  if (path.resolve(checkpointDir) === path.resolve(bestCheckpointDir(config))) {
    const report = await readJson(path.join(config.outputDir, 'eval', 'metrics.json'));
    for (const key of ['map', 'mapTieAveraged', 'topK', 'precisionWithinRadius2'] as const) {
      if (typeof report?.[key] === 'number') metrics[key] = report[key];
    }
  }
  return {
    protocol: config.protocol,
    dataset: run.dataset.name,
    loss: config.loss.name,
    epochs: finalState?.epoch ?? state.epoch ?? 0,
    selectedEpoch: state.epoch ?? 0,
    metrics,
  };
}

async function writeModel(outDir: string, stem: string, onnx: Uint8Array, card: ModelCard): Promise<ExportedFile> {
  const onnxPath = path.join(outDir, `${stem}.onnx`);
  const cardPath = path.join(outDir, `${stem}.card.json`);
  // The model first: a card on disk always describes a complete model file.
  await writeFileAtomic(onnxPath, onnx);
  await writeFileAtomic(cardPath, `${JSON.stringify(card, null, 2)}\n`);
  return { onnxPath, cardPath, card, onnx };
}

/** `count` training images (a seeded sample), preprocessed as the card says: the calibration set. */
export function calibrationInputs(
  run: PreparedRun,
  input: ModelCard['input'],
  count: number,
  seed: number,
): Float32Array {
  const { dataset, split } = run;
  const per = imageValues(input);
  const picks = sampleIndices(split.train.length, Math.min(count, split.train.length), mulberry32(seed));
  const out = new Float32Array(picks.length * per);
  picks.forEach((p, r) => {
    const i = split.train[p];
    preprocessInto(input, dataset.pixels.subarray(i * per, (i + 1) * per), out, r * per);
  });
  return out;
}

/** Exports the run's model (its weights already restored) in float32, and in int8 on request. */
export async function exportTrainedModel(options: ExportTrainedOptions): Promise<TrainedModelExport> {
  const { config, run, outDir, modelId } = options;
  const exported = exportHashModel(run.model);
  const resolve = optionResolvers[config.model.architecture];
  const cardSource = {
    modelId,
    config: run.model.config,
    onnx: { bytes: exported.onnx, ...exported },
    normalization: run.normalization,
    options: { ...(resolve ? resolve(config.model.options) : config.model.options) },
    training: await trainingBlock(config, run, options.checkpointDir, options.checkpointState),
  };
  const card = buildModelCard(cardSource);
  await mkdir(outDir, { recursive: true });
  const float = await writeModel(outDir, modelId, exported.onnx, card);
  if (!options.int8) return { float };
  const count = options.int8.calibrationImages ?? 0;
  const inputs = count > 0 ? calibrationInputs(run, card.input, count, config.training.seed) : undefined;
  const quantized = await quantizeModel(exported.onnx, {
    calibration: inputs ? { inputs, count: inputs.length / imageValues(card.input) } : undefined,
  });
  const int8Card = buildModelCard({
    ...cardSource,
    modelId: `${modelId}.int8`,
    onnx: { ...cardSource.onnx, bytes: quantized.onnx },
    quantization: quantized.quantization,
  });
  return { float, int8: await writeModel(outDir, `${modelId}.int8`, quantized.onnx, int8Card) };
}
