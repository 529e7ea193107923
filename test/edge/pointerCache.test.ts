// The active-pointer cache's policy (plain TypeScript, run in Node, with a controllable clock and
// KV reads that resolve when the test says): the first read is awaited, a stale value keeps serving
// while one background re-read runs, a flip this isolate made is never overwritten by an older
// read, a failed re-read is retried later, and ttl 0 reads on every request.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { IndexReader } from '../../edge/storage/indexReader.js';
import type { KeepAlive } from '../../edge/storage/keepAlive.js';
import { PointerCache } from '../../edge/storage/pointerCache.js';
import type { ActivePointer } from '../../schemas/storage.js';

const pointerOf = (version: number): ActivePointer => ({ version, updated: '2026-11-30T00:00:00.000Z' });

/** A reader whose pointer() reads stay pending until the test settles them, oldest first. */
function pendingReader() {
  const reads: { resolve: (p: ActivePointer | null) => void; reject: (e: Error) => void }[] = [];
  const reader = {
    pointer: () =>
      new Promise<ActivePointer | null>((resolve, reject) => {
        reads.push({ resolve, reject });
      }),
  } as unknown as IndexReader;
  return { reader, reads };
}

const kept: Promise<unknown>[] = [];
const keepAlive: KeepAlive = (work) => {
  kept.push(work);
};
const settle = () => Promise.all(kept.splice(0));

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(0);
});
afterEach(() => {
  vi.useRealTimers();
  kept.length = 0;
});

describe('PointerCache', () => {
  it('awaits a fresh read where the known value is more than five ttls old (an idle isolate)', async () => {
    const { reader, reads } = pendingReader();
    const cache = new PointerCache(reader, 2000);
    const first = cache.get(keepAlive);
    reads[0].resolve(pointerOf(1));
    await first;
    vi.setSystemTime(10_001);
    const late = cache.get(keepAlive);
    expect(reads).toHaveLength(2);
    expect(kept).toHaveLength(0);
    reads[1].resolve(pointerOf(2));
    await expect(late).resolves.toEqual(pointerOf(2));
    // Idle again, and KV fails: the known value still serves.
    vi.setSystemTime(30_000);
    const failing = cache.get(keepAlive);
    reads[2].reject(new Error('KV down'));
    await expect(failing).resolves.toEqual(pointerOf(2));
  });

  it('awaits the first read, then serves the stale value while one background re-read runs', async () => {
    const { reader, reads } = pendingReader();
    const cache = new PointerCache(reader, 2000);
    const first = cache.get(keepAlive);
    reads[0].resolve(pointerOf(1));
    await expect(first).resolves.toEqual(pointerOf(1));

    vi.setSystemTime(2500);
    await expect(cache.get(keepAlive)).resolves.toEqual(pointerOf(1));
    await expect(cache.get(keepAlive)).resolves.toEqual(pointerOf(1));
    expect(reads).toHaveLength(2);
    expect(kept).toHaveLength(1);

    reads[1].resolve(pointerOf(2));
    await settle();
    await expect(cache.get(keepAlive)).resolves.toEqual(pointerOf(2));
    expect(reads).toHaveLength(2);
  });

  it('keeps a flip this isolate remembered over an older background read', async () => {
    const { reader, reads } = pendingReader();
    const cache = new PointerCache(reader, 2000);
    cache.remember(pointerOf(1));
    vi.setSystemTime(3000);
    await cache.get(keepAlive);
    cache.remember(pointerOf(5));
    reads[0].resolve(pointerOf(1));
    await settle();
    await expect(cache.get(keepAlive)).resolves.toEqual(pointerOf(5));
  });

  it('retries a failed re-read after a second, serving the known value meanwhile', async () => {
    const { reader, reads } = pendingReader();
    const cache = new PointerCache(reader, 2000);
    cache.remember(pointerOf(1));
    vi.setSystemTime(2500);
    await cache.get(keepAlive);
    reads[0].reject(new Error('KV unavailable'));
    await settle();
    vi.setSystemTime(3000);
    await expect(cache.get(keepAlive)).resolves.toEqual(pointerOf(1));
    expect(reads).toHaveLength(1);
    vi.setSystemTime(3600);
    await expect(cache.get(keepAlive)).resolves.toEqual(pointerOf(1));
    expect(reads).toHaveLength(2);
  });

  it('with ttl 0, every request awaits its own read', async () => {
    const { reader, reads } = pendingReader();
    const cache = new PointerCache(reader, 0);
    cache.remember(pointerOf(1));
    const next = cache.get(keepAlive);
    expect(reads).toHaveLength(1);
    reads[0].resolve(pointerOf(2));
    await expect(next).resolves.toEqual(pointerOf(2));
    expect(kept).toHaveLength(0);
  });
});
