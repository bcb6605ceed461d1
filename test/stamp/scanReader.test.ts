/**
 * PDF and PNG scans read in the scan reader's child process (src/stamp/scanReader.ts): intake stores
 * what reading them in this thread stores, refusals keep their codes, the event loop turns meanwhile,
 * a value bomb is refused without touching this process's heap, and a child that runs out of memory,
 * crashes or hangs fails its own job only.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { crc32 } from 'node:zlib';
import { PDFArray, PDFDict, PDFDocument, PDFName, PDFRawStream, PDFRef, type PDFObject } from 'pdf-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.ts';
import { FrameReader, writeFrame, type Frame } from '../../src/stamp/frames.ts';
import { normalizeScan, StampError } from '../../src/stamp/index.ts';
import { DEFAULT_SCAN_LIMITS, MAX_ANNOTATIONS_PER_PAGE, copyPdfPages, embedPngPage } from '../../src/stamp/scanPages.ts';
import { ScanReader } from '../../src/stamp/scanReader.ts';
import { savePdf } from '../../src/stamp/save.ts';
import { THREE_PAGES, Workdir, fixturePdf, rasterize, rgbaPng, ticksDuring } from './helpers.ts';
import { valueBomb } from '../support/classicPdf.ts';

let wd: Workdir;
let source: Uint8Array; // 3 pages of different sizes
let annotated: Uint8Array; // annotations to flatten, pages sharing one /Contents array, a rotated page
let png: Uint8Array; // RGB, pHYs 50 dpi
let grayPng: Uint8Array;
let alphaPng: Uint8Array;
let bigPng: Uint8Array; // 4000×5000 pixels: about two seconds of pdf-lib
beforeAll(async () => {
  wd = new Workdir();
  source = await fixturePdf(THREE_PAGES);
  annotated = await annotatedPdf();
  png = rasterize(wd, source, 1, 'png', 50);
  grayPng = rasterize(wd, source, 2, 'png', 60, ['-gray']);
  alphaPng = rgbaPng(300, 200);
  bigPng = rasterize(wd, source, 1, 'png', 1000);
});
afterAll(() => wd.remove());

const LIMITS = { maxPages: DEFAULT_SCAN_LIMITS.maxPages, maxPixelsPerPage: DEFAULT_SCAN_LIMITS.maxPixelsPerPage };
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const isPng = (bytes: Uint8Array) => bytes[0] === 0x89;

/** What intake stored when it read PDF and PNG scans in this thread: copyPdfPages, embedPngPage, in one document. */
async function readHere(files: Uint8Array[]): Promise<Uint8Array> {
  const out = await PDFDocument.create({ updateMetadata: false });
  let pages = 0;
  for (const [i, bytes] of files.entries()) {
    if (isPng(bytes)) {
      await embedPngPage(out, bytes, `file ${i + 1}`, DEFAULT_SCAN_LIMITS, pages);
      pages += 1;
    } else {
      pages = await copyPdfPages(out, bytes, `file ${i + 1}`, DEFAULT_SCAN_LIMITS, pages);
    }
  }
  return savePdf(out);
}

/**
 * Each page's object graph, references resolved (a cycle and /Parent cut), a stream as its dictionary
 * and the SHA-256 of its bytes: equal for two files that differ only in how objects are numbered.
 */
async function pageGraphs(pdf: Uint8Array): Promise<unknown[]> {
  const doc = await PDFDocument.load(pdf);
  const walk = (o: PDFObject | undefined, path: Set<PDFObject>): unknown => {
    if (o instanceof PDFRef) {
      const target = doc.context.lookup(o);
      if (!target || path.has(target)) return 'cycle';
      return walk(target, new Set(path).add(target));
    }
    if (o instanceof PDFRawStream) return { dict: walk(o.dict, path), sha256: sha256(o.contents) };
    if (o instanceof PDFDict) {
      return Object.fromEntries(o.entries().flatMap(([k, v]) => (k === PDFName.of('Parent') ? [] : [[k.asString(), walk(v, path)]])));
    }
    if (o instanceof PDFArray) return o.asArray().map((v) => walk(v, path));
    return o?.toString();
  };
  return doc.getPages().map((page) => walk(page.ref, new Set()));
}

