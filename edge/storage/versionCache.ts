// Loaded index versions, least recently used first out, under a memory budget. Concurrent requests
// for a version share one load; a failed load is forgotten so the next request retries. The version
// being returned is never evicted, even when it alone exceeds the budget (it would not fit anyway).
// Versions load one at a time, each after the one before has been counted and the budget enforced,
// so requests for many versions at once hold the budget plus one version, not plus all of them.
import { type KeepAlive, LOAD_DEADLINE_MS, SharedLoad, withDeadline } from './keepAlive.js';
import type { LoadedVersion } from './loadedVersion.js';

export class VersionCache {
  private readonly entries = new Map<number, SharedLoad<LoadedVersion>>();
  private previousLoad: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly budgetBytes: number,
    private readonly load: (version: number) => Promise<LoadedVersion>,
  ) {}

  get(version: number, keepAlive: KeepAlive): Promise<LoadedVersion> {
    let entry = this.entries.get(version);
    if (entry) {
      // Map order is the LRU order: re-insert on use.
      this.entries.delete(version);
      this.entries.set(version, entry);
      if (entry.loaded) this.evict(version);
      return entry.get();
    }
    // The deadline runs from the load's turn, not from the wait for it.
    const started = new SharedLoad(
      () => this.previousLoad.then(() => withDeadline(this.load(version), LOAD_DEADLINE_MS)),
      keepAlive,
      null,
    );
    // The next load starts once this one is counted (and the budget enforced) or forgotten.
    this.previousLoad = started.promise.then(
      () => this.evict(version),
      () => this.entries.get(version) === started && this.entries.delete(version),
    );
    entry = started;
    this.entries.set(version, entry);
    return entry.get();
  }

  /** The version if it is in memory; not counted as a use. */
  peek(version: number): LoadedVersion | undefined {
    return this.entries.get(version)?.loaded;
  }

  /** Versions in memory, least recently used first, with their bytes. */
  loaded(): { version: number; bytes: number }[] {
    const out: { version: number; bytes: number }[] = [];
    for (const [version, entry] of this.entries) {
      if (entry.loaded) out.push({ version, bytes: entry.loaded.memoryBytes });
    }
    return out;
  }

  get memoryBytes(): number {
    return this.loaded().reduce((sum, v) => sum + v.bytes, 0);
  }

  private evict(keep: number): void {
    let total = this.memoryBytes;
    for (const [version, entry] of this.entries) {
      if (total <= this.budgetBytes) return;
      if (version === keep || !entry.loaded) continue;
      total -= entry.loaded.memoryBytes;
      this.entries.delete(version);
    }
  }
}
