// The active-version pointer, re-read from KV at most every `ttlMs`: a flip made by the publish
// pipeline or another isolate is seen within that time, with no redeploy. Concurrent requests
// share one KV read.
import type { ActivePointer } from '../../schemas/storage.js';
import type { IndexReader } from './indexReader.js';

export class PointerCache {
  private value: ActivePointer | null = null;
  private readAt = Number.NEGATIVE_INFINITY;
  private inFlight: Promise<ActivePointer | null> | undefined;

  constructor(
    private readonly reader: IndexReader,
    private readonly ttlMs: number,
  ) {}

  get(): Promise<ActivePointer | null> {
    if (Date.now() - this.readAt < this.ttlMs) return Promise.resolve(this.value);
    this.inFlight ??= this.reader.pointer().then(
      (pointer) => {
        this.inFlight = undefined;
        this.remember(pointer);
        return pointer;
      },
      (error) => {
        this.inFlight = undefined;
        throw error;
      },
    );
    return this.inFlight;
  }

  /** Records a pointer this isolate just wrote, so it serves the new version at once. */
  remember(pointer: ActivePointer | null): void {
    this.value = pointer;
    this.readAt = Date.now();
  }
}