async function caught(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => undefined,
    (e: unknown) => e,
  );
}

describe('the same pages as reading in this thread', () => {
  it('PDF scans, PNG scans without alpha, and mixes of them: the same file, byte for byte', async () => {
    for (const files of [[source], [annotated], [png], [grayPng], [source, png, annotated, grayPng, png]]) {
      const here = await readHere(files);
      const there = (await normalizeScan(files.map((bytes) => ({ bytes })))).pdf;
      expect(sha256(there)).toBe(sha256(here));
    }
  });

  it('a PNG with an alpha channel: the same pages, streams and soft mask (only object numbers differ)', async () => {
    const files = [alphaPng, source, alphaPng];
    const there = (await normalizeScan(files.map((bytes) => ({ bytes })))).pdf;
    const graphs = await pageGraphs(there);
    expect(graphs).toEqual(await pageGraphs(await readHere(files)));
    expect(JSON.stringify(graphs[0])).toContain('"/SMask"');
  });

  it('refusals keep their codes, statuses, messages and details', async () => {
    const encrypted = wd.file('enc.pdf');
    execFileSync('qpdf', ['--encrypt', '', 'owner', '256', '--', wd.file('plain.pdf', source), encrypted]);
    const tooManyAnnotations = await PDFDocument.create();
    const ctx = tooManyAnnotations.context;
    const one = ctx.register(ctx.obj({ Type: 'Annot', Subtype: 'Square', Rect: [0, 0, 1, 1] }));
    tooManyAnnotations.addPage([100, 100]).node.set(PDFName.of('Annots'), ctx.obj(Array.from({ length: MAX_ANNOTATIONS_PER_PAGE + 1 }, () => one)));
    const cut = png.subarray(0, png.length - 30);
    const huge = Buffer.from(png);
    huge.writeUInt32BE(100_000, 16);
    huge.writeUInt32BE(100_000, 20);
    huge.writeUInt32BE(crc32(huge.subarray(12, 29)), 29);
    const cases: Array<[Uint8Array, string]> = [
      [readFileSync(encrypted), 'scan-encrypted'],
      [await fixturePdf(Array.from({ length: 201 }, (_, i) => ({ size: [100, 100] as [number, number], label: `${i}` }))), 'scan-too-many-pages'],
      [await tooManyAnnotations.save(), 'scan-too-many-annotations'],
      [Buffer.from('%PDF-1.7\nnothing else'), 'scan-corrupt'],
      [cut, 'scan-corrupt'],
      [huge, 'scan-too-many-pixels'],
    ];
    for (const [bytes, code] of cases) {
      const here = await caught(readHere([bytes]));
      const there = await caught(normalizeScan([{ bytes }]));
      expect(here).toBeInstanceOf(StampError);
      expect(there).toBeInstanceOf(StampError);
      const fields = (e: unknown) => ({ code: (e as StampError).code, status: (e as StampError).status, message: (e as StampError).message, details: (e as StampError).details });
      expect(fields(there)).toEqual(fields(here));
      expect(fields(there).code).toBe(code);
    }
  });
});

it('the event loop keeps turning while a large PNG is embedded', async () => {
  const { ticks, result } = await ticksDuring(normalizeScan([{ bytes: bigPng }]));
  expect(result.pages).toBe(1);
  // Embedded on this thread, the PNG held the loop from start to end: a tick or two in all.
  expect(ticks).toBeGreaterThan(50);
});

