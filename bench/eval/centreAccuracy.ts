/**
 * Nearest-centre accuracy of a CSQ checkpoint on training, validation and query images: how well its
 * codes classify images it trained on and images it never saw. The gap between the two says whether a
 * model's mAP is held back by fit (both low) or by generalization (training high, the others low).
 *
 *   npx tsx bench/eval/centreAccuracy.ts --config configs/X.json [--checkpoint DIR] [--train 5000]
 *
 * Images are encoded without augmentation; a code's class is its nearest CSQ centre in Hamming
 * distance (ties: the lower class). Prints one JSON line.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../../encoder/config.js';
import type { ImageDataset } from '../../encoder/data/types.js';
import { CsqLoss } from '../../encoder/losses/csq.js';
import { type BatchEncoder, encodeIndices } from '../../encoder/train/encode.js';
import { withRunEncoder } from '../../encoder/train/runEngine.js';
import { restoreRun } from '../../encoder/train/runWithCheckpoint.js';

const { values: args } = parseArgs({
  options: { config: { type: 'string' }, checkpoint: { type: 'string' }, train: { type: 'string', default: '5000' } },
});
if (!args.config) throw new Error('usage: centreAccuracy.ts --config FILE [--checkpoint DIR] [--train N]');
const config = await loadConfig(args.config);
if (config.loss.name !== 'csq') throw new Error(`${args.config}: loss ${config.loss.name}; centres exist for csq only`);
const { run, checkpointDir } = await restoreRun(config, args.checkpoint);
const { dataset, split, model, normalization } = run;
const bits = model.config.bits;
const numClasses = dataset.classNames.length;
const centres = new CsqLoss({ bits, numClasses, seed: config.training.seed, options: config.loss.options }).centres;

function labelOf(data: ImageDataset, i: number): number {
  let best = 0;
  for (let c = 1; c < numClasses; c++)
    if (data.labels[i * numClasses + c] > data.labels[i * numClasses + best]) best = c;
  return best;
}

async function accuracy(encoder: BatchEncoder, indices: Int32Array): Promise<number> {
  const codes = await encodeIndices(encoder, bits, dataset, indices, normalization, 256);
  const bytes = bits / 8;
  let correct = 0;
  for (let r = 0; r < indices.length; r++) {
    let bestClass = 0;
    let bestDistance = Number.POSITIVE_INFINITY;
    for (let c = 0; c < numClasses; c++) {
      let distance = 0;
      for (let b = 0; b < bits; b++) {
        const bit = (codes[r * bytes + (b >> 3)] >> (7 - (b & 7))) & 1;
        if (bit !== (centres.values[c * bits + b] > 0 ? 1 : 0)) distance++;
      }
      if (distance < bestDistance) [bestClass, bestDistance] = [c, distance];
    }
    if (bestClass === labelOf(dataset, indices[r])) correct++;
  }
  return correct / indices.length;
}

const trainSample = split.train.slice(0, Number(args.train));
const report = await withRunEncoder(run, config, async (encoder) => ({
  bench: 'centre-accuracy',
  config: args.config,
  checkpoint: checkpointDir,
  train: { images: trainSample.length, accuracy: await accuracy(encoder, trainSample) },
  validation: { images: split.validation.length, accuracy: await accuracy(encoder, split.validation) },
  query: { images: split.query.length, accuracy: await accuracy(encoder, split.query) },
}));
console.log(JSON.stringify(report));
