import { openCollection } from '../collection/spec.js';
import {
  encodeOptions,
  encodeSettings,
  encodeUsage,
  runJobFromCli,
  sourceOptions,
  sourceSpecOf,
  sourceUsage,
} from '../encode/cliOptions.js';
import { asUsageError } from '../publish/cliStores.js';
import { type Command, UsageError } from './command.js';

const usage = `encode ${sourceUsage} ${encodeUsage} [--first-id N]`;

export const command: Command = {
  usage,
  options: { ...sourceOptions, ...encodeOptions, 'first-id': { type: 'string' } },
  async run(values) {
    const source = sourceSpecOf(values, usage);
    const settings = encodeSettings(values, usage);
    const firstId = values['first-id'] === undefined ? 0 : Number(values['first-id']);
    if (!Number.isInteger(firstId) || firstId < 0 || firstId > 0xffffffff) {
      throw new UsageError(`--first-id must be an integer in 0..4294967295, got ${values['first-id']}`);
    }
    const collection = await openCollection(source).catch((error: unknown) => {
      throw asUsageError(error);
    });
    const job = await runJobFromCli({ ...settings, source, collection, firstId });
    const count = job.shards.reduce((n, s) => n + s.count, 0);
    console.log(JSON.stringify({ out: settings.dir, shards: job.shards.length, count, total: job.total }));
  },
};
