/**
 * A fixed set of PKCS#11 sessions handed out one operation at a time. PKCS#11 v2.40 §5.6 allows one
 * active cryptographic operation per session, so a session is never shared by two concurrent calls;
 * callers beyond the pool size wait in FIFO order.
 */
import { HsmError } from './errors.ts';

interface Waiter<S> {
  resolve(session: S): void;
  reject(err: Error): void;
}

export class SessionPool<S> {
  private readonly idle: S[];
  private readonly waiters: Waiter<S>[] = [];
  private inFlight = 0;
  private closed = false;
  private drained: (() => void) | undefined;

  constructor(private readonly sessions: readonly S[]) {
    this.idle = [...sessions];
  }

  get size(): number {
    return this.sessions.length;
  }

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
    const s = this.idle.pop();
    if (s !== undefined) return Promise.resolve(s);
    return new Promise<S>((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private release(session: S): void {
    this.inFlight--;
    const next = this.waiters.shift();
    if (next) {
      next.resolve(session);
      return;
    }
    this.idle.push(session);
    if (this.inFlight === 0 && this.drained) this.drained();
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
