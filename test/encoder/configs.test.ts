// The committed configs (configs/*.json), which the README's commands run: each validates, as a run
// config or as a study, and every model it names builds with its options (options are checked when a
// model is built, so a typo would otherwise surface only when a long run starts).
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, readJsonFile } from '../../encoder/config.js';
import { createModel } from '../../encoder/models/index.js';
import { loadStudy } from '../../encoder/study/studyRuns.js';
import { hashModelConfigOf } from '../../encoder/train/trainer.js';
import type { TrainConfig } from '../../schemas/trainConfig.js';

const dir = path.resolve(import.meta.dirname, '../../configs');
const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The run configs of a file: itself, or every run of a study. */
async function runConfigsOf(file: string): Promise<TrainConfig[]> {
  const value = (await readJsonFile(file)) as Record<string, unknown>;
  if ('methods' in value) return (await loadStudy(file)).runs.map((r) => r.config);
  return [await loadConfig(file)];
}

describe('configs/', () => {
  it('holds the configs the README runs', () => {
    expect(files.length).toBeGreaterThan(10);
    expect(files).toContain('study-cifar10.json');
  });

  it.each(files)('%s validates and its models build', async (name) => {
    const configs = await runConfigsOf(path.join(dir, name));
    expect(configs.length).toBeGreaterThan(0);
    const built = new Set<string>();
    for (const config of configs) {
      const key = JSON.stringify(config.model);
      if (built.has(key)) continue;
      built.add(key);
      const { net } = createModel(hashModelConfigOf(config, { inputSize: 32, channels: 3, numClasses: 10 }));
      expect(net.outputs[0].shape).toEqual([null, config.model.bits]);
      net.dispose();
    }
  });
});
