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
  /**
   * Two generations of at most half of `maxKeys` each: a key used again moves to the current one; when
   * the current one is full it becomes the previous one and the old previous one is dropped whole. So a
   * client is forgotten only after half of `maxKeys` other clients came (twice over), memory stays under
   * `maxKeys`, and no access scans anything. (An LRU kept in one Map's insertion order cost a scan over
   * its deleted entries for every new address: 7.6 µs a request under many distinct clients.)
   */
  private current = new Map<string, Bucket>();
  private previous = new Map<string, Bucket>();
  private readonly generationSize: number;

  constructor(
    private readonly limit: BucketLimit,
    /** Bounds memory under a flood of distinct addresses: the least recently used keys go first. */
    maxKeys = 10_000,
    private readonly nowMs: () => number = Date.now,
  ) {
    if (!(limit.capacity >= 1) || !(limit.refillPerSecond > 0)) throw new RangeError('a bucket needs capacity >= 1 and a positive refill rate');
    this.generationSize = Math.max(1, Math.floor(maxKeys / 2));
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

  /** Clients remembered now (at most `maxKeys`). */
  get size(): number {
    return this.current.size + this.previous.size;
  }

  /** True when `key` has a token now, without taking it. */
  has(key: string): boolean {
    return this.refill(key, this.nowMs()).tokens >= 1;
  }

  private refill(address: string, now: number): Bucket {
    const key = limitKey(address);
    const recent = this.current.get(key);
    if (recent) return this.refreshed(recent, now);
    let bucket = this.previous.get(key);
    if (bucket) {
      this.previous.delete(key);
      this.refreshed(bucket, now);
    } else bucket = { tokens: this.limit.capacity, updatedMs: now };
    if (this.current.size >= this.generationSize) {
      this.previous = this.current;
      this.current = new Map();
    }
    this.current.set(key, bucket);
    return bucket;
  }

  private refreshed(bucket: Bucket, now: number): Bucket {
    const elapsed = Math.max(0, now - bucket.updatedMs) / 1000;
    bucket.tokens = Math.min(this.limit.capacity, bucket.tokens + elapsed * this.limit.refillPerSecond);
    bucket.updatedMs = now;
    return bucket;
  }
}
