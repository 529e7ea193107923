// Run as a script (under an emulated CPU by test/support/emulatedCpu.ts): loads model.onnx with
// card.json through OnnxHasher, exactly as the batch encoder does, runs the normalized batch in
// batch.bin ([n, size, size, channels] float32) and writes the raw outputs to outputs.bin.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OnnxHasher } from '../../encoder/hash/onnxHasher.js';
import { ModelCard } from '../../schemas/modelCard.js';

const [dir, count] = process.argv.slice(2);
const card = ModelCard.parse(JSON.parse(await readFile(join(dir, 'card.json'), 'utf8')));
const hasher = await OnnxHasher.create(join(dir, 'model.onnx'), card, { intraOpNumThreads: 1 });
const bytes = await readFile(join(dir, 'batch.bin'));
const batch = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
await writeFile(join(dir, 'outputs.bin'), await hasher.outputs(batch, Number(count)));
await hasher.release();
