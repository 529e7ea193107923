import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../encoder/config.js';

const valid = {
  name: 'cifar-64',
  dataset: { format: 'cifar10-jpeg', root: '../data/cifar10-jpg' },
  protocol: 'cifar10-2',
  model: { architecture: 'hybridHash', bits: 64 },
  loss: { name: 'csq' },
  outputDir: 'runs/cifar-64',
};

async function write(value: unknown, raw = false): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'edgehash-config-'));
  const file = path.join(dir, 'run.json');
  await writeFile(file, raw ? String(value) : JSON.stringify(value));
  return file;
}

describe('loadConfig', () => {
  it('fills defaults and resolves paths against the config file', async () => {
    const file = await write(valid);
    const config = await loadConfig(file);
    expect(config.training).toMatchObject({ epochs: 30, batchSize: 128, backend: 'auto', augment: true });
    expect(config.dataset).toEqual({
      format: 'cifar10-jpeg',
      root: path.resolve(path.dirname(file), '../data/cifar10-jpg'),
    });
    expect(config.outputDir).toBe(path.join(path.dirname(file), 'runs/cifar-64'));
  });

  it.each([
    ['bits that are not a multiple of 8', { model: { architecture: 'x', bits: 63 } }, 'model.bits'],
    ['an unknown protocol', { protocol: 'cifar11' }, 'protocol'],
    ['an unknown dataset format', { dataset: { format: 'tar', root: 'x' } }, 'dataset.format'],
    ['a misspelt field', { epochs: 3 }, '(root)'],
    ['a negative learning rate', { training: { learningRate: -1 } }, 'training.learningRate'],
    ['a misspelt augmentation setting', { training: { augment: { cutuot: 8 } } }, 'training.augment'],
    ['a cutout of 0 pixels', { training: { augment: { cutout: 0 } } }, 'training.augment.cutout'],
  ])('names the file and the field for %s', async (_, change, field) => {
    const file = await write({ ...valid, ...change });
    const error = await loadConfig(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(file);
    expect((error as Error).message).toContain(field);
  });

  it('takes augmentation as on/off or as settings with cutout', async () => {
    const augment = { padding: 2, cutout: 8 };
    const config = await loadConfig(await write({ ...valid, training: { augment } }));
    expect(config.training.augment).toEqual(augment);
    expect((await loadConfig(await write({ ...valid, training: { augment: false } }))).training.augment).toBe(false);
  });

  it('names a missing file and a file that is not JSON', async () => {
    await expect(loadConfig('/nonexistent/run.json')).rejects.toThrow(
      /\/nonexistent\/run.json: cannot read config \(ENOENT\)/,
    );
    const file = await write('{ not json', true);
    await expect(loadConfig(file)).rejects.toThrow(new RegExp(`${file}: not valid JSON`));
  });
});
