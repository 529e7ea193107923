// Loads shared between requests of one isolate (manifests, versions, models, metadata) under two
// workerd rules. (1) I/O belongs to the request that started it: when that request ends early (its
// client went away) its pending reads are cancelled, so a shared load is registered with the starting
// request's waitUntil. (2) A request whose own context has nothing pending while it awaits is taken
// for hung and cancelled with a 500, even if another request's I/O would answer it, so a request
// waiting for a load someone else started keeps a timer of its own running meanwhile. A load has a
// deadline, so a read that never comes back cannot hold every later request for its key.
import { IndexStoreError } from './indexReader.js';

export type KeepAlive = (work: Promise<unknown>) => void;

/** For callers outside a request (unit tests of the caches). */
export const noKeepAlive: KeepAlive = () => {};

const WAIT_TICK_MS = 20;

/**
 * A shared load still pending after this is given up: it rejects, so the map holding it forgets it
 * and the next request starts afresh. Workers stop a request's waitUntil work 30 s after its response.
 */
export const LOAD_DEADLINE_MS = 30_000;

export function withDeadline<T>(work: Promise<T>, deadlineMs: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new IndexStoreError(`a load did not finish within ${deadlineMs} ms`)), deadlineMs);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

export class SharedLoad<T> {
  private result: { value: T } | undefined;
  readonly promise: Promise<T>;

  /** `deadlineMs`: null where `start` applies its own (a load that first waits its turn). */
  constructor(start: () => Promise<T>, keepAlive: KeepAlive, deadlineMs: number | null = LOAD_DEADLINE_MS) {
    this.promise = deadlineMs === null ? start() : withDeadline(start(), deadlineMs);
    this.promise.then(
      (value) => {
        this.result = { value };
      },
      () => undefined,
    );
    keepAlive(this.promise.catch(() => undefined));
  }

  get loaded(): T | undefined {
    return this.result?.value;
  }

  /** The value, awaited safely from any request. */
  get(): Promise<T> {
    if (this.result) return Promise.resolve(this.result.value);
    return new Promise<T>((resolve, reject) => {
      const tick = setInterval(() => undefined, WAIT_TICK_MS);
      this.promise.then(
        (value) => {
          clearInterval(tick);
          resolve(value);
        },
        (error) => {
          clearInterval(tick);
          reject(error);
        },
      );
    });
  }
}

export interface SharedLoadsOptions<V> {
  /** The least recently used load is dropped beyond this many (default: none is). */
  maxEntries?: number;
  /** Called with the value of a load dropped for room, once it has loaded. */
  dropped?: (value: V) => void;
  /** A loaded value this rejects (say, "not found") is not remembered. */
  keep?: (value: V) => boolean;
  /** How long a load may take (default LOAD_DEADLINE_MS). */
  deadlineMs?: number;
}

/** Shared loads by key: started once, forgotten on failure (so the next request retries). */
export class SharedLoads<K, V> {
  private readonly loads = new Map<K, SharedLoad<V>>();

  private readonly maxEntries: number;
  private readonly keep: (value: V) => boolean;
  private readonly deadlineMs: number;
  private readonly dropped: (value: V) => void;

  constructor(options: SharedLoadsOptions<V> = {}) {
    this.maxEntries = options.maxEntries ?? Number.POSITIVE_INFINITY;
    this.keep = options.keep ?? (() => true);
    this.deadlineMs = options.deadlineMs ?? LOAD_DEADLINE_MS;
    this.dropped = options.dropped ?? (() => {});
  }

  get(key: K, start: () => Promise<V>, keepAlive: KeepAlive): Promise<V> {
    let load = this.loads.get(key);
    if (load) {
      this.loads.delete(key);
    } else {
      const started = new SharedLoad(start, keepAlive, this.deadlineMs);
      const forget = () => this.loads.get(key) === started && this.loads.delete(key);
      started.promise.then((value) => this.keep(value) || forget(), forget);
      load = started;
    }
    this.loads.set(key, load);
    while (this.loads.size > this.maxEntries) {
      const oldest = this.loads.keys().next().value as K;
      this.loads.get(oldest)?.promise.then(this.dropped, () => undefined);
      this.loads.delete(oldest);
    }
    return load.get();
  }

  /** Drops `key`, so its next get loads it again. */
  forget(key: K): void {
    this.loads.delete(key);
  }

  /** The value of `key` if its load has finished; not counted as a use. */
  peek(key: K): V | undefined {
    return this.loads.get(key)?.loaded;
  }

  /** The values loaded so far. */
  *loaded(): Iterable<V> {
    for (const load of this.loads.values()) if (load.loaded !== undefined) yield load.loaded;
  }
}
