// A tiny CIFAR-10 binary release whose classes are learnable: each class is a colour pattern plus
// noise. For end-to-end tests of training, encoding and evaluation.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { rng } from './random.js';

export async function writeSyntheticCifar(dir: string, perClassPerBatch: number, seed = 1): Promise<void> {
  await mkdir(dir, { recursive: true });
  const next = rng(seed);
  const record = (label: number) => {
    const out = new Uint8Array(3073);
    out[0] = label;
    for (let ch = 0; ch < 3; ch++) {
      for (let p = 0; p < 1024; p++) {
        const x = p % 32;
        const y = p >> 5;
        const pattern =
          ((label >> ch) & 1 ? x : 31 - x) * 4 + ((label * 37 + ch * 11) % 3) * 30 + (label > 6 ? y * 2 : 0);
        out[1 + ch * 1024 + p] = Math.max(0, Math.min(255, pattern + (next() - 0.5) * 60));
      }
    }
    return out;
  };
  const batch = () => {
    const records = [];
    for (let label = 0; label < 10; label++) for (let i = 0; i < perClassPerBatch; i++) records.push(record(label));
    const out = new Uint8Array(records.length * 3073);
    records.forEach((r, i) => {
      out.set(r, i * 3073);
    });
    return out;
  };
  for (let i = 1; i <= 5; i++) await writeFile(path.join(dir, `data_batch_${i}.bin`), batch());
  await writeFile(path.join(dir, 'test_batch.bin'), batch());
}
