import { indexIdOf, intOption, printEvent, storeOptions, storeUsage, withStores } from '../publish/cliStores.js';
import { compact } from '../publish/incremental.js';
import { DEFAULT_KEEP } from '../publish/publish.js';
import type { Command } from './command.js';

export const command: Command = {
  usage: `compact [--keep N] ${storeUsage}`,
  options: { keep: { type: 'string' }, ...storeOptions },
  async run(values) {
    const result = await withStores(values, (stores) =>
      compact(stores, {
        indexId: indexIdOf(values),
        keep: intOption(values, 'keep', DEFAULT_KEEP),
        onProgress: printEvent,
      }),
    );
    console.log(JSON.stringify({ version: result.version, count: result.manifest.count, active: result.pointer }));
  },
};
