import { describe, expect, it } from 'vitest';

import { ExpiringCache } from '../../../src/pki/index.ts';

describe('ExpiringCache', () => {
  it('serves an entry until its expiry instant only', () => {
    let now = 1_000;
    const cache = new ExpiringCache<string>(10, () => now);
    cache.set('a', 'A', 2_000);
    expect(cache.get('a')).toBe('A');
    now = 2_000;
    expect(cache.get('a')).toBeUndefined();
    cache.set('b', 'B', 1_500); // already expired: not stored
    expect(cache.size).toBe(0);
  });

  it('evicts the least recently used entry beyond its size', () => {
    const cache = new ExpiringCache<number>(2, () => 0);
    cache.set('a', 1, 10);
    cache.set('b', 2, 10);
    expect(cache.get('a')).toBe(1); // a is now the most recent
    cache.set('c', 3, 10);
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual([1, undefined, 3]);
  });

  it('shares one load among concurrent callers and does not keep failures', async () => {
    const cache = new ExpiringCache<number>(10, () => 0);
    let loads = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const load = async (): Promise<{ value: number; expiresAt: number }> => {
      loads++;
      await gate;
      return { value: loads, expiresAt: 100 };
    };
    const all = Promise.all([cache.getOrLoad('k', load), cache.getOrLoad('k', load), cache.getOrLoad('k', load)]);
    release();
    expect(await all).toEqual([1, 1, 1]);
    expect(loads).toBe(1);
    await expect(cache.getOrLoad('x', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(await cache.getOrLoad('x', async () => ({ value: 7, expiresAt: 100 }))).toBe(7);
  });
});
