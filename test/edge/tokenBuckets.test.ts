// The per-isolate rate limiter's arithmetic (plain TypeScript, run in Node, explicit clock).
import { describe, expect, it } from 'vitest';
import { TokenBuckets } from '../../edge/middleware/tokenBuckets.js';

describe('TokenBuckets', () => {
  it('allows a burst of the per-minute rate, then refills at that rate, per client', () => {
    const buckets = new TokenBuckets(60);
    for (let i = 0; i < 60; i++) expect(buckets.take('a', 0)).toBe(0);
    expect(buckets.take('a', 0)).toBe(1);
    expect(buckets.take('b', 0)).toBe(0);
    expect(buckets.take('a', 500)).toBe(1);
    expect(buckets.take('a', 1000)).toBe(0);
    expect(buckets.take('a', 1000)).toBe(1);
  });

  it('0 turns limiting off', () => {
    const buckets = new TokenBuckets(0);
    for (let i = 0; i < 1000; i++) expect(buckets.take('a', 0)).toBe(0);
  });

  it('stays bounded under many distinct clients', () => {
    const buckets = new TokenBuckets(10);
    for (let i = 0; i < 25_000; i++) {
      buckets.take(`client-${i}`, 0);
      expect(buckets.clients).toBeLessThanOrEqual(10_000);
    }
    expect(buckets.take('client-24999', 0)).toBe(0);
  });
});
