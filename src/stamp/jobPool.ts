/**
 * Decoders away from the service's event loop (TIFF in worker threads, tiffDecoder.ts; PDF and PNG in
 * child processes, scanReader.ts) share this pool: jobs wait in one queue and each runner takes one at
 * a time under a time limit. A runner that is lost (out of memory, a crash, past the time limit) fails
 * its own job with `scan-decoder-failed` and the next job gets a new one; a runner idle for a while is
 * stopped, and what it held freed. A job whose caller's signal is aborted (its request went away) leaves
 * the queue at once; one already running is left to finish.
 */
import { AppError } from '../errors.ts';
import { abortedJobError, jobError, lostJobError, type JobErrorFields } from './jobErrors.ts';

/** A worker thread or child process, as the pool drives it. */
export interface Runner<M> {
  /** Ready for its job's clock to start (a child process loads its modules first). */
  readonly ready: boolean;
  send(message: M, id: number): void;
  /** Whether it keeps the process alive: it does while a job runs (the command line awaits the answer). */
  hold(on: boolean): void;
  stop(): Promise<void>;
}

/** What a runner reports; reports of a runner the pool has since let go are ignored. */
export interface RunnerEvents<A> {
  ready(): void;
  answer(id: number, answer: { value: A } | { error: JobErrorFields }): void;
  /** 422 when a limit was reached (the heap), 500 otherwise. */
  lost(reason: string, status: 422 | 500): void;
}

export interface JobPoolOptions {
  size: number;
  /** A job still running this long after its runner was ready has the runner stopped (ms). */
  hardLimitMs: number;
  /** A runner idle this long is stopped (ms). */
  idleMs: number;
  /** Names the runners in messages: "TIFF decoder", "scan reader". */
  decoder: string;
  /**
   * Jobs that may wait for a runner (default MAX_WAITING); one more is refused at once with 503
   * `server-busy` rather than queued behind minutes of others' pages (each may take the time limit).
   */
  maxWaiting?: number;
}

/** Jobs waiting for a runner by default: each is one certification's file or page, at most one per request at a time. */
export const MAX_WAITING = 32;
const BUSY_RETRY_SECONDS = 30;

interface Job<M, A> {
  message: M;
  label: string;
  resolve: (answer: A) => void;
  reject: (err: unknown) => void;
  /** Stops listening to the caller's signal: called once the job leaves the queue. */
  detach?: () => void;
}

interface Slot<M, A, R> {
  runner: R | undefined;
  job: (Job<M, A> & { id: number; timer?: NodeJS.Timeout }) | undefined;
  idle: NodeJS.Timeout | undefined;
}

export abstract class JobPool<M, A, R extends Runner<M>> {
  private readonly slots: Array<Slot<M, A, R>>;
  private readonly queue: Array<Job<M, A>> = [];
  private nextId = 1;

  constructor(private readonly pool: JobPoolOptions) {
    if (!(pool.size >= 1)) throw new RangeError(`a ${pool.decoder} needs at least one runner`);
    this.slots = Array.from({ length: pool.size }, () => ({ runner: undefined, job: undefined, idle: undefined }));
  }

  /** Starts a runner that reports to `events`. */
  protected abstract start(events: RunnerEvents<A>): R;

  /** Jobs waiting for a runner (not those running). */
  get waiting(): number {
    return this.queue.length;
  }

