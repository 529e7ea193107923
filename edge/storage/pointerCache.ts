// The active-version pointer, re-read from KV at most every `ttlMs`: a flip made by the publish
// pipeline or another isolate is seen within that time, with no redeploy. When the value is stale,
// one request re-reads it while the others keep serving the current value; each request awaits only
// its own KV read (keepAlive.ts says why reads are not shared across requests).
import type { ActivePointer } from '../../schemas/storage.js';
import type { IndexReader } from './indexReader.js';

/** After this long a re-read that never came back (its request was cancelled) no longer blocks others. */
const REFRESH_TIMEOUT_MS = 1000;

export class PointerCache {
  private value: ActivePointer | null = null;
  private readAt = Number.NEGATIVE_INFINITY;
  private refreshStarted = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly reader: IndexReader,
    private readonly ttlMs: number,
  ) {}

  async get(): Promise<ActivePointer | null> {
    const now = Date.now();
    if (now - this.readAt < this.ttlMs) return this.value;
    const known = this.readAt > Number.NEGATIVE_INFINITY;
    if (known && now - this.refreshStarted < REFRESH_TIMEOUT_MS) return this.value;
    this.refreshStarted = now;
    const pointer = await this.reader.pointer();
    this.remember(pointer);
    return pointer;
  }

  /** Records a pointer this isolate just read or wrote, so it serves the new version at once. */
  remember(pointer: ActivePointer | null): void {
    this.value = pointer;
    this.readAt = Date.now();
    this.refreshStarted = Number.NEGATIVE_INFINITY;
  }
}
