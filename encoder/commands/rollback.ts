import { rollback } from '../publish/activation.js';
import { indexIdOf, storeOptions, storeUsage, withStores } from '../publish/cliStores.js';
import type { Command } from './command.js';

export const command: Command = {
  usage: `rollback ${storeUsage}`,
  options: { ...storeOptions },
  async run(values) {
    const pointer = await withStores(values, (stores) => rollback(stores, indexIdOf(values)));
    console.log(JSON.stringify(pointer));
  },
};
