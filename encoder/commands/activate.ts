import { activate } from '../publish/activation.js';
import { indexIdOf, intOption, storeOptions, storeUsage, withStores } from '../publish/cliStores.js';
import { type Command, requireString } from './command.js';

const usage = `activate --version N ${storeUsage}`;

export const command: Command = {
  usage,
  options: { version: { type: 'string' }, ...storeOptions },
  async run(values) {
    requireString(values, 'version', usage);
    const version = intOption(values, 'version', 0);
    const pointer = await withStores(values, (stores) => activate(stores, version, indexIdOf(values)));
    console.log(JSON.stringify(pointer));
  },
};
