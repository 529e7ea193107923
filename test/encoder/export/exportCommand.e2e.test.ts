// `edgehash export` end to end: a tiny trained run exported to ONNX + card, the card's normalization
// reproducing the training-time codes through onnxruntime-node, and clear errors.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCifarBinary } from '../../../encoder/data/loaders.js';
import { sha256Hex } from '../../../encoder/export/modelCard.js';
import { OnnxHasher } from '../../../encoder/hash/onnxHasher.js';
import { ModelCard } from '../../../schemas/modelCard.js';
import { CodeTable } from '../../../wasm/codeTable.js';
import { loadKernelModule } from '../../../wasm/nodeModule.js';
import { writeSyntheticCifar } from '../../support/syntheticCifar.js';

const run = promisify(execFile);
const bin = path.resolve('bin/edgehash.mjs');
let dir: string;
let configFile: string;

const edgehash = (...args: string[]) => run(process.execPath, [bin, ...args], { cwd: dir, timeout: 240_000 });
const failure = (...args: string[]) => edgehash(...args).catch((e: { code: number; stderr: string }) => e);

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'edgehash-export-'));
  await writeSyntheticCifar(path.join(dir, 'cifar'), 4);
  configFile = path.join(dir, 'run.json');
  await writeFile(
    configFile,
    JSON.stringify({
      name: 'Tiny_Run',
      dataset: { format: 'cifar10-binary', root: 'cifar' },
      protocol: 'cifar10-2',
      model: { architecture: 'cnnHash', bits: 16, options: { widths: [8, 16], hidden: 16 } },
      loss: { name: 'csq' },
      training: { epochs: 1, batchSize: 32, maxSteps: 3, backend: 'wasm', workers: 1, validationPerClass: 2 },
      outputDir: 'runs/tiny',
    }),
  );
  await edgehash('train', '--config', configFile);
}, 240_000);

