import {
  encodeOptions,
  encodeSettings,
  encodeUsage,
  printEncodeEvent,
  sourceOptions,
  sourceSpecOf,
  sourceUsage,
} from '../encode/cliOptions.js';
import { reencode } from '../encode/reencode.js';
import { indexIdOf, intOption, storeOptions, storeUsage, withStores } from '../publish/cliStores.js';
import { DEFAULT_KEEP } from '../publish/publish.js';
import type { Command } from './command.js';

const usage = `reencode ${sourceUsage} ${encodeUsage} [--keep N] ${storeUsage}`;

export const command: Command = {
  usage,
  options: { ...sourceOptions, ...encodeOptions, keep: { type: 'string' }, ...storeOptions },
  async run(values) {
    const collection = sourceSpecOf(values, usage);
    const settings = encodeSettings(values, usage);
    const result = await withStores(values, (stores) =>
      reencode(stores, {
        ...settings,
        indexId: indexIdOf(values),
        collection,
        keep: intOption(values, 'keep', DEFAULT_KEEP),
        onProgress: printEncodeEvent,
      }),
    );
    console.log(JSON.stringify({ version: result.version, count: result.manifest.count, active: result.pointer }));
  },
};