describe('a value bomb', () => {
  it('out of the pages (pdf-lib parses every object): the child runs out of its heap, 422, and the next scan is read', async () => {
    const reader = new ScanReader({ maxHeapMb: 64 });
    try {
      const bomb = valueBomb(8, 250_000, 'acroform'); // 4 MB, 2 million empty arrays
      const heapBefore = process.memoryUsage().heapUsed;
      const { ticks, result: err } = await ticksDuring(caught(reader.pdf(bomb, 'bomb.pdf', LIMITS, 0)));
      expect(err).toBeInstanceOf(AppError);
      expect(err).not.toBeInstanceOf(StampError);
      expect(err).toMatchObject({ code: 'scan-decoder-failed', status: 422, message: 'bomb.pdf: the scan reader ran out of memory; the scan was not taken' });
      expect(ticks).toBeGreaterThan(10);
      // Parsed here, 2 million arrays would take well over 100 MB of this heap.
      expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(50 * 1024 * 1024);
      const next = await reader.pdf(source, 'next.pdf', LIMITS, 0);
      expect(next.pages).toBe(3);
    } finally {
      await reader.close();
    }
  });

  it('reachable from a page (it would survive the copy): refused by the budget of values, in intake too', async () => {
    const reader = new ScanReader({ maxValues: 20_000 });
    try {
      const err = await caught(reader.pdf(valueBomb(1, 30_000, 'page'), 'bomb.pdf', LIMITS, 0));
      expect(err).toMatchObject({
        code: 'scan-decoder-failed',
        status: 422,
        message: expect.stringMatching(/^bomb\.pdf: the PDF's pages hold more than 20000 values .*; the scan was not taken$/),
      });
      expect(err).not.toBeInstanceOf(StampError);
      // 20 000 values are plenty for real pages.
      expect((await reader.pdf(annotated, 'next.pdf', LIMITS, 0)).pages).toBe(2);
    } finally {
      await reader.close();
    }
    // The default budget, through intake.
    await expect(normalizeScan([{ bytes: valueBomb(1, 400_000, 'page'), name: 'b.pdf' }])).rejects.toMatchObject({ code: 'scan-decoder-failed', status: 422, message: expect.stringContaining('more than 300000 values') });
    // The same arrays out of the pages are not copied: nothing to refuse.
    expect((await normalizeScan([{ bytes: valueBomb(1, 400_000, 'acroform') }])).pages).toBe(1);
  });

  it("names (pdf-lib keeps every name it has seen): refused past the names' budget", async () => {
    const reader = new ScanReader({ maxNameBytes: 10_000 });
    try {
      const doc = await PDFDocument.create();
      const page = doc.addPage([100, 100]);
      const names = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`SomeLongResourceName${String(i).padStart(20, '0')}`, i]));
      page.node.set(PDFName.of('PieceInfo'), doc.context.obj(names));
      await expect(reader.pdf(await doc.save(), 'names.pdf', LIMITS, 0)).rejects.toMatchObject({
        code: 'scan-decoder-failed',
        status: 422,
        message: "names.pdf: the PDF's pages hold more than 10000 bytes of names; the scan was not taken",
      });
    } finally {
      await reader.close();
    }
  });
});

describe('a child that crashes, hangs or idles', () => {
  it('killed during a job: 500, and the next job gets a new child', async () => {
    const reader = new ScanReader();
    try {
      const others = childPids();
      const job = caught(reader.png(bigPng, 'big.png', LIMITS, 0));
      const pid = await newChild(others);
      await new Promise((r) => setTimeout(r, 300)); // into the job
      process.kill(pid, 'SIGKILL');
      expect(await job).toMatchObject({ code: 'scan-decoder-failed', status: 500, message: 'big.png: the scan reader stopped (signal SIGKILL); the scan was not taken' });
      const next = await reader.png(png, 'next.png', LIMITS, 0);
      expect([next.width, next.height]).toEqual([200, 250]);
      expect(childPids()).not.toContain(pid);
    } finally {
      await reader.close();
    }
  });

  it('past the time limit: 422, the child is killed, the next job is answered', async () => {
    const reader = new ScanReader({ hardLimitMs: 500 });
    try {
      await expect(reader.png(bigPng, 'big.png', LIMITS, 0)).rejects.toMatchObject({
        code: 'scan-decoder-failed',
        status: 422,
        message: 'big.png: the scan reader did not finish within 500 ms; the scan was not taken',
      });
      expect((await reader.pdf(source, 'next.pdf', LIMITS, 0)).pages).toBe(3);
    } finally {
      await reader.close();
    }
  });

  it('asks the kernel to end it first when memory runs out (oom_score_adj 1000): its heap limit does not bound what pdf-lib allocates outside the heap', async () => {
    const reader = new ScanReader();
    try {
      const others = childPids();
      await reader.pdf(source, 'a.pdf', LIMITS, 0);
      const pid = await newChild(others);
      expect(readFileSync(`/proc/${pid}/oom_score_adj`, 'utf8').trim()).toBe('1000');
      expect(readFileSync('/proc/self/oom_score_adj', 'utf8').trim()).not.toBe('1000');
    } finally {
      await reader.close();
    }
  });

  it('idle: stopped, and started again for the next job', async () => {
    const reader = new ScanReader({ idleMs: 200 });
    try {
      const others = childPids();
      await reader.pdf(source, 'a.pdf', LIMITS, 0);
      const first = await newChild(others);
      await waitFor(() => !childPids().includes(first));
      expect((await reader.pdf(source, 'b.pdf', LIMITS, 0)).pages).toBe(3);
      expect(childPids()).not.toContain(first);
    } finally {
      await reader.close();
    }
  });
});

