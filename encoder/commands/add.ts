import { finishedJobOption } from '../encode/cliOptions.js';
import { jobShards } from '../encode/job.js';
import { indexIdOf, intOption, printEvent, storeOptions, storeUsage, withStores } from '../publish/cliStores.js';
import { addShards } from '../publish/incremental.js';
import { DEFAULT_KEEP } from '../publish/publish.js';
import type { Command } from './command.js';

const usage = `add --job DIR [--keep N] ${storeUsage}`;

export const command: Command = {
  usage,
  options: { job: { type: 'string' }, keep: { type: 'string' }, ...storeOptions },
  async run(values) {
    const { dir, job } = await finishedJobOption(values, usage);
    const result = await withStores(values, (stores) =>
      addShards(stores, {
        indexId: indexIdOf(values),
        shards: jobShards(dir, job),
        model: { id: job.model.id, checksum: job.model.checksum },
        keep: intOption(values, 'keep', DEFAULT_KEEP),
        onProgress: printEvent,
      }),
    );
    console.log(JSON.stringify({ version: result.version, count: result.manifest.count, active: result.pointer }));
  },
};
