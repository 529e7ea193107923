// Resuming from an epoch checkpoint continues the run exactly, for a loss with state across batches
// too: ADSH's memory bank and learned database codes travel in the checkpoint, in one process and
// across data-parallel replicas.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../encoder/config.js';
import { train } from '../../../encoder/train/trainer.js';
import { writeSyntheticCifar } from '../../support/syntheticCifar.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'edgehash-resume-'));
  await writeSyntheticCifar(path.join(dir, 'cifar'), 2);
});

const configFor = (workers: number) =>
  parseConfig(
    {
      name: `resume-${workers}`,
      dataset: { format: 'cifar10-binary', root: 'cifar' },
      protocol: 'cifar10-2',
      model: { architecture: 'cnnHash', bits: 8, options: { widths: [4, 8], hidden: 0 } },
      loss: { name: 'adsh', options: { samples: 50 } },
      training: { epochs: 2, batchSize: 16, learningRate: 0.01, backend: 'wasm', workers, validationPerClass: 1 },
      outputDir: `runs/${workers}`,
      cacheDir: 'cache',
    },
    path.join(dir, 'run.json'),
  );

const values = (config: ReturnType<typeof configFor>, epoch: number) =>
  readFile(path.join(config.outputDir, 'checkpoints', `epoch-000${epoch}`, 'values.f32'));

describe('train --resume with a loss that keeps state (ADSH)', () => {
  it.each([1, 2])(
    '%i worker(s): resuming at epoch 1 rewrites epoch 2 bit for bit',
    async (workers) => {
      const config = configFor(workers);
      const quiet = { log: () => {} };
      await train(config, quiet);
      const uninterrupted = await values(config, 2);
      const epoch2 = path.join(config.outputDir, 'checkpoints', 'epoch-0002');

      await rm(epoch2, { recursive: true });
      const resumed = await train(config, { ...quiet, resume: true });
      expect(resumed.state.epoch).toBe(2);
      expect(Buffer.compare(await values(config, 2), uninterrupted)).toBe(0);

      // The same resume from a checkpoint without the loss state (as written before it was kept)
      // starts the epoch from an empty bank and zero database codes, and ends elsewhere.
      const epoch1 = path.join(config.outputDir, 'checkpoints', 'epoch-0001', 'checkpoint.json');
      const file = JSON.parse(await readFile(epoch1, 'utf8'));
      expect(file.loss.map((e: { name: string }) => e.name)).toEqual([
        'bank/indices',
        'bank/outputs',
        'bank/labels',
        'bank/written',
        'adsh/databaseCodes',
      ]);
      delete file.loss;
      await writeFile(epoch1, JSON.stringify(file));
      await rm(epoch2, { recursive: true });
      await train(config, { ...quiet, resume: true });
      expect(Buffer.compare(await values(config, 2), uninterrupted)).not.toBe(0);
    },
    120_000,
  );
});

describe('train --resume with Nesterov SGD', () => {
  it.each([1, 2])(
    '%i worker(s): the momentum travels in the checkpoint, and resuming at epoch 1 rewrites epoch 2 bit for bit',
    async (workers) => {
      const base = configFor(workers);
      const config = {
        ...base,
        name: `resume-sgd-${workers}`,
        outputDir: `${base.outputDir}-sgd`,
        loss: { name: 'csq', options: {} },
        training: { ...base.training, optimizer: 'sgd' as const, momentum: 0.8, weightDecay: 0.005 },
      };
      const quiet = { log: () => {} };
      await train(config, quiet);
      const uninterrupted = await values(config, 2);
      const epoch1 = JSON.parse(
        await readFile(path.join(config.outputDir, 'checkpoints', 'epoch-0001', 'checkpoint.json'), 'utf8'),
      );
      const names = epoch1.optimizer.map((e: { name: string }) => e.name) as string[];
      expect(names[0]).toBe('iter');
      expect(names.length).toBeGreaterThan(1);
      expect(names.slice(1).every((n) => n.endsWith('/momentum'))).toBe(true);

      await rm(path.join(config.outputDir, 'checkpoints', 'epoch-0002'), { recursive: true });
      const resumed = await train(config, { ...quiet, resume: true });
      expect(resumed.state.epoch).toBe(2);
      expect(Buffer.compare(await values(config, 2), uninterrupted)).toBe(0);
    },
    120_000,
  );
});
