/**
 * TIFF decoding off the service's event loop. utif2 decodes in plain JavaScript: one page near the
 * pixel limit takes seconds (a CCITT G4 one about five), and a TIFF's pages in a row minutes, during
 * which no other request of the process would be answered. Here a worker thread (tiffWorker.ts) reads
 * the file's directories (after checkDirectories in tiff.ts has bounded what utif2 may read), then
 * decodes one page a job: a job's time limit is a page's, and nothing needs cancelling when intake
 * stops early. The file crosses once, in shared memory.
 *
 * The samples are Flate-compressed in the worker as well rather than with zlib's asynchronous API on
 * this thread: the samples (up to 180 MB a page) need not cross, only the stream (a few MB), and libuv's few
 * threads stay free for the file store and the access-code hashing.
 *
 * A worker that dies (out of memory, a crash) or outlives the time limit fails its job with
 * `scan-decoder-failed`; the next job gets a fresh worker. Workers start with the first TIFF and stop
 * after a while idle: JPEG, PNG and PDF scans never touch them.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { AppError } from '../errors.ts';
import { StampError, type StampErrorCode } from './errors.ts';
import type { DecodedTiffPage, TiffIfd, TiffPageHeader } from './tiff.ts';

/** A TIFF file in memory the workers share (copied there once), with its pages' directories. */
export interface TiffFile {
  buffer: SharedArrayBuffer;
  ifds: TiffIfd[];
  headers: TiffPageHeader[];
}

/** A decoded page as it comes back: its samples Flate-compressed with zlib's defaults. */
export interface EncodedTiffPage extends Omit<DecodedTiffPage, 'samples'> {
  flate: Uint8Array;
}

type JobMessage =
  | { kind: 'read'; buffer: SharedArrayBuffer; label: string }
  | { kind: 'page'; buffer: SharedArrayBuffer; ifd: TiffIfd; header: TiffPageHeader; label: string };

export type TiffJob = JobMessage & { id: number };

export type TiffReply =
  | { id: number; read: Omit<TiffFile, 'buffer'> }
  | { id: number; page: EncodedTiffPage }
  | { id: number; error: { code?: StampErrorCode; message: string; details?: Record<string, unknown>; cause?: string } };

export interface TiffDecoderOptions {
  /** Worker threads: by default one fewer than the CPUs, at least one and at most two. */
  size?: number;
  /** A job still running after this long has its worker terminated (ms). */
  hardLimitMs?: number;
  /**
   * Heap limit of each worker (MB). Pixels are ArrayBuffers, outside the heap: this bounds what the
   * parsing of directories may take.
   */
  maxHeapMb?: number;
  /** A worker idle this long is stopped, and what it held freed (ms). */
  idleMs?: number;
}

interface Job {
  message: JobMessage;
  label: string;
  resolve: (reply: TiffReply) => void;
  reject: (err: unknown) => void;
}

interface Slot {
  worker: Worker | undefined;
  job: (Job & { id: number; timer: NodeJS.Timeout }) | undefined;
  idle: NodeJS.Timeout | undefined;
}

const WORKER_URL = new URL('./tiffWorker.mjs', import.meta.url);
const COPY_SLICE_BYTES = 4 * 1024 * 1024;

export class TiffDecoder {
  private readonly slots: Slot[];
  private readonly queue: Job[] = [];
  private readonly hardLimitMs: number;
  private readonly maxHeapMb: number;
  private readonly idleMs: number;
  private nextId = 1;

  constructor(opts: TiffDecoderOptions = {}) {
    const size = opts.size ?? Math.max(1, Math.min(2, availableParallelism() - 1));
    if (!(size >= 1)) throw new RangeError('a TIFF decoder needs at least one worker');
    this.slots = Array.from({ length: size }, () => ({ worker: undefined, job: undefined, idle: undefined }));
    this.hardLimitMs = opts.hardLimitMs ?? 60_000;
    this.maxHeapMb = opts.maxHeapMb ?? 512;
    this.idleMs = opts.idleMs ?? 60_000;
  }

  /** The file's image pages (readTiffPages, in a worker). */
  async read(bytes: Uint8Array, label: string): Promise<TiffFile> {
    // Copied a slice per turn of the event loop: the first touch of fresh memory makes a 100 MB copy
    // take some 50 ms, too long to hold everyone else up for.
    const buffer = new SharedArrayBuffer(bytes.length);
    const shared = new Uint8Array(buffer);
    for (let at = 0; at < bytes.length; at += COPY_SLICE_BYTES) {
      if (at > 0) await new Promise(setImmediate);
      shared.set(bytes.subarray(at, at + COPY_SLICE_BYTES), at);
    }
    const reply = await this.run({ kind: 'read', buffer, label }, label);
    if (!('read' in reply)) throw new Error('TIFF worker: unexpected reply');
    return { buffer, ...reply.read };
  }

