/**
 * A small in-memory token bucket per key (client address): the public verification pages are
 * rate-limited (domain.md "Lookups are rate-limited and logged") without a shared store. One process
 * holds its own buckets; behind several instances the effective limit is per instance.
 */

import { limitKey } from '../../access/trustProxy.ts';

export interface BucketLimit {
  /** Requests allowed in a burst. */
  readonly capacity: number;
  /** Tokens added back per second. */
  readonly refillPerSecond: number;
}

export type TakeResult = { readonly ok: true } | { readonly ok: false; readonly retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  updatedMs: number;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly limit: BucketLimit,
    /** Bounds memory under a flood of distinct addresses: the least recently used keys go first. */
    private readonly maxKeys = 10_000,
    private readonly nowMs: () => number = Date.now,
  ) {
    if (!(limit.capacity >= 1) || !(limit.refillPerSecond > 0)) throw new RangeError('a bucket needs capacity >= 1 and a positive refill rate');
  }

  /** Takes one token for `key`; when none is left, says how long until the next one. */
  take(key: string): TakeResult {
    const now = this.nowMs();
    const bucket = this.refill(key, now);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / this.limit.refillPerSecond)) };
  }

  /** True when `key` has a token now, without taking it. */
  has(key: string): boolean {
    return this.refill(key, this.nowMs()).tokens >= 1;
  }

  private refill(address: string, now: number): Bucket {
    const key = limitKey(address);
    let bucket = this.buckets.get(key);
    if (bucket) {
      this.buckets.delete(key); // re-inserted below: Map order is then least recently used first
      const elapsed = Math.max(0, now - bucket.updatedMs) / 1000;
      bucket.tokens = Math.min(this.limit.capacity, bucket.tokens + elapsed * this.limit.refillPerSecond);
      bucket.updatedMs = now;
    } else {
      bucket = { tokens: this.limit.capacity, updatedMs: now };
      while (this.buckets.size >= this.maxKeys) {
        const oldest = this.buckets.keys().next().value;
        if (oldest === undefined) break;
        this.buckets.delete(oldest);
      }
    }
    this.buckets.set(key, bucket);
    return bucket;
  }
}
