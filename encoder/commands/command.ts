// What a CLI command is: one file per command under encoder/commands/, found by name at run time, so
// adding a command touches nothing else.
import path from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import { loadConfig } from '../config.js';
import { loadCheckpoint, restoreWeights } from '../train/checkpoint.js';
import { bestCheckpointDir, prepareRun } from '../train/trainer.js';

/** A mistake in how the command was called: printed without a stack trace, exit code 2. */
export class UsageError extends Error {}

export type CommandValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface Command {
  /** One line per form, without the leading "edgehash ". */
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** Positional arguments allowed (default false). */
  allowPositionals?: boolean;
  run(values: CommandValues, positionals: string[]): Promise<void>;
}

export function requireString(values: Record<string, unknown>, name: string, usage: string): string {
  const value = values[name];
  if (typeof value !== 'string' || value === '')
    throw new UsageError(`--${name} is required\nusage: edgehash ${usage}`);
  return value;
}

/** The config's run with weights from a checkpoint directory (the best one by default). */
export async function loadRunWithCheckpoint(configFile: string, checkpoint: string | undefined) {
  const config = await loadConfig(configFile);
  const run = await prepareRun(config);
  const dir = checkpoint ? path.resolve(checkpoint) : bestCheckpointDir(config);
  const saved = await loadCheckpoint(dir).catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`${dir}: no checkpoint there (${error.code ?? error.message}); train first`);
  });
  restoreWeights(run.model.net, saved.weights, dir);
  return { config, run, checkpointDir: dir, checkpointState: saved.state };
}
