/**
 * A fixed set of PKCS#11 sessions handed out one operation at a time. PKCS#11 v2.40 §5.6 allows one
 * active cryptographic operation per session, so a session is never shared by two concurrent calls;
 * callers beyond the pool size wait in FIFO order.
 *
 * `replace` swaps the whole set (after an HSM restart or a lost login): it stops handing out sessions,
 * waits until every session is back, runs the swap with exclusive use of all of them, then serves the
 * callers that queued meanwhile with the new sessions. No session is ever closed under an operation.
 */
import { HsmError } from './errors.ts';

interface Waiter<S> {
  resolve(session: S): void;
  reject(err: Error): void;
}

export class SessionPool<S> {
  private sessions: readonly S[];
  private idle: S[];
  private readonly waiters: Waiter<S>[] = [];
  /** Operations admitted and not finished: running ones and queued ones. */
  private inFlight = 0;
  private closed = false;
  private drained: (() => void) | undefined;
  /** A replace is pending or running: sessions go back to `idle`, nobody is served. */
  private swapping = false;
  private swapReady: (() => void) | undefined;

  constructor(sessions: readonly S[]) {
    if (sessions.length === 0) throw new HsmError('hsm-failure', 'a session pool needs at least one session');
    this.sessions = [...sessions];
    this.idle = [...sessions];
  }

  get size(): number {
    return this.sessions.length;
  }

  /** The current sessions (a snapshot: `replace` installs a new array). */
  get all(): readonly S[] {
    return this.sessions;
  }

  /** Run `fn` with exclusive use of one session. */
  async use<T>(fn: (session: S) => Promise<T> | T): Promise<T> {
    const session = await this.acquire();
    try {
      return await fn(session);
    } finally {
      this.release(session);
    }
  }

  private acquire(): Promise<S> {
    if (this.closed) return Promise.reject(new HsmError('hsm-closed', 'the HSM token has been closed'));
    this.inFlight++;
    if (!this.swapping) {
      const s = this.idle.pop();
      if (s !== undefined) return Promise.resolve(s);
    }
    return new Promise<S>((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private release(session: S): void {
    this.inFlight--;
    if (!this.swapping) {
      const next = this.waiters.shift();
      if (next) {
        next.resolve(session);
        return;
      }
    }
    this.idle.push(session);
    if (this.swapping && this.idle.length === this.sessions.length) this.swapReady?.();
    if (this.inFlight === 0 && this.drained) this.drained();
  }

  /**
   * Replace every session: wait until all are idle, then call `swap` with the current ones; what it
   * returns (same count) becomes the pool. If `swap` throws, the old sessions stay. One replace at a time.
   */
  async replace(swap: (current: readonly S[]) => Promise<readonly S[]> | readonly S[]): Promise<void> {
    if (this.swapping) throw new HsmError('hsm-failure', 'a session pool replacement is already running');
    this.swapping = true;
    try {
      if (this.idle.length < this.sessions.length) {
        await new Promise<void>((resolve) => {
          this.swapReady = resolve;
        });
      }
      this.swapReady = undefined;
      const next = await swap(this.sessions);
      if (next.length !== this.sessions.length) {
        throw new HsmError('hsm-failure', `a session pool replacement must keep ${this.sessions.length} sessions, got ${next.length}`);
      }
      this.sessions = [...next];
      this.idle = [...next];
    } finally {
      this.swapReady = undefined;
      this.swapping = false;
      // Callers that queued during the swap get the (new) sessions, in order.
      while (this.waiters.length > 0 && this.idle.length > 0) {
        const waiter = this.waiters.shift() as Waiter<S>;
        waiter.resolve(this.idle.pop() as S);
      }
    }
  }

  /**
   * Refuse new work and wait for work already admitted (running or queued) to finish, so that close
   * never pulls a session from under an operation.
   */
  async drain(): Promise<void> {
    this.closed = true;
    if (this.inFlight === 0) return;
    await new Promise<void>((resolve) => {
      this.drained = resolve;
    });
  }
}
