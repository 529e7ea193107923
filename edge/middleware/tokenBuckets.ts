// Token buckets per client key, in one isolate's memory. Each isolate limits on its own (Cloudflare
// runs many), so this bounds a client's rate per isolate, not globally; a global limit needs a Durable
// Object or Cloudflare's rate-limiting rules in front of the worker.

interface Bucket {
  tokens: number;
  updated: number;
}

/** Buckets kept before idle ones are dropped, so memory stays bounded under many clients. */
const MAX_CLIENTS = 10_000;

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;

  /** `perMinute` requests per minute with bursts up to that many; 0 disables limiting. */
  constructor(readonly perMinute: number) {
    this.perMs = perMinute / 60_000;
  }

  /** Clients with a bucket now. */
  get clients(): number {
    return this.buckets.size;
  }

  /** Takes one token; returns 0 when allowed, else the seconds until one is available. */
  take(key: string, now = Date.now()): number {
    if (this.perMinute <= 0) return 0;
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= MAX_CLIENTS) this.dropFull(now);
      bucket = { tokens: this.perMinute, updated: now };
      this.buckets.set(key, bucket);
    }
    bucket.tokens = Math.min(this.perMinute, bucket.tokens + (now - bucket.updated) * this.perMs);
    bucket.updated = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - bucket.tokens) / this.perMs / 1000);
  }

  /** Drops buckets that have refilled (their clients are idle); the oldest half if none has. */
  private dropFull(now: number): void {
    for (const [key, b] of this.buckets) {
      if (b.tokens + (now - b.updated) * this.perMs >= this.perMinute) this.buckets.delete(key);
    }
    if (this.buckets.size < MAX_CLIENTS) return;
    let drop = this.buckets.size / 2;
    for (const key of this.buckets.keys()) {
      if (drop-- <= 0) break;
      this.buckets.delete(key);
    }
  }
}
