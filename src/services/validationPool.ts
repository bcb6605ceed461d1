/**
 * Signature validation off the service's event loop: a small pool of worker threads, each running
 * validateDocument with its own trust anchors, policy and revocation client (src/services/
 * validationWorker.ts). A hostile or merely large PDF then costs a worker's time, not the QR lookups'
 * and signatures' of everyone else, and whatever kills a worker (memory exhaustion under its own
 * heap limit, a fatal engine error) kills that worker only: its job fails, a fresh worker takes its
 * place. A job that outlives `hardLimitMs` has its worker terminated the same way.
 */
import { Worker } from 'node:worker_threads';
import { AppError } from '../errors.ts';
import type { ValidateInput, ValidationReport } from '../pades/validation/index.ts';

/** What a worker needs to validate: plain data, as it crosses to another thread. */
export interface ValidationWorkerSettings {
  /** DER of each trust anchor. */
  trustAnchors: Uint8Array[];
  /** The policy as JSON (policyToJson). */
  policyJson: string;
  /** The change analysis's time limit (VALIDATION_TIMEOUT_MS). */
  timeoutMs: number;
  /** Online OCSP/CRL, when the policy fetches online. */
  revocation: { ocspUrl?: string | undefined; timeoutMs: number };
}

export interface ValidationPoolOptions extends ValidationWorkerSettings {
  /** Worker threads (VALIDATION_WORKERS). */
  size: number;
  /** A job still running after this long has its worker terminated (ms). */
  hardLimitMs: number;
  /** Heap limit of each worker (MB). */
  maxHeapMb?: number;
  /** Told when a worker had to be replaced. */
  onWorkerLost?: (reason: string) => void;
}

interface Job {
  input: ValidateInput;
  policyJson: string | undefined;
  now: number | undefined;
  hardLimitMs: number;
  resolve: (report: ValidationReport) => void;
  reject: (err: unknown) => void;
}

interface Slot {
  worker: Worker;
  job: (Job & { id: number; timer: NodeJS.Timeout }) | undefined;
  /** Between a lost worker and its replacement: no job is given to the slot. */
  starting: boolean;
  /** The worker has built its dependencies (it said so): losing it later is the job's doing, not a start failure. */
  ready: boolean;
}

type Reply =
  | { id: number; report: ValidationReport }
  | { id: number; error: { code?: string; message: string; status?: number; retryable?: boolean; details?: Record<string, unknown> } };

const WORKER_URL = new URL('./validationWorker.mjs', import.meta.url);

