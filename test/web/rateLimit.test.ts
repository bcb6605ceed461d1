/** The per-client token buckets and the file-link tokens of the public pages, on an injected clock. */
import { describe, expect, it } from 'vitest';
import { TokenBuckets } from '../../src/http/routes/verification/rateLimit.ts';
import { FileTokens } from '../../src/http/routes/verification/accessToken.ts';

describe('TokenBuckets', () => {
  it('allows a burst of `capacity`, then refuses with the wait until the next token', () => {
    let now = 0;
    const b = new TokenBuckets({ capacity: 3, refillPerSecond: 0.5 }, 100, () => now);
    expect([b.take('a'), b.take('a'), b.take('a')].every((r) => r.ok)).toBe(true);
    expect(b.take('a')).toEqual({ ok: false, retryAfterSeconds: 2 });
    // Another client has its own bucket.
    expect(b.take('b').ok).toBe(true);
    now = 2000; // one token back after 2 s at 0.5/s
    expect(b.take('a').ok).toBe(true);
    expect(b.take('a').ok).toBe(false);
    now = 1_000_000; // refill never exceeds the capacity
    expect([b.take('a'), b.take('a'), b.take('a'), b.take('a')].map((r) => r.ok)).toEqual([true, true, true, false]);
  });

  it('forgets the least recently used clients beyond maxKeys (a forgotten client starts full)', () => {
    const b = new TokenBuckets({ capacity: 1, refillPerSecond: 0.001 }, 2, () => 0);
    expect(b.take('a').ok).toBe(true);
    expect(b.take('b').ok).toBe(true);
    expect(b.take('a').ok).toBe(false); // 'a' is now the most recently used
    expect(b.take('c').ok).toBe(true); // evicts 'b'
    expect(b.has('a')).toBe(false);
    expect(b.has('b')).toBe(true);
  });

  it('stays within maxKeys under a flood of new clients, and remembers a client while fewer than maxKeys / 2 others came', () => {
    const b = new TokenBuckets({ capacity: 1, refillPerSecond: 0.001 }, 100, () => 0);
    expect(b.take('198.51.100.7').ok).toBe(true);
    for (let i = 0; i < 49; i++) b.take(`10.0.0.${i}`);
    expect(b.take('198.51.100.7').ok).toBe(false); // still known, still empty
    for (let i = 0; i < 10_000; i++) b.take(`10.1.${i >> 8}.${i & 255}`);
    expect(b.size).toBeLessThanOrEqual(100);
    expect(b.size).toBeGreaterThanOrEqual(50);
    expect(b.take('198.51.100.7').ok).toBe(true); // forgotten long ago: starts full
  });

  it('rejects a bucket that could never allow a request', () => {
    expect(() => new TokenBuckets({ capacity: 0, refillPerSecond: 1 })).toThrow(RangeError);
    expect(() => new TokenBuckets({ capacity: 1, refillPerSecond: 0 })).toThrow(RangeError);
  });
});

describe('FileTokens', () => {
  const key = new Uint8Array(32).fill(7);
  it('accepts its own token for the same code until it expires', () => {
    let now = 1_000_000_000_000;
    const t = new FileTokens(key, 600, () => now);
    const token = t.issue('CODEA');
    expect(t.verify('CODEA', token)).toBe(true);
    expect(t.verify('CODEB', token)).toBe(false);
    now += 601_000;
    expect(t.verify('CODEA', token)).toBe(false);
  });

  it('refuses a token with a changed expiry or from another key', () => {
    const now = () => 1_000_000_000_000;
    const token = new FileTokens(key, 600, now).issue('CODEA');
    const [exp, mac] = token.split('.');
    expect(new FileTokens(key, 600, now).verify('CODEA', `${Number(exp) + 3600}.${mac}`)).toBe(false);
    expect(new FileTokens(new Uint8Array(32).fill(8), 600, now).verify('CODEA', token)).toBe(false);
    expect(new FileTokens(key, 600, now).verify('CODEA', 'garbage')).toBe(false);
    expect(() => new FileTokens(new Uint8Array(16), 600)).toThrow(RangeError);
  });
});
