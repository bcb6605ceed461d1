/**
 * Admission control for one kind of work: at most `max` in flight at once; beyond that, callers are
 * told to come back later (503 with Retry-After) instead of queueing without bound. Anonymous
 * validations of uploaded files use it: each holds an upload of up to UPLOAD_LIMIT_BYTES on disk and
 * a place in the validation workers' queue while it waits, so per-client rate limits alone (many
 * clients) would not bound either.
 */
import { HttpError } from './problem.ts';

export class Admission {
  private inFlight = 0;

  constructor(
    readonly max: number,
    private readonly what: string,
    private readonly retryAfterSeconds = 10,
  ) {
    if (!(max >= 1)) throw new RangeError('admission needs room for at least one');
  }

  get active(): number {
    return this.inFlight;
  }

  /**
   * A place, released by calling the function returned (once; later calls do nothing). Full:
   * throws 503 `server-busy`, with `retryAfterSeconds` for the caller's Retry-After header.
   */
  enter(): () => void {
    if (this.inFlight >= this.max) {
      throw new HttpError('server-busy', `${this.max} ${this.what} are already running; retry in ${this.retryAfterSeconds} s`, {
        status: 503,
        retryable: true,
        details: { retryAfterSeconds: this.retryAfterSeconds },
      });
    }
    this.inFlight++;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.inFlight--;
    };
  }
}

/** Anonymous validations of uploaded files (POST /report, POST /v/{code}/validation) at once, per process. */
export const DEFAULT_PUBLIC_VALIDATIONS = 4;
