// The version cache's policy (plain TypeScript, run in Node): least recently used versions leave
// first when the budget is exceeded, the version being served never does, concurrent requests share
// one load, and a failed load is retried.
import { describe, expect, it } from 'vitest';
import { noKeepAlive } from '../../edge/storage/keepAlive.js';
import type { LoadedVersion } from '../../edge/storage/loadedVersion.js';
import { VersionCache } from '../../edge/storage/versionCache.js';

const MB = 1024 * 1024;

function cacheOf(budgetMb: number, sizes: Record<number, number>) {
  const loads: number[] = [];
  const cache = new VersionCache(budgetMb * MB, async (version) => {
    loads.push(version);
    if (!(version in sizes)) throw new Error(`no version ${version}`);
    return { version, memoryBytes: sizes[version] * MB } as unknown as LoadedVersion;
  });
  return { cache, loads };
}

describe('VersionCache', () => {
  it('evicts least recently used versions to stay within the budget', async () => {
    const { cache, loads } = cacheOf(50, { 1: 20, 2: 20, 3: 20 });
    await cache.get(1, noKeepAlive);
    await cache.get(2, noKeepAlive);
    await cache.get(1, noKeepAlive);
    await cache.get(3, noKeepAlive);
    expect(cache.loaded().map((v) => v.version)).toEqual([1, 3]);
    expect(cache.memoryBytes).toBe(40 * MB);
    await cache.get(2, noKeepAlive);
    expect(loads).toEqual([1, 2, 3, 2]);
    expect(cache.loaded().map((v) => v.version)).toEqual([3, 2]);
  });

  it('keeps the version it serves even when that one alone exceeds the budget', async () => {
    const { cache } = cacheOf(10, { 1: 5, 2: 30 });
    await cache.get(1, noKeepAlive);
    const big = await cache.get(2, noKeepAlive);
    expect(big.version).toBe(2);
    expect(cache.loaded().map((v) => v.version)).toEqual([2]);
  });

  it('shares one load between concurrent requests and retries a failed load', async () => {
    const sizes: Record<number, number> = { 1: 1 };
    const { cache, loads } = cacheOf(10, sizes);
    const [a, b] = await Promise.all([cache.get(1, noKeepAlive), cache.get(1, noKeepAlive)]);
    expect(a).toBe(b);
    await expect(cache.get(4, noKeepAlive)).rejects.toThrow('no version 4');
    sizes[4] = 1;
    expect((await cache.get(4, noKeepAlive)).version).toBe(4);
    expect(loads).toEqual([1, 4, 4]);
  });
});

describe('VersionCache loads', () => {
  it('loads one version at a time, each after the budget has made room for the one before', async () => {
    let running = 0;
    let most = 0;
    const order: string[] = [];
    const cache = new VersionCache(30 * MB, async (version) => {
      running++;
      most = Math.max(most, running);
      order.push(`load ${version} with ${cache.loaded().map((v) => v.version)} in memory`);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running--;
      return { version, memoryBytes: 20 * MB } as unknown as LoadedVersion;
    });
    const versions = await Promise.all([1, 2, 3].map((v) => cache.get(v, noKeepAlive)));
    expect(versions.map((v) => v.version)).toEqual([1, 2, 3]);
    expect(most).toBe(1);
    expect(order).toEqual(['load 1 with  in memory', 'load 2 with 1 in memory', 'load 3 with 2 in memory']);
  });
});
