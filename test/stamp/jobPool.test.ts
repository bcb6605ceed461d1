/**
 * The decoders' job pool (src/stamp/jobPool.ts) with runners the test drives: a job whose caller's
 * signal is aborted (its request went away) leaves the queue at once, failed with request-aborted and
 * never sent to a runner; the other jobs are answered in order; a job already running is left to finish,
 * and a job asked for with a signal already aborted is not queued at all.
 */
import { getEventListeners } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.ts';
import { JobPool, type Runner, type RunnerEvents } from '../../src/stamp/jobPool.ts';

/** A pool of one runner that records what it is sent; the test answers each job by its message. */
class ManualPool extends JobPool<string, string, Runner<string>> {
  readonly sent: string[] = [];
  private readonly ids = new Map<string, number>();
  private events: RunnerEvents<string> | undefined;

  constructor(maxWaiting?: number) {
    super({ size: 1, hardLimitMs: 600_000, idleMs: 600_000, decoder: 'test decoder', maxWaiting });
  }

  job(message: string, signal?: AbortSignal): Promise<string> {
    return this.run(message, message, signal);
  }

  answer(message: string): void {
    const id = this.ids.get(message);
    if (id === undefined) throw new Error(`${message} was never sent`);
    this.events!.answer(id, { value: `answer to ${message}` });
  }

  protected start(events: RunnerEvents<string>): Runner<string> {
    this.events = events;
    return {
      ready: true,
      send: (message, id) => {
        this.sent.push(message);
        this.ids.set(message, id);
      },
      hold: () => undefined,
      stop: () => Promise.resolve(),
    };
  }
}

/** A promise's state as the test looks at it, without waiting for it. */
function watch(p: Promise<string>): { state: 'pending' | 'resolved' | 'rejected'; value?: string; error?: unknown } {
  const w: { state: 'pending' | 'resolved' | 'rejected'; value?: string; error?: unknown } = { state: 'pending' };
  p.then(
    (value) => Object.assign(w, { state: 'resolved', value }),
    (error: unknown) => Object.assign(w, { state: 'rejected', error }),
  );
  return w;
}

/** Lets settled promises run their callbacks. */
const settle = () => new Promise((r) => setImmediate(r));

let pool: ManualPool;
afterEach(async () => {
  await pool?.close();
});

describe('a request that goes away takes its queued jobs with it', () => {
  it('its waiting jobs are rejected at once with request-aborted and never reach a runner; the others are answered', async () => {
    pool = new ManualPool();
    const gone = new AbortController();
    const running = watch(pool.job('a')); // someone else's, on the runner
    const b = watch(pool.job('b page 1', gone.signal));
    const c = watch(pool.job('c'));
    const d = watch(pool.job('b page 2', gone.signal));
    expect(pool.sent).toEqual(['a']);
    expect(pool.waiting).toBe(3);

    gone.abort();
    // Out of the queue with the abort itself, while the runner is still busy with 'a'.
    expect(pool.waiting).toBe(1);
    await settle();
    for (const w of [b, d]) {
      expect(w.state).toBe('rejected');
      expect(w.error).toBeInstanceOf(AppError);
      expect(w.error).toMatchObject({ code: 'request-aborted', status: 400 });
    }
    expect((b.error as Error).message).toBe('b page 1: the request went away before the test decoder took it; not decoded');
    expect([running.state, c.state]).toEqual(['pending', 'pending']);

    pool.answer('a');
    await settle();
    expect(running).toMatchObject({ state: 'resolved', value: 'answer to a' });
    expect(pool.sent).toEqual(['a', 'c']);
    pool.answer('c');
    await settle();
    expect(c).toMatchObject({ state: 'resolved', value: 'answer to c' });
    expect(pool.sent).toEqual(['a', 'c']);
    expect(pool.waiting).toBe(0);
  });

  it('a job already running is left to finish; the next one with that signal is refused without being queued', async () => {
    pool = new ManualPool(1);
    const gone = new AbortController();
    const page1 = watch(pool.job('page 1', gone.signal));
    const other = watch(pool.job('other'));
    expect(pool.sent).toEqual(['page 1']);

    gone.abort();
    await settle();
    expect(page1.state).toBe('pending');
    expect(pool.waiting).toBe(1);
    // Refused as request-aborted, not server-busy, although the one place in the queue is taken.
    await expect(pool.job('page 2', gone.signal)).rejects.toMatchObject({ code: 'request-aborted', status: 400 });
    expect(pool.waiting).toBe(1);

    pool.answer('page 1');
    await settle();
    expect(page1).toMatchObject({ state: 'resolved', value: 'answer to page 1' });
    pool.answer('other');
    await settle();
    expect(other).toMatchObject({ state: 'resolved', value: 'answer to other' });
    expect(pool.sent).toEqual(['page 1', 'other']);
  });

  it("a job that leaves the queue stops listening to its signal (a request's signal serves all its pages)", async () => {
    pool = new ManualPool();
    const request = new AbortController();
    const busy = watch(pool.job('busy'));
    const pages = ['page 1', 'page 2', 'page 3'].map((m) => watch(pool.job(m, request.signal)));
    expect(getEventListeners(request.signal, 'abort')).toHaveLength(3);
    pool.answer('busy');
    await settle();
    expect(busy.state).toBe('resolved');
    // 'page 1' is on the runner now: only the two still waiting listen.
    expect(getEventListeners(request.signal, 'abort')).toHaveLength(2);
    for (const m of ['page 1', 'page 2', 'page 3']) {
      pool.answer(m);
      await settle();
    }
    expect(pages.map((w) => w.state)).toEqual(['resolved', 'resolved', 'resolved']);
    expect(getEventListeners(request.signal, 'abort')).toHaveLength(0);
  });
});
