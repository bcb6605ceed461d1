/**
 * Brute-force throttling of failed authentications, per client address: a token bucket of `burst`
 * failures refilled at `perMinute`. While a bucket is empty every request from that address that
 * presents credentials is answered 429 with Retry-After (RFC 6585 §4) before the key is even
 * looked at. In memory (per process); bounded so a flood of addresses cannot exhaust it. IPv6
 * clients count by their /64 (`limitKey`).
 */
import { limitKey } from './trustProxy.ts';

export interface ThrottleOptions {
  burst: number;
  perMinute: number;
  /** Most addresses tracked at once; full buckets are forgotten first. */
  maxTracked?: number;
  now?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class FailureThrottle {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;
  private readonly maxTracked: number;
  private readonly now: () => number;

  constructor(private readonly opts: ThrottleOptions) {
    this.perMs = opts.perMinute / 60_000;
    this.maxTracked = opts.maxTracked ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  private level(ip: string): Bucket {
    const now = this.now();
    const b = this.buckets.get(ip);
    if (!b) return { tokens: this.opts.burst, at: now };
    return { tokens: Math.min(this.opts.burst, b.tokens + (now - b.at) * this.perMs), at: now };
  }

  /** Seconds until `ip` may try again; 0 when it may now. */
  retryAfterSeconds(ip: string): number {
    const b = this.level(limitKey(ip));
    return b.tokens >= 1 ? 0 : Math.max(1, Math.ceil((1 - b.tokens) / this.perMs / 1000));
  }

  /** Counts one failed authentication from `ip`. */
  fail(address: string): void {
    const ip = limitKey(address);
    const b = this.level(ip);
    b.tokens = Math.max(0, b.tokens - 1);
    this.buckets.delete(ip);
    this.buckets.set(ip, b);
    if (this.buckets.size > this.maxTracked) this.evict();
  }

  private evict(): void {
    for (const [ip] of this.buckets) {
      if (this.level(ip).tokens >= this.opts.burst) this.buckets.delete(ip);
    }
    // Still too many: drop the least recently failed (Map keeps insertion order).
    for (const [ip] of this.buckets) {
      if (this.buckets.size <= this.maxTracked) break;
      this.buckets.delete(ip);
    }
  }
}
