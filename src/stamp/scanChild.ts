/**
 * The scan reader's child process (see scanReader.ts): reads PDF and PNG scans with pdf-lib, a job at a
 * time, in a heap of its own, and answers with what intake merges. Jobs arrive as frames on stdin,
 * answers leave as frames on fd 3 (frames.ts); the service's end (stdin closed) ends this process.
 */
import { writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { PDFArray, PDFDict, PDFDocument, PDFName, PDFNumber, PDFRawStream, PDFStream, type PDFObject } from 'pdf-lib';
import { FrameReader, writeFrame, type Frame } from './frames.ts';
import { JobLimitError, jobErrorFields } from './jobErrors.ts';
import { savePdf } from './save.ts';
import type { ScanAnswer, ScanJob } from './scanReader.ts';
import { copyPdfPages, embedPngPage } from './scanPages.ts';

// pdf-lib tells the console of every object it cannot parse (a hostile file has millions); stderr is
// kept for V8's last words, which the service reads.
for (const method of ['log', 'info', 'warn', 'debug'] as const) console[method] = () => {};

// Its heap limit does not bound what pdf-lib allocates outside the heap (a decoded object stream):
// if the machine runs short of memory, the kernel is to end this process, not the service.
try {
  writeFileSync('/proc/self/oom_score_adj', '1000');
} catch {
  /* not Linux, or not allowed: the heap limit and the time limit still hold */
}

const answers = new Socket({ fd: 3, readable: false, writable: true });
const send = (answer: ScanAnswer, parts: Uint8Array[] = []) => writeFrame(answers, answer, parts);

let running = Promise.resolve();
const frames = new FrameReader((frame) => {
  running = running.then(() => answer(frame));
});
process.stdin.on('data', (chunk: Buffer) => frames.push(chunk));
process.stdin.on('end', () => process.exit(0));
send({ ready: true });

async function answer({ header, parts }: Frame): Promise<void> {
  const job = header as unknown as ScanJob;
  const bytes = parts[0] ?? new Uint8Array(0);
  const { limits } = job;
  try {
    if (job.kind === 'pdf') {
      const out = await PDFDocument.create({ updateMetadata: false });
      const pages = (await copyPdfPages(out, bytes, job.label, limits, limits.pagesSoFar)) - limits.pagesSoFar;
      checkBudget(out, job);
      send({ id: job.id, pdf: { pages } }, [await savePdf(out)]);
    } else {
      const doc = await PDFDocument.create({ updateMetadata: false });
      const { info, image } = await embedPngPage(doc, bytes, job.label, limits, limits.pagesSoFar);
      await doc.flush();
      const stream = rawStream(doc, image.ref);
      const sMask = stream.dict.get(PDFName.of('SMask'));
      const bitsPerComponent = stream.dict.lookup(PDFName.of('BitsPerComponent'), PDFNumber).asNumber();
      const png = { width: info.width, height: info.height, bitsPerComponent, resolution: info.resolution };
      send({ id: job.id, png }, sMask ? [stream.contents, rawStream(doc, sMask).contents] : [stream.contents]);
    }
  } catch (err) {
    send({ id: job.id, error: jobErrorFields(err) });
  }
}

function rawStream(doc: PDFDocument, ref: PDFObject | undefined): PDFRawStream {
  const stream = ref && doc.context.lookup(ref);
  if (!(stream instanceof PDFRawStream)) throw new Error('the embedded PNG is not a stream');
  return stream;
}

/**
 * The service parses the PDF this process answers with, on its own thread and in its own heap: pages
 * whose resources reach a bomb of values are refused here. Distinct names count apart, by their
 * length: pdf-lib keeps every name it has seen for the life of the process.
 */
function checkBudget(doc: PDFDocument, job: ScanJob): void {
  const { maxValues, maxNameBytes } = job.limits;
  const refuse = (what: string) => new JobLimitError(`${job.label}: the PDF's pages hold more than ${what}; the scan was not taken`);
  let values = 0;
  let nameBytes = 0;
  const names = new Set<PDFName>();
  const pending: PDFObject[] = [];
  for (const [, object] of doc.context.enumerateIndirectObjects()) {
    pending.push(object);
    while (pending.length > 0) {
      const value = pending.pop()!;
      if (++values > maxValues) throw refuse(`${maxValues} values (numbers, names, arrays, dictionaries and their entries…)`);
      if (value instanceof PDFName) {
        if (names.has(value)) continue;
        names.add(value);
        nameBytes += value.asString().length;
        if (nameBytes > maxNameBytes) throw refuse(`${maxNameBytes} bytes of names`);
      } else if (value instanceof PDFArray) {
        for (let i = 0; i < value.size(); i++) pending.push(value.get(i));
      } else if (value instanceof PDFDict) {
        for (const [key, entry] of value.entries()) pending.push(key, entry);
      } else if (value instanceof PDFStream) {
        pending.push(value.dict);
      }
    }
  }
}