  /**
   * `signal`: the caller's (its HTTP request's). Aborted, the job leaves the queue at once and fails with
   * `request-aborted`, never sent; already aborted, it is not queued at all. A job already running is
   * left to finish (within its time limit): its runner is shared (a TIFF worker, the scan reader's
   * child), and stopping it would make the next job, someone else's, wait for a new one. The caller sends
   * no further job instead.
   */
  protected run(message: M, label: string, signal?: AbortSignal): Promise<A> {
    if (signal?.aborted) return Promise.reject(abortedJobError(label, this.pool.decoder));
    const max = this.pool.maxWaiting ?? MAX_WAITING;
    if (this.queue.length >= max) {
      return Promise.reject(
        new AppError('server-busy', `${label}: ${max} scans are already waiting for the ${this.pool.decoder}; retry in ${BUSY_RETRY_SECONDS} s`, {
          status: 503,
          retryable: true,
          details: { retryAfterSeconds: BUSY_RETRY_SECONDS },
        }),
      );
    }
    return new Promise((resolve, reject) => {
      const job: Job<M, A> = { message, label, resolve, reject };
      if (signal) {
        const drop = () => {
          const at = this.queue.indexOf(job);
          if (at < 0) return;
          this.queue.splice(at, 1);
          reject(abortedJobError(label, this.pool.decoder));
        };
        signal.addEventListener('abort', drop, { once: true });
        // A request's signal outlives its jobs: each takes its listener away once it leaves the queue.
        job.detach = () => signal.removeEventListener('abort', drop);
      }
      this.queue.push(job);
      this.dispatch();
    });
  }

  /** Fails what is waiting or running and stops the runners. */
  async close(): Promise<void> {
    const closed = (label: string) => new AppError('scan-decoder-failed', `${label}: the ${this.pool.decoder} was shut down`, { status: 503, retryable: true });
    for (const job of this.queue.splice(0)) {
      job.detach?.();
      job.reject(closed(job.label));
    }
    await Promise.all(this.slots.map((slot) => this.stop(slot, slot.job && closed(slot.job.label))));
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      while (!slot.job && this.queue.length > 0) {
        const job = this.queue.shift()!;
        job.detach?.();
        clearTimeout(slot.idle);
        let runner = slot.runner;
        try {
          runner ??= slot.runner = this.launch(slot);
        } catch (err) {
          job.reject(new AppError('scan-decoder-failed', `${job.label}: the ${this.pool.decoder} cannot start: ${err instanceof Error ? err.message : String(err)}`, { status: 500 }));
          continue;
        }
        runner.hold(true);
        const id = this.nextId++;
        slot.job = { ...job, id };
        if (runner.ready) this.startClock(slot);
        try {
          runner.send(job.message, id);
        } catch (err) {
          clearTimeout(slot.job.timer);
          slot.job = undefined;
          runner.hold(false);
          job.reject(err);
        }
      }
    }
  }

  private launch(slot: Slot<M, A, R>): R {
    let runner: R | undefined = undefined;
    const current = () => runner !== undefined && slot.runner === runner;
    runner = this.start({
      ready: () => {
        if (current() && slot.job && !slot.job.timer) this.startClock(slot);
      },
      answer: (id, answer) => {
        if (current()) this.answered(slot, id, answer);
      },
      lost: (reason, status) => {
        if (current()) void this.stop(slot, slot.job && lostJobError(slot.job.label, this.pool.decoder, reason, status));
      },
    });
    return runner;
  }

  private startClock(slot: Slot<M, A, R>): void {
    const job = slot.job!;
    const { hardLimitMs, decoder } = this.pool;
    job.timer = setTimeout(() => void this.stop(slot, lostJobError(job.label, decoder, `did not finish within ${hardLimitMs} ms`, 422)), hardLimitMs);
  }

  private answered(slot: Slot<M, A, R>, id: number, answer: { value: A } | { error: JobErrorFields }): void {
    const job = slot.job;
    if (!job || id !== job.id) return;
    clearTimeout(job.timer);
    slot.job = undefined;
    slot.runner?.hold(false);
    slot.idle = setTimeout(() => {
      if (!slot.job) void this.stop(slot);
    }, this.pool.idleMs).unref();
    if ('error' in answer) job.reject(jobError(answer.error, job.label, this.pool.decoder));
    else job.resolve(answer.value);
    this.dispatch();
  }

  /** Stops the slot's runner; its job, if any, fails with `error`. The next job starts a new one. */
  private stop(slot: Slot<M, A, R>, error?: AppError): Promise<void> {
    clearTimeout(slot.idle);
    const { runner, job } = slot;
    slot.runner = undefined;
    slot.job = undefined;
    if (job) {
      clearTimeout(job.timer);
      job.reject(error ?? lostJobError(job.label, this.pool.decoder, 'was stopped', 500));
    }
    this.dispatch();
    return runner ? runner.stop() : Promise.resolve();
  }
}
