import { describe, expect, it } from 'vitest';
import { HsmError, SessionPool } from '../../src/signers/index.ts';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('SessionPool', () => {
  it('never hands one session to two concurrent operations and serves waiters in order', async () => {
    const pool = new SessionPool(['a', 'b']);
    const busy = new Set<string>();
    let maxBusy = 0;
    const order: number[] = [];
    const jobs = Array.from({ length: 12 }, (_, i) =>
      pool.use(async (s) => {
        expect(busy.has(s)).toBe(false);
        busy.add(s);
        maxBusy = Math.max(maxBusy, busy.size);
        order.push(i);
        await tick();
        busy.delete(s);
        return s;
      }),
    );
    const used = await Promise.all(jobs);
    expect(maxBusy).toBe(2);
    expect(new Set(used)).toEqual(new Set(['a', 'b']));
    expect(order).toEqual([...order].sort((x, y) => x - y));
  });

  it('returns the session when the operation throws', async () => {
    const pool = new SessionPool(['only']);
    await expect(pool.use(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(pool.use((s) => s)).resolves.toBe('only');
  });

  it('drain waits for running and queued work, then refuses new work', async () => {
    const pool = new SessionPool(['only']);
    let finished = 0;
    const work = [1, 2, 3].map(() =>
      pool.use(async () => {
        await tick();
        finished++;
      }),
    );
    await pool.drain();
    expect(finished).toBe(3);
    await Promise.all(work);
    const err = await pool.use(() => 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HsmError);
    expect((err as HsmError).code).toBe('hsm-closed');
  });

  it('replace waits for running operations, holds new callers back, then serves them with the new sessions', async () => {
    const pool = new SessionPool(['a', 'b']);
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const running = pool.use(async (s) => {
      await gate;
      return s;
    });
    let swappedWith: readonly string[] | undefined;
    const replaced = pool.replace((old) => {
      swappedWith = old;
      return ['c', 'd'];
    });
    // Queued behind the pending replace although session "a" or "b" is idle.
    const queued = Array.from({ length: 4 }, () => pool.use((s) => s));
    await tick();
    expect(swappedWith).toBeUndefined();
    release();
    expect(await running).toMatch(/^[ab]$/);
    await replaced;
    expect(swappedWith).toEqual(['a', 'b']);
    expect(pool.all).toEqual(['c', 'd']);
    expect(new Set(await Promise.all(queued))).toEqual(new Set(['c', 'd']));
  });

  it('keeps the old sessions when the swap fails, and serves the callers queued meanwhile', async () => {
    const pool = new SessionPool(['a']);
    const failed = pool.replace(() => {
      throw new HsmError('hsm-unavailable', 'HSM still down');
    });
    const queued = pool.use((s) => s);
    await expect(failed).rejects.toMatchObject({ code: 'hsm-unavailable' });
    await expect(queued).resolves.toBe('a');
    expect(pool.all).toEqual(['a']);
    await expect(pool.replace(() => ['x', 'y'])).rejects.toMatchObject({ code: 'hsm-failure' });
    expect(pool.all).toEqual(['a']);
  });
});
