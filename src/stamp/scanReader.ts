/**
 * PDF and PNG scans are read in a child process, off the service's event loop and out of its heap.
 * pdf-lib parses every object of a PDF, whether a page uses it or not, and has no limits of its own: a
 * scan of 89 MB of empty arrays held the event loop 30 s and took 3.6 GB of the service's heap, and a
 * slightly larger one would end the service with a fatal out-of-memory. A PNG near the pixel limit is
 * inflated and deflated again in JavaScript, 5 s during which no other request is answered.
 *
 * A child process, not a worker thread: V8 aborts the whole process on some allocation failures in a
 * worker (nodejs/node#47224), while a child that exhausts its own heap (`--max-old-space-size`) ends
 * alone. The child (scanChild.ts) gets the file and answers with what intake merges: a PDF's pages as
 * a PDF of just those pages, annotations drawn in (intake copies them as it copies any PDF's pages),
 * and a PNG's pixels deflated as pdf-lib stores them. A PDF answer is parsed again here, so the child
 * refuses one that reaches more values than a budget: a bomb in a page's resources survives the copy.
 * Files and answers cross plain pipes in frames (frames.ts), neither serialised nor copied in one
 * piece.
 *
 * A child that dies, runs out of memory or outlives the time limit fails its job with
 * `scan-decoder-failed` (422 at a limit, 500 otherwise); the next job gets a new child. Children start
 * with the first PDF or PNG and stop after a while idle; JPEG and TIFF scans never touch them.
 */
import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { FrameReader, writeFrame, type Frame } from './frames.ts';
import type { JobErrorFields } from './jobErrors.ts';
import { JobPool, type Runner, type RunnerEvents } from './jobPool.ts';
import type { DeflatedPng, PageLimits } from './scanPages.ts';

export interface ScanJobLimits extends PageLimits {
  /** The scan's pages before this file's. */
  pagesSoFar: number;
  /** Most values (see ScanReaderOptions) the PDF of a PDF scan's pages may hold. */
  maxValues: number;
  /** Most bytes of distinct names that PDF may hold. */
  maxNameBytes: number;
}

/** A job's header; the file is the frame's one part. */
export interface ScanJob {
  id: number;
  kind: 'pdf' | 'png';
  label: string;
  limits: ScanJobLimits;
}

/** An answer's header: a PDF answer has the pages' PDF as its part, a PNG answer its samples, then its alpha channel if it has one. */
export type ScanAnswer =
  | { ready: true }
  | { id: number; pdf: { pages: number } }
  | { id: number; png: Omit<DeflatedPng, 'rgb' | 'alpha'> }
  | { id: number; error: JobErrorFields };

export interface ScanReaderOptions {
  /** Child processes. */
  size?: number;
  /** A job still running this long (from when its child is ready) has the child killed (ms). */
  hardLimitMs?: number;
  /**
   * Heap limit of each child (MB). Pixels and stream bytes are outside it: a 100 MB scan PDF or a
   * 60 Mpx PNG needs some 15 MB of heap. What fills it is values; at 256 MB a file of empty arrays is
   * refused after some 3 s (at 1 GB, 17 s of parsing and collecting garbage).
   */
  maxHeapMb?: number;
  /** A child idle this long is stopped (ms). */
  idleMs?: number;
  /** Jobs that may wait for the child (jobPool.ts MAX_WAITING). */
  maxWaiting?: number;
  /**
   * Most values (numbers, names, strings, references, arrays, dictionaries and their entries) in the
   * PDF a PDF scan's pages come back as: it is parsed and copied on the service's thread. 300 000 cost
   * some 0.2 s and 70 MB there at worst; a 36-page text document holds 5 000, a scanner's page a few dozen.
   */
  maxValues?: number;
  /** Most bytes of distinct names in that PDF: pdf-lib keeps every name it has seen for the life of the process. */
  maxNameBytes?: number;
}

/** A job as the pool queues it: the header without its id, and the file. */
interface Job {
  header: Omit<ScanJob, 'id'>;
  bytes: Uint8Array;
}

const CHILD_PATH = fileURLToPath(new URL('./scanChild.mjs', import.meta.url));
/** Loading tsx and pdf-lib takes some 0.6 s. */
const START_LIMIT_MS = 30_000;
const STDERR_TAIL = 4096;

export class ScanReader extends JobPool<Job, Frame, Runner<Job>> {
  private readonly maxHeapMb: number;
  private readonly maxValues: number;
  private readonly maxNameBytes: number;

