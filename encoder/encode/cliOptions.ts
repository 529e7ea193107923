// Options shared by `edgehash encode` and `edgehash reencode`: the model, the job folder and how to
// encode; and running a job with progress lines on stdout.
import { sourceKinds } from '../collection/spec.js';
import { type CommandValues, requireString, UsageError } from '../commands/command.js';
import { asUsageError, intOption } from '../publish/cliStores.js';
import type { PublishEvent } from '../publish/publish.js';
import {
  DEFAULT_BATCH_SIZE,
  DEFAULT_SHARD_SIZE,
  type EncodeEvent,
  type EncodeRequest,
  runEncodeJob,
} from './encodeJob.js';
import { type EncodeJob, requireFinishedJob } from './job.js';

export const encodeOptions = {
  model: { type: 'string' },
  card: { type: 'string' },
  out: { type: 'string' },
  'shard-size': { type: 'string' },
  batch: { type: 'string' },
  threads: { type: 'string' },
  providers: { type: 'string' },
  thumbnails: { type: 'boolean', default: false },
  'on-error': { type: 'string' },
} as const;

export const sourceOptions = {
  source: { type: 'string' },
  kind: { type: 'string' },
  labels: { type: 'string' },
  root: { type: 'string' },
} as const;

export const encodeUsage =
  '--model M.onnx [--card M.card.json] --out DIR [--shard-size N] [--batch N] [--threads N] [--providers cuda,cpu] [--thumbnails] [--on-error fail|skip]';
export const sourceUsage = `--source PATH --kind ${sourceKinds.join('|')} [--labels IDX_LABELS] [--root DIR]`;

export function sourceSpecOf(values: CommandValues, usage: string) {
  const kind = requireString(values, 'kind', usage);
  if (!(sourceKinds as readonly string[]).includes(kind)) {
    throw new UsageError(`--kind must be one of ${sourceKinds.join(', ')}, got ${kind}`);
  }
  const optional = (name: string) => (typeof values[name] === 'string' ? (values[name] as string) : undefined);
  return {
    kind: kind as (typeof sourceKinds)[number],
    path: requireString(values, 'source', usage),
    labels: optional('labels'),
    root: optional('root'),
  };
}

/** The request fields that come from the shared options. */
export function encodeSettings(values: CommandValues, usage: string) {
  const onnx = requireString(values, 'model', usage);
  const onError = values['on-error'] ?? 'fail';
  if (onError !== 'fail' && onError !== 'skip') throw new UsageError(`--on-error must be fail or skip, got ${onError}`);
  return {
    dir: requireString(values, 'out', usage),
    model: { onnx, card: typeof values.card === 'string' ? values.card : onnx.replace(/\.onnx$/, '.card.json') },
    shardSize: intOption(values, 'shard-size', DEFAULT_SHARD_SIZE),
    batchSize: intOption(values, 'batch', DEFAULT_BATCH_SIZE),
    threads: values.threads === undefined ? undefined : intOption(values, 'threads', 1),
    executionProviders: typeof values.providers === 'string' ? values.providers.split(',') : undefined,
    thumbnails: values.thumbnails === true,
    onError: onError as 'fail' | 'skip',
  };
}

export function printEncodeEvent(event: EncodeEvent | PublishEvent): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

/** Runs the job; unreadable collections and images become usage errors naming the file. */
export async function runJobFromCli(request: EncodeRequest): Promise<EncodeJob> {
  try {
    return await runEncodeJob({ ...request, onProgress: printEncodeEvent });
  } catch (error) {
    throw asUsageError(error);
  }
}

/** The finished encode job named by --job. */
export async function finishedJobOption(
  values: CommandValues,
  usage: string,
): Promise<{ dir: string; job: EncodeJob }> {
  const dir = requireString(values, 'job', usage);
  const job = await requireFinishedJob(dir).catch((error: unknown) => {
    throw asUsageError(error);
  });
  return { dir, job };
}
