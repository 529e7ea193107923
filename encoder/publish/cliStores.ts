// What the publish-side commands share: the options that choose the stores (local Miniflare state by
// default, a Cloudflare account with --remote) and the index, and running an operation against them.
import { DEFAULT_INDEX_ID } from '../../schemas/storage.js';
import { CodeTableError } from '../../wasm/codeTable.js';
import { type CommandValues, UsageError } from '../commands/command.js';
import { DEFAULT_PERSIST_DIR, localBindingIds, openLocalStores } from './localStores.js';
import type { PublishEvent } from './publish.js';
import { cloudflareConfigFromEnv, remoteStores } from './remoteStores.js';
import type { IndexStores } from './store.js';
import { PublishError } from './versions.js';

export const storeOptions = {
  index: { type: 'string' },
  persist: { type: 'string' },
  'wrangler-config': { type: 'string' },
  remote: { type: 'boolean', default: false },
} as const;

export const storeUsage = `[--index ID] [--persist DIR | --remote] [--wrangler-config FILE]`;

export function indexIdOf(values: CommandValues): string {
  return typeof values.index === 'string' ? values.index : DEFAULT_INDEX_ID;
}

/** Runs `operation` on the chosen stores and closes them; publish errors become usage errors (exit 2). */
export async function withStores<T>(values: CommandValues, operation: (stores: IndexStores) => Promise<T>): Promise<T> {
  let stores: IndexStores;
  let dispose = async () => {};
  try {
    if (values.remote === true) stores = remoteStores(cloudflareConfigFromEnv());
    else {
      const persist = typeof values.persist === 'string' ? values.persist : DEFAULT_PERSIST_DIR;
      const config = typeof values['wrangler-config'] === 'string' ? values['wrangler-config'] : 'wrangler.toml';
      const local = await openLocalStores(persist, await localBindingIds(config));
      stores = local;
      dispose = local.dispose;
    }
    return await operation(stores);
  } catch (error) {
    if (error instanceof PublishError || error instanceof CodeTableError) throw new UsageError(error.message);
    throw error;
  } finally {
    await dispose();
  }
}

/** Progress as one JSON line per event on stdout. */
export function printEvent(event: PublishEvent): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

export function positiveInt(values: CommandValues, name: string, fallback: number): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (typeof raw !== 'string' || !Number.isInteger(value) || value < 1) {
    throw new UsageError(`--${name} must be a positive integer, got ${String(raw)}`);
  }
  return value;
}