  constructor(opts: ScanReaderOptions = {}) {
    super({ size: opts.size ?? 1, hardLimitMs: opts.hardLimitMs ?? 60_000, idleMs: opts.idleMs ?? 60_000, decoder: 'scan reader', maxWaiting: opts.maxWaiting });
    this.maxHeapMb = opts.maxHeapMb ?? 256;
    this.maxValues = opts.maxValues ?? 300_000;
    this.maxNameBytes = opts.maxNameBytes ?? 128 * 1024;
  }

  /** A PDF scan's pages (copyPdfPages, in a child): a PDF of just those pages, and how many there are. `signal` as in JobPool.run. */
  async pdf(bytes: Uint8Array, label: string, lim: PageLimits, pagesSoFar: number, signal?: AbortSignal): Promise<{ pdf: Uint8Array; pages: number }> {
    const { header, parts } = await this.read('pdf', bytes, label, lim, pagesSoFar, signal);
    const answer = header as Partial<Extract<ScanAnswer, { pdf: unknown }>>;
    if (!answer.pdf || parts.length !== 1) throw new Error('scan reader: unexpected answer');
    return { pdf: parts[0]!, pages: answer.pdf.pages };
  }

  /** A PNG scan's image (embedPngPage, in a child), as addPngPage draws it. `signal` as in JobPool.run. */
  async png(bytes: Uint8Array, label: string, lim: PageLimits, pagesSoFar: number, signal?: AbortSignal): Promise<DeflatedPng> {
    const { header, parts } = await this.read('png', bytes, label, lim, pagesSoFar, signal);
    const answer = header as Partial<Extract<ScanAnswer, { png: unknown }>>;
    if (!answer.png || parts.length < 1 || parts.length > 2) throw new Error('scan reader: unexpected answer');
    return { ...answer.png, rgb: parts[0]!, alpha: parts[1] };
  }

  private read(kind: ScanJob['kind'], bytes: Uint8Array, label: string, lim: PageLimits, pagesSoFar: number, signal: AbortSignal | undefined): Promise<Frame> {
    const limits: ScanJobLimits = { maxPages: lim.maxPages, maxPixelsPerPage: lim.maxPixelsPerPage, pagesSoFar, maxValues: this.maxValues, maxNameBytes: this.maxNameBytes };
    return this.run({ header: { kind, label, limits }, bytes }, label, signal);
  }

  protected start(events: RunnerEvents<Frame>): Runner<Job> {
    // scanChild.mjs registers tsx (the project runs TypeScript through it), then loads the child's module.
    const proc = spawn(process.execPath, [`--max-old-space-size=${this.maxHeapMb}`, CHILD_PATH], { stdio: ['pipe', 'ignore', 'pipe', 'pipe'] });
    const answers = proc.stdio[3] as Socket;
    const closed = new Promise<void>((resolve) => proc.once('close', () => resolve()));
    const startTimer = setTimeout(() => events.lost(`did not start within ${START_LIMIT_MS} ms`, 500), START_LIMIT_MS).unref();
    let stderr = ''; // its end: V8's last words
    const runner = {
      ready: false,
      send: (job: Job, id: number) => writeFrame(proc.stdin!, { ...job.header, id } satisfies ScanJob, [job.bytes]),
      hold: (on: boolean) => {
        for (const handle of [proc, proc.stdin, proc.stderr, answers] as Array<Pick<Socket, 'ref' | 'unref'> | null>) {
          if (on) handle?.ref();
          else handle?.unref();
        }
      },
      stop: () => {
        clearTimeout(startTimer);
        proc.kill('SIGKILL');
        return closed;
      },
    };
    const frames = new FrameReader((frame) => {
      const answer = frame.header as ScanAnswer;
      if ('ready' in answer) {
        clearTimeout(startTimer);
        runner.ready = true;
        events.ready();
      } else {
        events.answer(answer.id, 'error' in answer ? { error: answer.error } : { value: frame });
      }
    });
    answers.on('data', (chunk: Buffer) => {
      try {
        frames.push(chunk);
      } catch (err) {
        events.lost(`answered out of turn (${err instanceof Error ? err.message : String(err)})`, 500);
      }
    });
    proc.stderr!.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('latin1')).slice(-STDERR_TAIL);
    });
    // A pipe to a child that died fails; the child's end is reported once, by 'close'.
    for (const stream of [proc.stdin, proc.stderr, answers]) stream?.on('error', () => {});
    proc.on('error', (err) => events.lost(`failed (${err.message})`, 500));
    proc.on('close', (code, signal) => {
      // "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory"
      const outOfMemory = /heap out of memory|Allocation failed/.test(stderr);
      events.lost(outOfMemory ? 'ran out of memory' : `stopped (${signal ? `signal ${signal}` : `exit code ${code}`})`, outOfMemory ? 422 : 500);
    });
    return runner;
  }
}

/** The process's reader, used by intake. */
export const sharedScanReader = new ScanReader();
