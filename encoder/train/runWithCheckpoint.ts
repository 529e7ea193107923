// Loads a training config's run with the weights of a checkpoint: for the commands that evaluate,
// encode or export a trained model.
import path from 'node:path';
import type { TrainConfig } from '../../schemas/trainConfig.js';
import { UsageError } from '../commands/command.js';
import { loadConfig } from '../config.js';
import { loadCheckpoint, restoreWeights } from './checkpoint.js';
import { bestCheckpointDir, prepareRun } from './trainer.js';

/** The config file's run with weights from a checkpoint directory (the best one by default). */
export async function loadRunWithCheckpoint(configFile: string, checkpoint: string | undefined) {
  return restoreRun(await loadConfig(configFile), checkpoint);
}

/** The config's run with weights from a checkpoint directory (the best one by default). */
export async function restoreRun(config: TrainConfig, checkpoint?: string) {
  const run = await prepareRun(config);
  const dir = checkpoint ? path.resolve(checkpoint) : bestCheckpointDir(config);
  const saved = await loadCheckpoint(dir).catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`${dir}: no checkpoint there (${error.code ?? error.message}); train first`);
  });
  restoreWeights(run.model.net, saved.weights, dir);
  return { config, run, checkpointDir: dir, checkpointState: saved.state };
}