  /** Page `index` of a file `read` gave: decodeTiffPage and deflate, in a worker. */
  async decodePage(file: TiffFile, index: number, label: string): Promise<EncodedTiffPage> {
    const ifd = file.ifds[index];
    const header = file.headers[index];
    if (!ifd || !header) throw new RangeError(`${label}: no page ${index + 1} in this TIFF`);
    const reply = await this.run({ kind: 'page', buffer: file.buffer, ifd, header, label }, label);
    if (!('page' in reply)) throw new Error('TIFF worker: unexpected reply');
    return reply.page;
  }

  /** Fails what is waiting or running and stops the workers. */
  async close(): Promise<void> {
    const closed = (label: string) => new AppError('scan-decoder-failed', `${label}: the TIFF decoder was shut down`, { status: 503, retryable: true });
    for (const job of this.queue.splice(0)) job.reject(closed(job.label));
    await Promise.all(this.slots.map((slot) => this.stop(slot, slot.job && closed(slot.job.label))));
  }

  private run(message: JobMessage, label: string): Promise<TiffReply> {
    return new Promise((resolve, reject) => {
      this.queue.push({ message, label, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      while (!slot.job && this.queue.length > 0) {
        const job = this.queue.shift()!;
        clearTimeout(slot.idle);
        let worker = slot.worker;
        try {
          worker ??= slot.worker = this.spawn(slot);
        } catch (err) {
          job.reject(new AppError('scan-decoder-failed', `${job.label}: the TIFF decoder cannot start: ${err instanceof Error ? err.message : String(err)}`, { status: 500 }));
          continue;
        }
        // While a job runs, the worker keeps the process alive: the command line awaits its answer.
        worker.ref();
        const id = this.nextId++;
        const timer = setTimeout(() => void this.stop(slot, lostError(job.label, `did not finish within ${this.hardLimitMs} ms`, 422)), this.hardLimitMs);
        slot.job = { ...job, id, timer };
        try {
          worker.postMessage({ ...job.message, id } satisfies TiffJob);
        } catch (err) {
          clearTimeout(timer);
          slot.job = undefined;
          job.reject(err);
        }
      }
    }
  }

  private spawn(slot: Slot): Worker {
    // tiffWorker.mjs registers tsx (the project runs TypeScript through it), then loads the worker.
    const worker = new Worker(WORKER_URL, { resourceLimits: { maxOldGenerationSizeMb: this.maxHeapMb } });
    worker.on('message', (reply: TiffReply) => this.answered(slot, reply));
    worker.on('error', (err: Error & { code?: string }) => {
      const outOfMemory = err.code === 'ERR_WORKER_OUT_OF_MEMORY';
      const reason = outOfMemory ? 'ran out of memory' : `failed (${err.message})`;
      if (slot.worker === worker) void this.stop(slot, slot.job && lostError(slot.job.label, reason, outOfMemory ? 422 : 500));
    });
    worker.on('exit', (code) => {
      if (slot.worker === worker) void this.stop(slot, slot.job && lostError(slot.job.label, `stopped (exit code ${code})`, 500));
    });
    return worker;
  }

  private answered(slot: Slot, reply: TiffReply): void {
    const job = slot.job;
    if (!job || reply.id !== job.id) return;
    clearTimeout(job.timer);
    slot.job = undefined;
    slot.worker?.unref();
    slot.idle = setTimeout(() => {
      if (!slot.job) void this.stop(slot);
    }, this.idleMs).unref();
    if ('error' in reply) job.reject(fromWorker(reply.error, job.label));
    else job.resolve(reply);
    this.dispatch();
  }

  /** Terminates the slot's worker; its job, if any, fails with `error`. The next job starts a new one. */
  private async stop(slot: Slot, error?: AppError): Promise<void> {
    clearTimeout(slot.idle);
    const { worker, job } = slot;
    slot.worker = undefined;
    slot.job = undefined;
    if (job) {
      clearTimeout(job.timer);
      job.reject(error ?? lostError(job.label, 'was stopped', 500));
    }
    this.dispatch();
    if (!worker) return;
    worker.removeAllListeners();
    worker.on('error', () => {}); // it may still report its end
    await worker.terminate();
  }
}

/**
 * 422 when the limits were reached (the time, the heap): the same file would reach them again, so it
 * is the file, as with validation-timeout. utif2 loops without end on some corrupt LZW data.
 */
function lostError(label: string, reason: string, status: 422 | 500): AppError {
  return new AppError('scan-decoder-failed', `${label}: the TIFF decoder ${reason}; the scan was not taken`, { status });
}

/** A refusal keeps its StampError code (and so its status); anything else is a decoder fault. */
function fromWorker(e: Extract<TiffReply, { error: unknown }>['error'], label: string): AppError {
  const cause = e.cause === undefined ? undefined : new Error(e.cause);
  if (e.code) return new StampError(e.code, e.message, { ...(e.details ? { details: e.details } : {}), ...(cause ? { cause } : {}) });
  return new AppError('scan-decoder-failed', `${label}: the TIFF decoder failed: ${e.message}`, { status: 500 });
}

/** The process's decoder, used by intake. */
export const sharedTiffDecoder = new TiffDecoder();
