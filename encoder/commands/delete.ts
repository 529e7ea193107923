import { readFile } from 'node:fs/promises';
import { indexIdOf, intOption, printEvent, storeOptions, storeUsage, withStores } from '../publish/cliStores.js';
import { deleteItems } from '../publish/incremental.js';
import { DEFAULT_KEEP } from '../publish/publish.js';
import { type Command, UsageError } from './command.js';

const usage = `delete (--ids 1,2,3 | --ids-file FILE) [--keep N] ${storeUsage}`;

function parseIds(text: string, from: string): number[] {
  const words = text.split(/[\s,]+/).filter((w) => w !== '');
  const bad = words.find((w) => !/^\d+$/.test(w) || Number(w) > 0xffffffff);
  if (bad !== undefined) throw new UsageError(`${from}: "${bad}" is not an item id (0..4294967295)`);
  if (words.length === 0) throw new UsageError(`${from}: no ids given\nusage: edgehash ${usage}`);
  return words.map(Number);
}

export const command: Command = {
  usage,
  options: { ids: { type: 'string' }, 'ids-file': { type: 'string' }, keep: { type: 'string' }, ...storeOptions },
  async run(values) {
    const file = values['ids-file'];
    let ids: number[];
    if (typeof file === 'string') {
      const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
        throw new UsageError(`${file}: ${error.code ?? error.message}`);
      });
      ids = parseIds(text, file);
    } else ids = parseIds(typeof values.ids === 'string' ? values.ids : '', '--ids');
    const result = await withStores(values, (stores) =>
      deleteItems(stores, {
        indexId: indexIdOf(values),
        ids,
        keep: intOption(values, 'keep', DEFAULT_KEEP),
        onProgress: printEvent,
      }),
    );
    const { version, manifest } = result;
    console.log(JSON.stringify({ version, tombstones: manifest.tombstones.length, active: result.pointer }));
  },
};