describe('edgehash export', () => {
  it('writes <id>.onnx and <id>.card.json whose card describes the model and its training', async () => {
    const { stdout } = await edgehash('export', '--config', configFile, '--out', 'models');
    const line = JSON.parse(stdout.trim());
    expect(line).toMatchObject({ precision: 'float32', onnx: path.join(dir, 'models', 'tiny_run.onnx') });
    expect((await readdir(path.join(dir, 'models'))).sort()).toEqual(['tiny_run.card.json', 'tiny_run.onnx']);
    const card = ModelCard.parse(JSON.parse(await readFile(path.join(dir, 'models', 'tiny_run.card.json'), 'utf8')));
    const onnx = await readFile(path.join(dir, 'models', 'tiny_run.onnx'));
    expect(card.onnx).toMatchObject({ opset: 17, checksum: sha256Hex(onnx), bytes: onnx.length });
    expect(card).toMatchObject({
      modelId: 'tiny_run',
      architecture: 'cnnHash',
      options: { widths: [8, 16], hidden: 16, dropout: 0, outputActivation: 'tanh' },
      bits: 16,
      precision: 'float32',
      input: { size: 32, channels: 3, layout: 'NHWC', channelOrder: 'RGB', resize: 'fill' },
      training: { protocol: 'cifar10-2', loss: 'csq', epochs: 1, selectedEpoch: 1 },
    });
    const metrics = JSON.parse(await readFile(path.join(dir, 'runs/tiny/eval/metrics.json'), 'utf8'));
    expect(card.training?.metrics.map).toBe(metrics.map);
    expect(card.input.normalization.scale).toBe(1 / 255);
    expect(card.input.normalization.mean.every((m) => m > 0.05 && m < 0.95)).toBe(true);
  });

  it('hashes the database images to the codes the tfjs model gives in training', async () => {
    const card = ModelCard.parse(JSON.parse(await readFile(path.join(dir, 'models', 'tiny_run.card.json'), 'utf8')));
    const hasher = await OnnxHasher.create(path.join(dir, 'models', 'tiny_run.onnx'), card, { intraOpNumThreads: 1 });
    const reference = path.join(dir, 'db.ehct');
    await edgehash('encode-split', '--config', configFile, '--split', 'database', '--out', reference);
    const table = await CodeTable.load(await loadKernelModule(), await readFile(reference), 'db.ehct');
    // cifar10-2's database is the whole training release; ids are indices into it.
    const images = (await loadCifarBinary(path.join(dir, 'cifar'))).pixels;
    const per = 32 * 32 * 3;
    const pixels = new Uint8Array(table.count * per);
    for (let r = 0; r < table.count; r++)
      pixels.set(images.subarray(table.idAt(r) * per, (table.idAt(r) + 1) * per), r * per);
    const codes = await hasher.hashPixels(pixels, table.count);
    const expected = table.codes();
    let differentBits = 0;
    for (let i = 0; i < codes.length; i++) for (let x = codes[i] ^ expected[i]; x; x &= x - 1) differentBits++;
    expect(differentBits).toBeLessThanOrEqual(2); // of 3,200: only outputs within float error of 0 may flip
    await hasher.release();
  });

  it('with --int8 --calibrate also writes <id>.int8.onnx and its card; its codes stay close to float', async () => {
    const { stdout } = await edgehash('export', '--config', configFile, '--out', 'q', '--int8', '--calibrate', '24');
    expect(
      stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).precision),
    ).toEqual(['float32', 'int8']);
    expect((await readdir(path.join(dir, 'q'))).sort()).toEqual([
      'tiny_run.card.json',
      'tiny_run.int8.card.json',
      'tiny_run.int8.onnx',
      'tiny_run.onnx',
    ]);
    const read = async (stem: string) => ({
      card: ModelCard.parse(JSON.parse(await readFile(path.join(dir, 'q', `${stem}.card.json`), 'utf8'))),
      onnx: path.join(dir, 'q', `${stem}.onnx`),
    });
    const float = await read('tiny_run');
    const int8 = await read('tiny_run.int8');
    expect(int8.card).toMatchObject({
      modelId: 'tiny_run.int8',
      precision: 'int8',
      quantization: { weights: 'uint8-per-channel-symmetric', activations: 'int8-static', calibrationImages: 24 },
      input: float.card.input,
      training: float.card.training,
    });
    expect((await readFile(int8.onnx)).length).toBeLessThan((await readFile(float.onnx)).length);
    const images = (await loadCifarBinary(path.join(dir, 'cifar'))).pixels.subarray(0, 100 * 32 * 32 * 3);
    const codes = await Promise.all(
      [float, int8].map(async ({ card, onnx }) => {
        const hasher = await OnnxHasher.create(onnx, card, { intraOpNumThreads: 1 });
        const out = await hasher.hashPixels(images, 100);
        await hasher.release();
        return out;
      }),
    );
    let differentBits = 0;
    for (let i = 0; i < codes[0].length; i++) for (let x = codes[0][i] ^ codes[1][i]; x; x &= x - 1) differentBits++;
    expect(differentBits / (100 * 16)).toBeLessThan(0.05);
  });

  it('rejects a bad model id, a missing --out and a missing checkpoint with exit code 2', async () => {
    expect(await failure('export', '--config', configFile, '--out', 'm', '--model-id', 'Bad Id')).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/model id Bad Id: lowercase letters/),
    });
    expect(await failure('export', '--config', configFile, '--out', 'm', '--calibrate', '8')).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--calibrate quantizes activations; it needs --int8/),
    });
    expect(await failure('export', '--config', configFile)).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--out is required/),
    });
    expect(
      await failure('export', '--config', configFile, '--out', 'm', '--checkpoint', 'runs/tiny/none'),
    ).toMatchObject({ code: 2, stderr: expect.stringMatching(/runs\/tiny\/none: no checkpoint there/) });
  });
});
