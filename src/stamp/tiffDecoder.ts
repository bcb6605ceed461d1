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
import type { JobErrorFields } from './jobErrors.ts';
import { JobPool, type Runner, type RunnerEvents } from './jobPool.ts';
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
  | { id: number; error: JobErrorFields };

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
  /** Jobs that may wait for a worker (jobPool.ts MAX_WAITING). */
  maxWaiting?: number;
}

type TiffAnswer = Exclude<TiffReply, { error: unknown }>;

const WORKER_URL = new URL('./tiffWorker.mjs', import.meta.url);
const COPY_SLICE_BYTES = 4 * 1024 * 1024;

export class TiffDecoder extends JobPool<JobMessage, TiffAnswer, Runner<JobMessage>> {
  private readonly maxHeapMb: number;

  constructor(opts: TiffDecoderOptions = {}) {
    super({
      size: opts.size ?? Math.max(1, Math.min(2, availableParallelism() - 1)),
      hardLimitMs: opts.hardLimitMs ?? 60_000,
      idleMs: opts.idleMs ?? 60_000,
      decoder: 'TIFF decoder',
      maxWaiting: opts.maxWaiting,
    });
    this.maxHeapMb = opts.maxHeapMb ?? 512;
  }

  /** The file's image pages (readTiffPages, in a worker); `signal` as in JobPool.run. */
  async read(bytes: Uint8Array, label: string, signal?: AbortSignal): Promise<TiffFile> {
    // Copied a slice per turn of the event loop: the first touch of fresh memory makes a 100 MB copy
    // take some 50 ms, too long to hold everyone else up for.
    const buffer = new SharedArrayBuffer(bytes.length);
    const shared = new Uint8Array(buffer);
    for (let at = 0; at < bytes.length; at += COPY_SLICE_BYTES) {
      if (at > 0) await new Promise(setImmediate);
      shared.set(bytes.subarray(at, at + COPY_SLICE_BYTES), at);
    }
    const reply = await this.run({ kind: 'read', buffer, label }, label, signal);
    if (!('read' in reply)) throw new Error('TIFF worker: unexpected reply');
    return { buffer, ...reply.read };
  }

  /** Page `index` of a file `read` gave: decodeTiffPage and deflate, in a worker; `signal` as in JobPool.run. */
  async decodePage(file: TiffFile, index: number, label: string, signal?: AbortSignal): Promise<EncodedTiffPage> {
    const ifd = file.ifds[index];
    const header = file.headers[index];
    if (!ifd || !header) throw new RangeError(`${label}: no page ${index + 1} in this TIFF`);
    const reply = await this.run({ kind: 'page', buffer: file.buffer, ifd, header, label }, label, signal);
    if (!('page' in reply)) throw new Error('TIFF worker: unexpected reply');
    return reply.page;
  }

  protected start(events: RunnerEvents<TiffAnswer>): Runner<JobMessage> {
    // tiffWorker.mjs registers tsx (the project runs TypeScript through it), then loads the worker.
    const worker = new Worker(WORKER_URL, { resourceLimits: { maxOldGenerationSizeMb: this.maxHeapMb } });
    worker.on('message', (reply: TiffReply) => events.answer(reply.id, 'error' in reply ? { error: reply.error } : { value: reply }));
    worker.on('error', (err: Error & { code?: string }) => {
      const outOfMemory = err.code === 'ERR_WORKER_OUT_OF_MEMORY';
      events.lost(outOfMemory ? 'ran out of memory' : `failed (${err.message})`, outOfMemory ? 422 : 500);
    });
    worker.on('exit', (code) => events.lost(`stopped (exit code ${code})`, 500));
    return {
      ready: true,
      send: (message, id) => worker.postMessage({ ...message, id } satisfies TiffJob),
      hold: (on) => (on ? worker.ref() : worker.unref()),
      stop: async () => {
        await worker.terminate();
      },
    };
  }
}

/** The process's decoder, used by intake. */
export const sharedTiffDecoder = new TiffDecoder();
