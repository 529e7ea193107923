// Reads a run config file: JSON, validated by schemas/trainConfig.ts, paths resolved against the
// file's folder. Every problem is an Error naming the file and the field.
//
// A config may extend another (`"extends": "base.json"`, relative to its own folder) and give only
// what it changes, e.g. the test-time-flip evaluation of a trained run. Objects merge key by key;
// arrays, scalars, and a dataset, model or loss of another kind replace the base's.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { z } from 'zod';
import { TrainConfig } from '../schemas/trainConfig.js';
import { UserError } from './errors.js';

export class ConfigError extends UserError {
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

/** Validates with a schema; ConfigError listing every problem by path. `what` names what the file holds. */
export function validate<T>(schema: z.ZodType<T>, value: unknown, file: string, what = 'config'): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`).join('\n');
    throw new ConfigError(`${file}: invalid ${what}\n${problems}`);
  }
  return parsed.data;
}

export function loadConfig(file: string): Promise<TrainConfig> {
  return loadExtending(file, []);
}

/** `loadConfig` of a file reached through the `extends` of each file in `extendedBy`. */
async function loadExtending(file: string, extendedBy: string[]): Promise<TrainConfig> {
  const value = await readJsonFile(file);
  if (!isObject(value) || !('extends' in value)) return parseConfig(value, file);
  const { extends: baseName, ...changes } = value;
  if (typeof baseName !== 'string') throw new ConfigError(`${file}: extends: expected the path of a config file`);
  const baseFile = path.resolve(path.dirname(file), baseName);
  const chain = [...extendedBy, path.resolve(file)];
  if (chain.includes(baseFile)) throw new ConfigError(`${file}: extends ${baseName}, which extends it back`);
  // Its own output folder, so that training or evaluating it never writes over the base run.
  for (const field of ['name', 'outputDir']) {
    if (!(field in changes)) throw new ConfigError(`${file}: ${field}: a config that extends another sets its own`);
  }
  // The base's paths are already absolute, so resolving against this file's folder changes only this file's.
  return parseConfig(mergeConfigs(await loadExtending(baseFile, chain), changes), file);
}

/** The key that says what kind of dataset, model or loss an object is: another kind replaces, not merges. */
const kindKeys: Record<string, string> = { dataset: 'format', model: 'architecture', loss: 'name' };

function mergeConfigs(base: TrainConfig, changes: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...base };
  for (const [field, change] of Object.entries(changes)) {
    const from = (base as Record<string, unknown>)[field];
    const kind = kindKeys[field];
    const sameKind = !kind || !isObject(change) || !(kind in change) || (isObject(from) && from[kind] === change[kind]);
    merged[field] = sameKind ? mergeValues(from, change) : change;
  }
  return merged;
}

function mergeValues(base: unknown, change: unknown): unknown {
  if (!isObject(base) || !isObject(change)) return change;
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(change)) merged[key] = mergeValues(base[key], value);
  return merged;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
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
