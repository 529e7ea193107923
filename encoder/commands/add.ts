import { jobShards, requireFinishedJob } from '../encode/job.js';
import { indexIdOf, positiveInt, printEvent, storeOptions, storeUsage, withStores } from '../publish/cliStores.js';
import { addShards } from '../publish/incremental.js';
import { DEFAULT_KEEP } from '../publish/publish.js';
import { type Command, requireString } from './command.js';

const usage = `add --job DIR [--keep N] ${storeUsage}`;

export const command: Command = {
  usage,
  options: { job: { type: 'string' }, keep: { type: 'string' }, ...storeOptions },
  async run(values) {
    const dir = requireString(values, 'job', usage);
    const job = await requireFinishedJob(dir);
    const result = await withStores(values, (stores) =>
      addShards(stores, {
        indexId: indexIdOf(values),
        shards: jobShards(dir, job),
        model: { id: job.model.id, checksum: job.model.checksum },
        keep: positiveInt(values, 'keep', DEFAULT_KEEP),
        onProgress: printEvent,
      }),
    );
    console.log(JSON.stringify({ version: result.version, count: result.manifest.count, active: result.pointer }));
  },
};
