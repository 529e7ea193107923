// Loaded index versions, least recently used first out, under a memory budget. Concurrent requests
// for a version share one load; a failed load is forgotten so the next request retries. The version
// being returned is never evicted, even when it alone exceeds the budget (it would not fit anyway).
import type { LoadedVersion } from './loadedVersion.js';

interface Entry {
  promise: Promise<LoadedVersion>;
  loaded?: LoadedVersion;
}

export class VersionCache {
  private readonly entries = new Map<number, Entry>();

  constructor(
    private readonly budgetBytes: number,
    private readonly load: (version: number) => Promise<LoadedVersion>,
  ) {}

  get(version: number): Promise<LoadedVersion> {
    const hit = this.entries.get(version);
    if (hit) {
      // Map order is the LRU order: re-insert on use.
      this.entries.delete(version);
      this.entries.set(version, hit);
      if (hit.loaded) this.evict(version);
      return hit.promise;
    }
    const entry: Entry = {
      promise: this.load(version).then(
        (loaded) => {
          entry.loaded = loaded;
          this.evict(version);
          return loaded;
        },
        (error) => {
          if (this.entries.get(version) === entry) this.entries.delete(version);
          throw error;
        },
      ),
    };
    this.entries.set(version, entry);
    return entry.promise;
  }

  /** Versions in memory, least recently used first, with their bytes. */
  loaded(): { version: number; bytes: number }[] {
    return [...this.entries]
      .filter(([, e]) => e.loaded)
      .map(([version, e]) => ({ version, bytes: e.loaded!.memoryBytes }));
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
