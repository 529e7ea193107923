// The edgehash CLI end to end on a tiny synthetic CIFAR release: train (real tfjs on wasm),
// checkpoint, resume, encode to a shard file the kernel loads, evaluate; and clear errors.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { CodeTable } from '../../../wasm/codeTable.js';
import { loadKernelModule } from '../../../wasm/nodeModule.js';
import { writeSyntheticCifar } from '../../support/syntheticCifar.js';

const run = promisify(execFile);
const bin = path.resolve('bin/edgehash.mjs');
let dir: string;
let configFile: string;
/** mAP@ALL of the trained run: its codes came from the data-parallel replicas. */
let trainedMap: number;

const edgehash = (...args: string[]) => run(process.execPath, [bin, ...args], { cwd: dir, timeout: 240_000 });

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'edgehash-e2e-'));
  await writeSyntheticCifar(path.join(dir, 'cifar'), 4);
  configFile = path.join(dir, 'run.json');
  await writeFile(
    configFile,
    JSON.stringify({
      name: 'tiny',
      dataset: { format: 'cifar10-binary', root: 'cifar' },
      protocol: 'cifar10-2',
      model: { architecture: 'cnnHash', bits: 16, options: { widths: [8, 16, 16], hidden: 32 } },
      loss: { name: 'csq' },
      training: { epochs: 2, batchSize: 32, learningRate: 0.005, backend: 'wasm', validationPerClass: 2, workers: 2 },
      outputDir: 'runs/tiny',
    }),
  );
});

describe('edgehash CLI', () => {
  it('trains with a checkpoint per epoch and a best checkpoint, and reports mAP on the query set', async () => {
    const { stdout, stderr } = await edgehash('train', '--config', configFile);
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!);
    expect(result.map).toBeGreaterThan(0);
    expect(result.map).toBeLessThanOrEqual(1);
    trainedMap = result.map;
    expect(stderr).toMatch(/backend: wasm/);
    expect(stderr).toMatch(/training on 2 cores/);
    expect(stderr).toMatch(/optimizer: Adam, learning rate 0.005 with cosine decay to 0.05 of it/);
    expect(stderr).toMatch(/augmentation: random crop \(4-pixel zero padding\) \+ horizontal flip\n/);
    expect(stderr).toMatch(/train 180, validation 20, query 40, database 200/);
    expect(await readdir(path.join(dir, 'runs/tiny/checkpoints'))).toEqual(['best', 'epoch-0001', 'epoch-0002']);
    const metrics = JSON.parse(await readFile(path.join(dir, 'runs/tiny/eval/metrics.json'), 'utf8'));
    expect(metrics).toMatchObject({ protocol: 'cifar10-2', queries: 40, database: 200, bits: 16, topK: -1 });
    expect(await readFile(path.join(dir, 'runs/tiny/eval/pr-curve.svg'), 'utf8')).toMatch(/^<svg/);
  });

  it('resumes a finished run without training again', async () => {
    const { stderr } = await edgehash('train', '--config', configFile, '--resume');
    expect(stderr).toMatch(/resumed from .*epoch-0002 \(epoch 2\)/);
    expect(stderr).not.toMatch(/epoch 3/);
  });

  it('encodes the database into a shard the kernel loads, with dataset indices as ids', async () => {
    const out = path.join(dir, 'db.ehct');
    await edgehash('encode-split', '--config', configFile, '--split', 'database', '--out', out);
    const table = await CodeTable.load(await loadKernelModule(), await readFile(out), 'db.ehct');
    expect(table.count).toBe(200);
    expect(table.bits).toBe(16);
    expect(table.idAt(0)).toBe(0);
    expect(table.idAt(199)).toBe(199);
  });

  it('evaluates the best checkpoint on the replicas, and in this thread, to the mAP training measured', async () => {
    const { stdout } = await edgehash('eval', '--config', configFile);
    expect(JSON.parse(stdout).map).toBeGreaterThan(0);
    expect(JSON.parse(stdout).map).toBeCloseTo(trainedMap, 9);
    const config = JSON.parse(await readFile(configFile, 'utf8'));
    const oneWorker = path.join(dir, 'one-worker.json');
    await writeFile(oneWorker, JSON.stringify({ ...config, training: { ...config.training, workers: 1 } }));
    const inThread = await edgehash('eval', '--config', oneWorker);
    expect(JSON.parse(inThread.stdout).map).toBeCloseTo(trainedMap, 9);
  });

  it('fails with exit code 2 and names the file for a bad config or a missing checkpoint', async () => {
    const bad = path.join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ name: 'x' }));
    const error = await edgehash('train', '--config', bad).catch((e: { code: number; stderr: string }) => e);
    expect(error).toMatchObject({ code: 2 });
    expect((error as { stderr: string }).stderr).toContain(`${bad}: invalid config`);
    const other = path.join(dir, 'other.json');
    const config = JSON.parse(await readFile(configFile, 'utf8'));
    await writeFile(other, JSON.stringify({ ...config, outputDir: 'runs/none' }));
    const missing = await edgehash('eval', '--config', other).catch((e: { code: number; stderr: string }) => e);
    expect(missing).toMatchObject({ code: 2 });
    expect((missing as { stderr: string }).stderr).toMatch(/runs\/none\/checkpoints\/best: no checkpoint there/);
    // A dataset that is not where the config says: the path named, no stack trace.
    const noData = path.join(dir, 'no-data.json');
    await writeFile(noData, JSON.stringify({ ...config, dataset: { ...config.dataset, root: 'nowhere' } }));
    const lost = await edgehash('train', '--config', noData).catch((e: { code: number; stderr: string }) => e);
    expect(lost).toMatchObject({ code: 2 });
    expect((lost as { stderr: string }).stderr).toMatch(
      new RegExp(`^edgehash: .* not found: ${path.join(dir, 'nowhere')}\n$`),
    );
  });
});
