// What the publish-side commands share: the options that choose the stores (local Miniflare state by
// default, a Cloudflare account with --remote) and the index, and running an operation against them.
import { DEFAULT_INDEX_ID } from '../../schemas/storage.js';
import { CodeTableError } from '../../wasm/codeTable.js';
import { CollectionError } from '../collection/types.js';
import { type CommandValues, UsageError } from '../commands/command.js';
import { EncodeError } from '../encode/job.js';
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
    throw asUsageError(error);
  } finally {
    await dispose();
  }
}

/** Errors about the input (stores, files, collections, jobs) become usage errors: a message, exit 2. */
export function asUsageError(error: unknown): unknown {
  const known = [PublishError, CodeTableError, CollectionError, EncodeError].some((type) => error instanceof type);
  return known ? new UsageError((error as Error).message) : error;
}

/** Progress as one JSON line per event on stdout. */
export function printEvent(event: PublishEvent): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

/** An integer option of at least `min` (default 1). */
export function intOption(values: CommandValues, name: string, fallback: number, min = 1): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (typeof raw !== 'string' || !Number.isInteger(value) || value < min) {
    throw new UsageError(`--${name} must be an integer >= ${min}, got ${String(raw)}`);
  }
  return value;
}
