import { listVersions } from '../publish/activation.js';
import { indexIdOf, storeOptions, storeUsage, withStores } from '../publish/cliStores.js';
import type { Command } from './command.js';

export const command: Command = {
  usage: `versions ${storeUsage}`,
  options: { ...storeOptions },
  async run(values) {
    const versions = await withStores(values, (stores) => listVersions(stores, indexIdOf(values)));
    for (const version of versions) console.log(JSON.stringify(version));
  },
};
