import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
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

  describe('extends', () => {
    const base = {
      ...valid,
      model: { architecture: 'hybridHash', bits: 64, options: { widths: [64, 128], depths: [1, 1] } },
      loss: { name: 'csq', options: { lambda: 0.0001 } },
      training: { epochs: 8, augment: { cutout: 8 } },
    };

    /** The base config in a temp folder and the given extending config in its subfolder `variants/`. */
    async function writePair(extending: Record<string, unknown>): Promise<{ baseFile: string; file: string }> {
      const baseFile = await write(base);
      const file = path.join(path.dirname(baseFile), 'variants', 'flip.json');
      await mkdir(path.dirname(file));
      await writeFile(file, JSON.stringify({ extends: '../run.json', ...extending }));
      return { baseFile, file };
    }
    const ownOutput = { name: 'cifar-64-flip', outputDir: 'runs/cifar-64-flip' };

    it("takes the base's fields, merges objects and resolves each file's paths against its own folder", async () => {
      const { baseFile, file } = await writePair({ ...ownOutput, model: { testTimeFlip: true } });
      const [config, original] = [await loadConfig(file), await loadConfig(baseFile)];
      expect(config).toEqual({
        ...original,
        name: 'cifar-64-flip',
        model: { ...original.model, testTimeFlip: true },
        outputDir: path.join(path.dirname(file), 'runs/cifar-64-flip'),
      });
      expect(config.dataset).toEqual({
        format: 'cifar10-jpeg',
        root: path.resolve(path.dirname(baseFile), '../data/cifar10-jpg'),
      });
    });

    it('replaces arrays, scalars, and a loss of another kind', async () => {
      const { file } = await writePair({
        ...ownOutput,
        model: { options: { widths: [32, 64, 128] } },
        loss: { name: 'dpn' },
        training: { augment: false },
      });
      const config = await loadConfig(file);
      expect(config.model.options).toEqual({ widths: [32, 64, 128], depths: [1, 1] });
      expect(config.loss).toEqual({ name: 'dpn', options: {} });
      expect(config.training).toMatchObject({ epochs: 8, augment: false });
    });

    it.each([
      ['no name of its own', { outputDir: 'runs/x' }, /name: a config that extends another sets its own/],
      ['no output folder of its own', { name: 'x' }, /outputDir: a config that extends another sets its own/],
      ['a change the schema rejects', { ...ownOutput, model: { bits: 63 } }, /model.bits/],
    ])('names the extending file for %s', async (_, extending, message) => {
      const { file } = await writePair(extending);
      const error = await loadConfig(file).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain(file);
      expect((error as Error).message).toMatch(message);
    });

    it('names a missing base, a cycle and an extends that is not a path', async () => {
      const missing = await write({ extends: 'absent.json', ...ownOutput });
      await expect(loadConfig(missing)).rejects.toThrow(
        `${path.join(path.dirname(missing), 'absent.json')}: cannot read config (ENOENT)`,
      );
      const cyclic = await write({ extends: 'run.json', ...ownOutput });
      await expect(loadConfig(cyclic)).rejects.toThrow(`${cyclic}: extends run.json, which extends it back`);
      const notPath = await write({ extends: 3, ...ownOutput });
      await expect(loadConfig(notPath)).rejects.toThrow(`${notPath}: extends: expected the path of a config file`);
    });
  });
});
