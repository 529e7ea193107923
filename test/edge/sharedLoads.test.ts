// Loads shared between requests (plain TypeScript, run in Node): a load that never settles is given
// up at its deadline, and a value dropped for room is handed over (a model releases its session).
import { describe, expect, it } from 'vitest';
import { IndexStoreError } from '../../edge/storage/indexReader.js';
import { noKeepAlive, SharedLoads } from '../../edge/storage/keepAlive.js';

describe('SharedLoads', () => {
  it('gives up a load that never settles at its deadline, so the next request starts it again', async () => {
    let starts = 0;
    const loads = new SharedLoads<string, number>({ deadlineMs: 30 });
    const never = () => {
      starts++;
      return new Promise<number>(() => {});
    };
    await expect(loads.get('a', never, noKeepAlive)).rejects.toThrow(
      new IndexStoreError('a load did not finish within 30 ms'),
    );
    expect(loads.peek('a')).toBeUndefined();
    await expect(
      loads.get(
        'a',
        async () => {
          starts++;
          return 7;
        },
        noKeepAlive,
      ),
    ).resolves.toBe(7);
    expect(starts).toBe(2);
  });

  it('hands the value it drops for room to `dropped`, and only that one', async () => {
    const dropped: string[] = [];
    const loads = new SharedLoads<string, string>({ maxEntries: 2, dropped: (value) => dropped.push(value) });
    for (const key of ['a', 'b', 'a', 'c']) await loads.get(key, async () => `value ${key}`, noKeepAlive);
    expect(dropped).toEqual(['value b']);
    expect([...loads.loaded()]).toEqual(['value a', 'value c']);
  });
});