export class ValidationPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;
  /** Workers lost in a row before they were ready (for the respawn pause). */
  private failures = 0;
  /** Urgent jobs at the head of the queue (they keep their order among themselves). */
  private urgentWaiting = 0;
  /** Jobs answered by a worker (for tests and metrics). */
  completed = 0;

  constructor(private readonly opts: ValidationPoolOptions) {
    if (!(opts.size >= 1)) throw new RangeError('a validation pool needs at least one worker');
    for (let i = 0; i < opts.size; i++) this.slots.push({ worker: this.spawn(), job: undefined, starting: false, ready: false });
  }

  /**
   * `hardLimitMs`: this job's own limit instead of the pool's. `urgent`: the job goes ahead of those
   * waiting (the service's own stored copies, which a QR lookup waits for, before uploaded files).
   */
  validate(input: ValidateInput, options: { policyJson?: string; now?: Date; hardLimitMs?: number; urgent?: boolean } = {}): Promise<ValidationReport> {
    if (this.closed) return Promise.reject(new AppError('validation-unavailable', 'the validation workers are shut down', { status: 503, retryable: true }));
    return new Promise((resolve, reject) => {
      const job = { input, policyJson: options.policyJson, now: options.now?.getTime(), hardLimitMs: options.hardLimitMs ?? this.opts.hardLimitMs, resolve, reject };
      if (options.urgent) this.queue.splice(this.urgentWaiting++, 0, job);
      else this.queue.push(job);
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.urgentWaiting = 0;
    for (const job of this.queue.splice(0)) job.reject(new AppError('validation-unavailable', 'the validation workers are shutting down', { status: 503, retryable: true }));
    await Promise.all(
      this.slots.map(async (slot) => {
        if (slot.job) {
          clearTimeout(slot.job.timer);
          slot.job.reject(new AppError('validation-unavailable', 'the validation workers are shutting down', { status: 503, retryable: true }));
          slot.job = undefined;
        }
        await slot.worker.terminate();
      }),
    );
  }

  private spawn(): Worker {
    const { trustAnchors, policyJson, timeoutMs, revocation } = this.opts;
    // validationWorker.mjs registers tsx (the project runs TypeScript through it), then loads the worker.
    const worker = new Worker(WORKER_URL, {
      workerData: { trustAnchors, policyJson, timeoutMs, revocation } satisfies ValidationWorkerSettings,
      resourceLimits: { maxOldGenerationSizeMb: this.opts.maxHeapMb ?? 1024 },
    });
    worker.unref();
    worker.on('message', (reply: Reply | { ready: true }) => this.answered(worker, reply));
    worker.on('error', (err) => this.lost(worker, `the validation worker failed: ${err.message}`));
    worker.on('exit', (code) => this.lost(worker, `the validation worker exited (code ${code})`));
    return worker;
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.job || slot.starting || this.queue.length === 0) continue;
      const job = this.queue.shift()!;
      if (this.urgentWaiting > 0) this.urgentWaiting--;
      const id = this.nextId++;
      const timer = setTimeout(() => {
        // 422: the same file would take as long again; it is the document, not the service.
        this.replace(slot, new AppError('validation-timeout', `the validation did not end within ${job.hardLimitMs} ms`, { status: 422, retryable: false }));
      }, job.hardLimitMs);
      timer.unref();
      slot.job = { ...job, id, timer };
      slot.worker.postMessage({ id, input: job.input, policyJson: job.policyJson, now: job.now });
    }
  }

  private answered(worker: Worker, reply: Reply | { ready: true }): void {
    const slot = this.slots.find((s) => s.worker === worker);
    if (slot && 'ready' in reply) {
      slot.ready = true;
      this.failures = 0;
      return;
    }
    const job = slot?.job;
    if (!slot || !job || 'ready' in reply || job.id !== reply.id) return;
    clearTimeout(job.timer);
    slot.job = undefined;
    this.completed++;
    if ('report' in reply) job.resolve(reply.report);
    else if (reply.error.code !== undefined) job.reject(new AppError(reply.error.code, reply.error.message, { status: reply.error.status ?? 500, retryable: reply.error.retryable ?? false, details: reply.error.details }));
    // Anything else is a fault, reported as one without its message (paths, internals); the log gets it.
    else job.reject(new Error(`validation worker: ${reply.error.message}`));
    this.dispatch();
  }

  /** A worker that errored or exited: its job fails, a fresh worker takes its place. */
  private lost(worker: Worker, reason: string): void {
    const slot = this.slots.find((s) => s.worker === worker);
    if (!slot || slot.starting || this.closed) return;
    this.replace(slot, new AppError('validation-failed', `${reason}; the document could not be validated`, { status: 500 }));
  }

  /**
   * Fails the slot's job with `error`, terminates its worker and starts another: at once when the lost
   * worker was ready (the job killed it), else after a pause growing from 0.5 s to 30 s with each worker
   * lost before it was ready, so a worker that cannot even start is not respawned in a tight loop.
   * Jobs wait meanwhile.
   */
  private replace(slot: Slot, error: AppError): void {
    const job = slot.job;
    slot.job = undefined;
    slot.starting = true;
    if (job) {
      clearTimeout(job.timer);
      job.reject(error);
    }
    const old = slot.worker;
    old.removeAllListeners();
    old.on('error', () => {}); // the old worker may still report its end
    void old.terminate();
    const pauseMs = slot.ready ? 0 : Math.min(30_000, 500 * 2 ** this.failures);
    if (!slot.ready) this.failures++;
    slot.ready = false;
    this.opts.onWorkerLost?.(error.message);
    const restart = setTimeout(() => {
      if (this.closed) return;
      try {
        slot.worker = this.spawn();
        slot.starting = false;
        this.dispatch();
      } catch (err) {
        this.replace(slot, new AppError('validation-failed', `a validation worker cannot start: ${err instanceof Error ? err.message : String(err)}`, { status: 500 }));
      }
    }, pauseMs);
    restart.unref();
  }
}