describe('frames', () => {
  it('come out whole however the stream cuts them, empty parts included', () => {
    const parts = [Buffer.from('first part'), Buffer.alloc(0), Buffer.alloc(70_000, 7)];
    const sink = new PassThrough();
    const chunks: Buffer[] = [];
    sink.on('data', (c: Buffer) => chunks.push(c));
    writeFrame(sink, { id: 1, kind: 'pdf' }, parts);
    writeFrame(sink, { id: 2 });
    const bytes = Buffer.concat(chunks);
    for (const size of [1, 3, 4096, bytes.length]) {
      const frames: Frame[] = [];
      const reader = new FrameReader((f) => frames.push(f));
      for (let at = 0; at < bytes.length; at += size) reader.push(bytes.subarray(at, at + size));
      expect(frames.map((f) => f.header)).toEqual([
        { id: 1, kind: 'pdf', parts: [10, 0, 70_000] },
        { id: 2, parts: [] },
      ]);
      expect(frames[0]!.parts.map((p) => sha256(p))).toEqual(parts.map((p) => sha256(p)));
      expect(frames[0]!.parts[2]!.byteOffset).toBe(0); // its own buffer
    }
    const bad = Buffer.concat([Buffer.from([0, 0, 0, 2]), Buffer.from('{}')]);
    expect(() => new FrameReader(() => {}).push(bad)).toThrow('a frame header without valid part lengths');
  });
});

/** A PDF with what intake rewrites: annotations (one hidden), pages sharing a /Contents array, a rotated page. */
async function annotatedPdf(): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const [p1, p2] = [doc.addPage([200, 300]), doc.addPage([300, 200])];
  p2.setRotation({ type: 'degrees', angle: 90 } as never);
  const ctx = doc.context;
  const shared = ctx.register(ctx.obj([ctx.register(ctx.stream('0 0 1 rg 0 190 10 10 re f'))]));
  for (const p of [p1, p2]) p.node.set(PDFName.of('Contents'), shared);
  const square = (rect: number[], flags: number) => {
    const ap = ctx.register(ctx.stream('0 g 0 0 10 10 re f', { Type: 'XObject', Subtype: 'Form', BBox: [0, 0, 10, 10] }));
    return ctx.register(ctx.obj({ Type: 'Annot', Subtype: 'Square', Rect: rect, F: flags, AP: { N: ap } }));
  };
  p1.node.set(PDFName.of('Annots'), ctx.obj([square([50, 50, 150, 150], 4), square([10, 10, 20, 20], 2)]));
  p2.node.set(PDFName.of('Annots'), ctx.obj([square([-100, -100, 400, 0], 4)]));
  return doc.save({ useObjectStreams: false });
}

/** This process's scan reader children. */
function childPids(): number[] {
  const r = spawnSync('pgrep', ['-P', String(process.pid), '-f', 'scanChild.mjs'], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean).map(Number);
}

async function waitFor(done: () => boolean, ms = 10_000): Promise<void> {
  for (const start = Date.now(); !done(); await new Promise((r) => setTimeout(r, 20))) {
    if (Date.now() - start > ms) throw new Error('timed out waiting');
  }
}

/** The child a reader started, not one of `others` (intake's own reader may have one). */
async function newChild(others: number[]): Promise<number> {
  const fresh = () => childPids().filter((pid) => !others.includes(pid));
  await waitFor(() => fresh().length === 1);
  return fresh()[0]!;
}

