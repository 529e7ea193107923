// Encodes one split of the training config's dataset with the tfjs model (no ONNX export needed):
// the quick path for evaluation experiments.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CodeTable } from '../../wasm/codeTable.js';
import { loadKernelModule } from '../../wasm/nodeModule.js';
import { encodeIndices } from '../train/encode.js';
import { withRunEncoder } from '../train/runEngine.js';
import { loadRunWithCheckpoint } from '../train/runWithCheckpoint.js';
import { type Command, requireString, UsageError } from './command.js';

const usage = 'encode-split --config FILE [--checkpoint DIR] [--split database|query|train|validation] --out FILE.ehct';
const splits = ['database', 'query', 'train', 'validation'] as const;

export const command: Command = {
  usage,
  options: {
    config: { type: 'string' },
    checkpoint: { type: 'string' },
    split: { type: 'string', default: 'database' },
    out: { type: 'string' },
  },
  async run(values) {
    const out = requireString(values, 'out', usage);
    const split = values.split as (typeof splits)[number];
    if (!splits.includes(split)) throw new UsageError(`unknown --split ${split}; expected one of ${splits.join(', ')}`);
    const checkpoint = typeof values.checkpoint === 'string' ? values.checkpoint : undefined;
    const { config, run } = await loadRunWithCheckpoint(requireString(values, 'config', usage), checkpoint);
    const indices = run.split[split];
    const codes = await withRunEncoder(run, config, (encoder) =>
      encodeIndices(encoder, config.model.bits, run.dataset, indices, run.normalization, config.training.batchSize),
    );
    const table = await CodeTable.fromCodes(
      await loadKernelModule(),
      codes,
      config.model.bits,
      Uint32Array.from(indices),
    );
    await mkdir(path.dirname(path.resolve(out)), { recursive: true });
    await writeFile(out, await table.serialize());
    console.log(JSON.stringify({ out, codes: table.count, bits: table.bits }));
  },
};
