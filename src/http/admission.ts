/**
 * Admission control for one kind of work: at most `max` in flight at once; beyond that, callers are
 * told to come back later (503 with Retry-After) instead of queueing without bound. Anonymous
 * validations of uploaded files use it: each holds an upload of up to UPLOAD_LIMIT_BYTES on disk and
 * a place in the validation workers' queue while it waits, so per-client rate limits alone (many
 * clients) would not bound either. Each client holds one place at most, so that one client's slow
 * uploads cannot take them all.
 */
import { limitKey } from './access/trustProxy.ts';
import { HttpError } from './problem.ts';

export class Admission {
  private inFlight = 0;
  /** Places held per client (its address, an IPv6 client by its /64). */
  private readonly byClient = new Map<string, number>();

  constructor(
    readonly max: number,
    private readonly what: string,
    /** Places one client may hold at once: one client alone cannot take them all (slow uploads). */
    readonly perClient = 1,
    private readonly retryAfterSeconds = 10,
  ) {
    if (!(max >= 1) || !(perClient >= 1)) throw new RangeError('admission needs room for at least one');
  }

  get active(): number {
    return this.inFlight;
  }

  /**
   * A place for `client`, released by calling the function returned (once; later calls do nothing).
   * Full: throws 503 `server-busy`; the client holding its share already: 429 `rate-limited`; both
   * with `retryAfterSeconds` (the caller's Retry-After header follows it).
   */
  enter(client: string): () => void {
    const key = limitKey(client);
    const held = this.byClient.get(key) ?? 0;
    const details = { retryAfterSeconds: this.retryAfterSeconds };
    if (held >= this.perClient) {
      throw new HttpError('rate-limited', `you already have ${held} of the ${this.what} running; retry when it has ended`, { status: 429, retryable: true, details });
    }
    if (this.inFlight >= this.max) {
      throw new HttpError('server-busy', `${this.max} ${this.what} are already running; retry in ${this.retryAfterSeconds} s`, { status: 503, retryable: true, details });
    }
    this.inFlight++;
    this.byClient.set(key, held + 1);
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.inFlight--;
      const n = (this.byClient.get(key) ?? 1) - 1;
      if (n > 0) this.byClient.set(key, n);
      else this.byClient.delete(key);
    };
  }
}

/** Anonymous validations of uploaded files (POST /report, POST /v/{code}/validation) at once, per process. */
export const DEFAULT_PUBLIC_VALIDATIONS = 4;
