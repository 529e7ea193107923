import { finishedJobOption } from '../encode/cliOptions.js';
import { jobModel, jobShards } from '../encode/job.js';
import { indexIdOf, intOption, printEvent, storeOptions, storeUsage, withStores } from '../publish/cliStores.js';
import { DEFAULT_KEEP, DEFAULT_KV_SHARD_MAX_BYTES, publishVersion } from '../publish/publish.js';
import type { Command } from './command.js';

const usage = `publish --job DIR [--keep N] [--no-activate] [--kv-shard-max-bytes N] ${storeUsage}`;

export const command: Command = {
  usage,
  options: {
    job: { type: 'string' },
    keep: { type: 'string' },
    'no-activate': { type: 'boolean', default: false },
    'kv-shard-max-bytes': { type: 'string' },
    ...storeOptions,
  },
  async run(values) {
    const { dir, job } = await finishedJobOption(values, usage);
    const kvShardMaxBytes = intOption(values, 'kv-shard-max-bytes', DEFAULT_KV_SHARD_MAX_BYTES, 0);
    const model = await jobModel(dir, job);
    const result = await withStores(values, (stores) =>
      publishVersion(stores, {
        indexId: indexIdOf(values),
        shards: jobShards(dir, job),
        model,
        keep: intOption(values, 'keep', DEFAULT_KEEP),
        activate: values['no-activate'] !== true,
        kvShardMaxBytes,
        onProgress: printEvent,
      }),
    );
    console.log(JSON.stringify({ version: result.version, count: result.manifest.count, active: result.pointer }));
  },
};
