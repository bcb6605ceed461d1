/**
 * Preview of a certified copy before anything is registered: the scan is normalised and stamped with
 * sample values (no number is reserved, nothing is signed or stored), then the stamped pages are
 * rasterised by poppler's `pdftoppm` in a child process with a time limit. Only our own normalised
 * and stamped output is ever handed to pdftoppm, never the raw upload: intake has already refused
 * what it cannot parse, and pdf-lib rewrote the document.
 */
import { execFile } from 'node:child_process';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PDFDocument, type PDFPage } from 'pdf-lib';
import { AppError } from '../errors.ts';
import { normalizeScan, stampCopy, type ScanFile, type ScanLimits, type StampTemplate } from '../stamp/index.ts';

export interface PreviewInput {
  files: readonly ScanFile[];
  agency: string;
  registerSuffix: string;
  certifier: { title: string; name: string };
  template?: StampTemplate | undefined;
  originalPages?: number | undefined;
  /** Base of the verification URL, so the sample QR code has the real one's size. */
  publicBaseUrl: string;
  now?: Date;
}

export interface PreviewOptions {
  /** Scratch folder (removed by the caller). */
  workDir: string;
  scanLimits?: Partial<ScanLimits>;
  /** Resolution of the page images (default 40 dpi: an A4 page is 331 × 468 pixels). */
  dpi?: number;
  /** Pages rendered from the start of the document; the last page (the stamp) is always rendered. */
  maxRenderedPages?: number;
  timeoutMs?: number;
  /** The request's: aborted, the scan's decoding jobs still queued are dropped (intake.ts IntakeOptions). */
  signal?: AbortSignal | undefined;
}

export interface PreviewPage {
  /** 1-based page number. */
  page: number;
  /** Size of the displayed page in PDF points (1/72 inch), rotation applied. */
  width: number;
  height: number;
  png: Uint8Array;
}

export interface CopyPreview {
  pageCount: number;
  pages: PreviewPage[];
  /** The stamp band on the last page, [x1, y1, x2, y2] in points, origin at the displayed page's lower-left corner. */
  stamp: { page: number; rect: [number, number, number, number] };
}

/** Sample values printed in the preview instead of the register's (nothing is reserved for a preview). */
export const PREVIEW_SAMPLE = { number: 'MẪU', publicCode: 'X'.repeat(32), accessCode: 'XXXX-XXXX-XXXX' } as const;

function visualSize(page: PDFPage): { width: number; height: number } {
  const crop = page.getCropBox();
  const media = page.getMediaBox();
  const w = Math.min(media.x + media.width, crop.x + crop.width) - Math.max(media.x, crop.x);
  const h = Math.min(media.y + media.height, crop.y + crop.height) - Math.max(media.y, crop.y);
  const rotation = ((page.getRotation().angle % 360) + 360) % 360;
  return rotation === 90 || rotation === 270 ? { width: h, height: w } : { width: w, height: h };
}

const round2 = (x: number) => Math.round(x * 100) / 100;

function pdftoppm(args: string[], timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('pdftoppm', args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 1 << 20 }, (err, _out, stderr) => {
      if (!err) return resolve();
      const timedOut = (err as { killed?: boolean }).killed === true;
      reject(
        new AppError(timedOut ? 'preview-timeout' : 'preview-failed', timedOut ? `rendering the preview took longer than ${timeoutMs} ms` : `rendering the preview failed: ${String(stderr).slice(0, 200)}`, {
          status: timedOut ? 503 : 500,
          retryable: timedOut,
          cause: err,
        }),
      );
    });
  });
}

export async function previewCopy(input: PreviewInput, opts: PreviewOptions): Promise<CopyPreview> {
  const scan = await normalizeScan(input.files, opts.scanLimits, { signal: opts.signal });
  const now = input.now ?? new Date();
  const local = new Date(now.getTime() + 7 * 3600_000).toISOString();
  const stamped = await stampCopy(scan.pdf, {
    certificationNumber: PREVIEW_SAMPLE.number,
    registerVolume: `01/${local.slice(0, 4)}${input.registerSuffix}`,
    date: local.slice(0, 10),
    certifier: input.certifier,
    agency: input.agency,
    originalPages: input.originalPages ?? scan.pages,
    conversion: { at: `${local.slice(0, 19)}+07:00`, by: input.agency },
    publicCode: PREVIEW_SAMPLE.publicCode,
    accessCode: PREVIEW_SAMPLE.accessCode,
    verificationUrl: `${input.publicBaseUrl.replace(/\/$/, '')}/v/${PREVIEW_SAMPLE.publicCode}`,
    template: input.template,
  });

  // Page sizes before and after: the difference on the last page is the stamp band.
  const [before, after] = await Promise.all([PDFDocument.load(scan.pdf, { updateMetadata: false }), PDFDocument.load(stamped.pdf, { updateMetadata: false })]);
  const pageCount = after.getPageCount();
  const sizes = after.getPages().map(visualSize);
  const lastSize = sizes[pageCount - 1]!;
  const band = lastSize.height - visualSize(before.getPage(pageCount - 1)).height;

  const file = path.join(opts.workDir, 'preview.pdf');
  await writeFile(file, stamped.pdf);
  const dpi = opts.dpi ?? 40;
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const head = Math.min(pageCount, opts.maxRenderedPages ?? 20);
  const ranges: Array<[number, number]> = head >= pageCount - 1 ? [[1, pageCount]] : [[1, head], [pageCount, pageCount]];
  for (const [i, [first, last]] of ranges.entries()) {
    await pdftoppm(['-q', '-png', '-r', String(dpi), '-f', String(first), '-l', String(last), file, path.join(opts.workDir, `p${i}`)], timeoutMs);
  }
  // pdftoppm names pages <prefix>-<n>.png, n zero-padded to the width of the page count.
  const names = (await readdir(opts.workDir)).filter((n) => /^p\d+-\d+\.png$/.test(n));
  const pages: PreviewPage[] = [];
  for (const name of names) {
    const page = Number(/-(\d+)\.png$/.exec(name)![1]);
    const size = sizes[page - 1]!;
    pages.push({ page, width: round2(size.width), height: round2(size.height), png: new Uint8Array(await readFile(path.join(opts.workDir, name))) });
  }
  pages.sort((a, b) => a.page - b.page);
  return { pageCount, pages, stamp: { page: pageCount, rect: [0, 0, round2(lastSize.width), round2(band)] } };
}
