// Reads a run config file: JSON, validated by schemas/trainConfig.ts, paths resolved against the
// file's folder. Every problem is an Error naming the file and the field.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { z } from 'zod';
import { TrainConfig } from '../schemas/trainConfig.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function resolvePaths(config: TrainConfig, base: string): TrainConfig {
  const at = (p: string) => path.resolve(base, p);
  const dataset = { ...config.dataset };
  if ('root' in dataset) dataset.root = at(dataset.root);
  if (dataset.format === 'list-file') {
    dataset.lists = {
      train: at(dataset.lists.train),
      query: at(dataset.lists.query),
      database: at(dataset.lists.database),
    };
  }
  if (dataset.format === 'idx') Object.assign(dataset, { images: at(dataset.images), labels: at(dataset.labels) });
  const pretrained = config.model.pretrained;
  const model = pretrained
    ? {
        ...config.model,
        pretrained: {
          weights: at(pretrained.weights),
          ...(pretrained.mapping ? { mapping: at(pretrained.mapping) } : {}),
        },
      }
    : config.model;
  return { ...config, dataset, model, cacheDir: at(config.cacheDir), outputDir: at(config.outputDir) };
}

export function parseConfig(value: unknown, file: string): TrainConfig {
  return resolvePaths(validate(TrainConfig, value, file), path.dirname(path.resolve(file)));
}

/** Validates with a schema; ConfigError listing every problem by path. */
export function validate<T>(schema: z.ZodType<T>, value: unknown, file: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`).join('\n');
    throw new ConfigError(`${file}: invalid config\n${problems}`);
  }
  return parsed.data;
}

export async function loadConfig(file: string): Promise<TrainConfig> {
  return parseConfig(await readJsonFile(file), file);
}

/** A JSON config file's value; ConfigError naming the file when it cannot be read or parsed. */
export async function readJsonFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`${file}: cannot read config (${(error as NodeJS.ErrnoException).code ?? error})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${file}: not valid JSON (${(error as Error).message})`);
  }
  return value;
}
