// npm run bench:encode: `edgehash encode`'s pipeline (streaming collection, sharp decoding, ONNX
// hashing in onnxruntime-node on every core, shards written to disk) for the 32 px cnnHash model at
// 64 bits, weight-only int8: from generated decoded pixels (1,000,000 images: throughput and peak
// memory) and from the CIFAR-10 test JPEGs (decoding included); beside it in the same run, PyTorch
// CPU hashing the same architecture from pixels (no decoding, no shard writing). One JSON line per
// figure. The session settings behind the figure are compared in bench/encode/sessions.ts.
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../support/workerd.js';
import { BENCH_BITS, benchModel } from './benchModel.js';

const run = promisify(execFile);
const cores = availableParallelism();
const outDir = path.join(repoRoot, 'bench/out/encode');
const python = process.env.EDGEHASH_PYTHON ?? '/usr/bin/python3';
const pixelImages = Number(process.env.BENCH_ENCODE_N ?? 1_000_000);
const jpegFolder = path.join(repoRoot, 'data/cifar10-jpg/test');

mkdirSync(outDir, { recursive: true });
const { int8, card } = await benchModel();
const onnxPath = path.join(outDir, 'bench-cnn-64.int8.onnx');
writeFileSync(onnxPath, int8);
writeFileSync(path.join(outDir, 'bench-cnn-64.int8.card.json'), JSON.stringify(card));

async function ours(input: 'pixels' | 'jpeg', n: number) {
  const out = path.join(outDir, `job-${input}`);
  rmSync(out, { recursive: true, force: true });
  const args = ['--import', 'tsx', path.join(repoRoot, 'bench/encode/encodeOnce.ts')];
  args.push('--input', input, '--n', String(n), '--model', onnxPath, '--out', out, '--source', jpegFolder);
  const { stdout } = await run(process.execPath, args, { maxBuffer: 1 << 24 });
  rmSync(out, { recursive: true, force: true });
  const result = JSON.parse(stdout.trim().split('\n').at(-1)!);
  return { img_per_s: Math.round(result.img_per_s), peak_mb: Math.round(result.peak_mb), n: result.n };
}

const common = { model: 'cnnHash', bits: BENCH_BITS, size: 32, cores };
const pixels = await ours('pixels', pixelImages);
console.log(
  JSON.stringify({
    bench: 'encode',
    input: 'pixels',
    ...pixels,
    engine: 'edgehash encode (onnxruntime-node)',
    ...common,
  }),
);
const jpeg = await ours('jpeg', 0);
console.log(
  JSON.stringify({
    bench: 'encode',
    input: 'jpeg',
    ...jpeg,
    engine: 'edgehash encode (sharp + onnxruntime-node)',
    ...common,
  }),
);
try {
  const { stdout } = await run(python, [
    path.join(repoRoot, 'bench/encode/torch_encode.py'),
    `${BENCH_BITS}`,
    '50000',
    '256',
    `${cores}`,
  ]);
  const torch = JSON.parse(stdout);
  console.log(
    JSON.stringify({
      bench: 'encode',
      input: 'pixels',
      img_per_s: Math.round(torch.img_per_s),
      peak_mb: Math.round(torch.peak_mb),
      n: torch.n,
      engine: `pytorch ${torch.torch} CPU, model only`,
      ...common,
      ratio_ours_vs_peer: +(pixels.img_per_s / torch.img_per_s).toFixed(2),
    }),
  );
} catch (error) {
  console.log(
    JSON.stringify({
      bench: 'encode',
      peer: 'pytorch',
      error: `not run (${python} with torch): ${(error as Error).message.split('\n')[0]}`,
    }),
  );
}
