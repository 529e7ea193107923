// edgehash: the encoder's command line.
//   edgehash train  --config FILE [--resume]
//   edgehash eval   --config FILE [--checkpoint DIR]
//   edgehash encode --config FILE [--checkpoint DIR] [--split database|query|train|validation] --out FILE.ehct
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CodeTable } from '../wasm/codeTable.js';
import { loadKernelModule } from '../wasm/nodeModule.js';
import { ConfigError, loadConfig } from './config.js';
import { writeEvaluationReport } from './eval/report.js';
import { loadCheckpoint, restoreWeights } from './train/checkpoint.js';
import { encodeIndices } from './train/encode.js';
import { bestCheckpointDir, evaluate, prepareRun, train } from './train/trainer.js';

const usage = `usage:
  edgehash train  --config FILE [--resume]
  edgehash eval   --config FILE [--checkpoint DIR]
  edgehash encode --config FILE [--checkpoint DIR] [--split database|query|train|validation] --out FILE.ehct`;

class UsageError extends Error {}

async function loadRunWithCheckpoint(configFile: string, checkpoint: string | undefined) {
  const config = await loadConfig(configFile);
  const run = await prepareRun(config);
  const dir = checkpoint ? path.resolve(checkpoint) : bestCheckpointDir(config);
  const saved = await loadCheckpoint(dir).catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`${dir}: no checkpoint there (${error.code ?? error.message}); train first`);
  });
  restoreWeights(run.model.net, saved.weights, dir);
  return { config, run };
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      config: { type: 'string' },
      resume: { type: 'boolean', default: false },
      checkpoint: { type: 'string' },
      split: { type: 'string', default: 'database' },
      out: { type: 'string' },
    },
  });
  if (!values.config) throw new UsageError(`--config is required\n${usage}`);
  switch (command) {
    case 'train': {
      const result = await train(await loadConfig(values.config), { resume: values.resume });
      const { map, precisionWithinRadius2 } = result.metrics;
      console.log(
        JSON.stringify({
          map,
          precisionWithinRadius2,
          selectedEpoch: result.state.bestEpoch,
          outputDir: result.outputDir,
        }),
      );
      return;
    }
    case 'eval': {
      const { config, run } = await loadRunWithCheckpoint(values.config, values.checkpoint);
      const metrics = await evaluate(run, config);
      const files = await writeEvaluationReport(
        path.join(config.outputDir, 'eval'),
        config.model.architecture,
        metrics,
        {
          protocol: config.protocol,
        },
      );
      console.log(JSON.stringify({ map: metrics.map, precisionWithinRadius2: metrics.precisionWithinRadius2, files }));
      return;
    }
    case 'encode': {
      if (!values.out) throw new UsageError(`--out is required\n${usage}`);
      const split = values.split as 'database' | 'query' | 'train' | 'validation';
      if (!['database', 'query', 'train', 'validation'].includes(split))
        throw new UsageError(`unknown --split ${split}`);
      const { config, run } = await loadRunWithCheckpoint(values.config, values.checkpoint);
      const indices = run.split[split];
      const codes = encodeIndices(run.model, run.dataset, indices, run.normalization, config.training.batchSize);
      const table = await CodeTable.fromCodes(
        await loadKernelModule(),
        codes,
        config.model.bits,
        Uint32Array.from(indices),
      );
      await mkdir(path.dirname(path.resolve(values.out)), { recursive: true });
      await writeFile(values.out, await table.serialize());
      console.log(JSON.stringify({ out: values.out, codes: table.count, bits: table.bits }));
      return;
    }
    default:
      throw new UsageError(command ? `unknown command ${command}\n${usage}` : usage);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const known = error instanceof ConfigError || error instanceof UsageError;
  process.stderr.write(`edgehash: ${known ? (error as Error).message : ((error as Error).stack ?? error)}\n`);
  process.exit(known ? 2 : 1);
});
