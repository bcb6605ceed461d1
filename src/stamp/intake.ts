/**
 * Scan intake: one or more uploaded files (PDF, JPEG, PNG, multi-page TIFF, in the given order) become
 * one PDF whose pages show the scan at 100 % scale (Decree 30/2020 digitisation practice): an image
 * page measures pixels / dpi inches, with the density the file states (JFIF or Exif for JPEG, pHYs for
 * PNG, XResolution/YResolution for TIFF) or DEFAULT_SCAN_DPI (300) when it states none.
 *
 * Image quality is kept: JPEG bytes are embedded unchanged (DCTDecode) — a photo's Exif Orientation
 * is honoured by turning the placement, not the pixels — PNG pixels are re-deflated losslessly by
 * pdf-lib, TIFF pixels are decoded and Flate-compressed (FlateDecode is lossless) in worker threads
 * (tiffDecoder.ts). PDF pages are copied as they are, their annotations drawn in (scanPages.ts).
 * Limits are checked on headers before any pixel is inflated.
 *
 * JPEG pages are made here, on the service's thread, with nothing in between (the header walk and an
 * embedding of the bytes as they are). PDF and PNG scans are read in the scan reader's child process
 * (scanReader.ts): pdf-lib has no limits of its own, and takes seconds on a large PNG.
 */
import { createHash } from 'node:crypto';
import { PDFDocument, PDFRawStream } from 'pdf-lib';
import { AppError } from '../errors.ts';
import { StampError } from './errors.ts';
import { orientationMatrix, swapsSides } from './exif.ts';
import { readJpeg } from './jpeg.ts';
import { savePdf } from './save.ts';
import { sharedScanReader } from './scanReader.ts';
import { DEFAULT_SCAN_LIMITS, addPngPage, appendPages, checkPages, checkPixels, drawXObject, imagePage, type ScanLimits } from './scanPages.ts';
import { sniffFormat } from './sniff.ts';
import { sharedTiffDecoder } from './tiffDecoder.ts';

export { DEFAULT_SCAN_LIMITS, MAX_ANNOTATIONS_PER_PAGE, type ScanLimits } from './scanPages.ts';

export interface ScanFile {
  bytes: Uint8Array;
  /** Informational only: the format is detected from the bytes. */
  mimeType?: string;
  /** Used in error messages. */
  name?: string;
}

export interface NormalizedScan {
  pdf: Uint8Array;
  pages: number;
  /** SHA-256 (hex) of the input files' bytes concatenated in the given order. */
  sourceSha256: string;
}

/** The normalised scan before it is saved: stampCopy draws on it in place (one pdf-lib document, no save and reload of the images). */
export interface ScanDocument extends Omit<NormalizedScan, 'pdf' | 'sourceSha256'> {
  doc: PDFDocument;
  /** Being computed between the caller's later steps (`sha256Between`); never rejects. */
  sourceSha256: Promise<string>;
}

export interface IntakeOptions {
  /**
   * The request's: once aborted (its client went away), the scan's jobs still waiting for a TIFF worker
   * or the scan reader leave the queue and no further file or page is sent (`request-aborted`).
   */
  signal?: AbortSignal | undefined;
}

export async function normalizeScan(files: readonly ScanFile[], limits: Partial<ScanLimits> = {}, opts: IntakeOptions = {}): Promise<NormalizedScan> {
  const { doc, sourceSha256, pages } = await buildScanDocument(files, limits, opts);
  return { pdf: await savePdf(doc), pages, sourceSha256: await sourceSha256 };
}

/** The scan's size limit, for callers that know the size before reading the files (an upload on disk). */
export function checkScanBytes(total: number, limits: Partial<ScanLimits> = {}): void {
  const max = limits.maxTotalBytes ?? DEFAULT_SCAN_LIMITS.maxTotalBytes;
  if (total > max) throw new StampError('scan-too-large', `scan is ${total} bytes; at most ${max} are accepted`, { details: { bytes: total, limit: max } });
}

export async function buildScanDocument(files: readonly ScanFile[], limits: Partial<ScanLimits> = {}, opts: IntakeOptions = {}): Promise<ScanDocument> {
  const lim: ScanLimits = { ...DEFAULT_SCAN_LIMITS, ...limits };
  const { signal } = opts;
  if (files.length === 0) throw new StampError('scan-empty', 'no scan file was given');
  checkScanBytes(files.reduce((sum, f) => sum + f.bytes.length, 0), lim);

  const out = await PDFDocument.create({ updateMetadata: false });
  let pages = 0;
  const addPages = (count: number, label: string) => {
    checkPages(pages, count, lim, label);
    pages += count;
  };
  const started = Date.now();
  /** Before each job sent away: the scan as a whole within its decoding time. */
  const checkTime = (label: string) => {
    if (Date.now() - started > lim.maxDecodeMs) {
      throw new AppError('scan-decoder-failed', `${label}: the scan took more than ${lim.maxDecodeMs} ms to decode; the scan was not taken`, { status: 422 });
    }
  };
  let pageBytes = 0;
  const addPageBytes = (n: number, label: string) => {
    pageBytes += n;
    if (pageBytes > lim.maxPageBytes) {
      throw new StampError('scan-too-large', `${label}: the scan's pages come to more than ${lim.maxPageBytes} bytes once decoded`, { details: { limit: lim.maxPageBytes } });
    }
  };

  for (const [index, file] of files.entries()) {
    const label = file.name ? `file ${index + 1} (${file.name})` : `file ${index + 1}`;
    const format = sniffFormat(file.bytes);
    switch (format) {
      case 'jpeg': {
        const info = readJpeg(file.bytes, label);
        checkPixels(info.width, info.height, lim, label);
        addPages(1, label);
        addPageBytes(file.bytes.length, label);
        let image;
        try {
          // pdf-lib reads the JPEG through a DataView of the whole ArrayBuffer, ignoring byteOffset: a
          // view into a larger buffer (Node's pooled small Buffers) must be handed over as its own copy.
          image = await out.embedJpg(ownBuffer(file.bytes));
        } catch (cause) {
          throw new StampError('scan-corrupt', `${label}: JPEG cannot be embedded`, { cause });
        }
        // A phone photo is shown as its Exif Orientation says: the page takes the displayed shape and
        // the placement matrix turns or mirrors the image, whose bytes stay as they are.
        const sideways = swapsSides(info.orientation);
        const page = sideways
          ? imagePage(out, info.height, info.width, { ...info.resolution, x: info.resolution.y, y: info.resolution.x }, label)
          : imagePage(out, info.width, info.height, info.resolution, label);
        drawXObject(page, page.node.newXObject('Scan', image.ref), orientationMatrix(info.orientation, page.getWidth(), page.getHeight()));
        break;
      }
      case 'png': {
        // Checked, decoded and deflated again in the scan reader's process: seconds near the pixel limit.
        checkTime(label);
        const png = await sharedScanReader.png(file.bytes, label, lim, pages, signal);
        addPages(1, label);
        addPageBytes(png.rgb.length + (png.alpha?.length ?? 0), label);
        addPngPage(out, png, label);
        break;
      }
      case 'tiff': {
        // Read and decoded in worker threads (tiffDecoder.ts): seconds a page that would otherwise
        // stop every other request. The limits are checked here, on the headers, before any decoding.
        checkTime(label);
        const tiff = await sharedTiffDecoder.read(file.bytes, label, signal);
        tiff.headers.forEach((h, i) => checkPixels(h.width, h.height, lim, `${label} page ${i + 1}`));
        addPages(tiff.headers.length, label);
        for (const [i, header] of tiff.headers.entries()) {
          checkTime(`${label} page ${i + 1}`);
          // Past an abort, the pool refuses the page at once: a running page is not followed by the next.
          const decoded = await sharedTiffDecoder.decodePage(tiff, i, `${label} page ${i + 1}`, signal);
          addPageBytes(decoded.flate.length, `${label} page ${i + 1}`);
          const ref = out.context.register(
            PDFRawStream.of(
              out.context.obj({
                Type: 'XObject',
                Subtype: 'Image',
                Width: decoded.width,
                Height: decoded.height,
                ColorSpace: decoded.colorSpace,
                BitsPerComponent: decoded.bitsPerComponent,
                Filter: 'FlateDecode',
              }),
              decoded.flate,
            ),
          );
          const page = imagePage(out, header.width, header.height, header.resolution, `${label} page ${i + 1}`);
          drawXObject(page, page.node.newXObject('Scan', ref), orientationMatrix(1, page.getWidth(), page.getHeight()));
        }
        break;
      }
      case 'pdf': {
        // Read in the scan reader's process (pdf-lib parses every object of the file, with no limit of
        // its own); its answer, a PDF of just the pages, is bounded there and merged here.
        checkTime(label);
        const read = await sharedScanReader.pdf(file.bytes, label, lim, pages, signal);
        addPages(read.pages, label);
        addPageBytes(read.pdf.length, label);
        let src: PDFDocument;
        try {
          src = await PDFDocument.load(read.pdf, { updateMetadata: false });
        } catch (cause) {
          throw new StampError('scan-corrupt', `${label}: PDF cannot be read`, { cause });
        }
        await appendPages(out, src, label);
        break;
      }
      default:
        throw new StampError('scan-unsupported-type', `${label}: not a PDF, JPEG, PNG or TIFF file`, {
          details: { declaredType: file.mimeType ?? null },
        });
    }
  }
  return { doc: out, pages, sourceSha256: sha256Between(files.map((f) => f.bytes)) };
}

/**
 * SHA-256 (hex) of `parts` in order, a slice per turn of the event loop: the hash fills the time the
 * loop would otherwise spend waiting (for the HSM, the disk) instead of delaying the next step. The
 * parts must not change until it resolves.
 */
export function sha256Between(parts: readonly Uint8Array[], sliceBytes = 256 * 1024): Promise<string> {
  const hash = createHash('sha256');
  let index = 0;
  let offset = 0;
  return new Promise((resolve) => {
    const step = () => {
      for (let budget = sliceBytes; budget > 0 && index < parts.length; ) {
        const part = parts[index]!;
        const n = Math.min(budget, part.length - offset);
        hash.update(part.subarray(offset, offset + n));
        budget -= n;
        offset += n;
        if (offset >= part.length) {
          index++;
          offset = 0;
        }
      }
      if (index < parts.length) setImmediate(step);
      else resolve(hash.digest('hex'));
    };
    setImmediate(step);
  });
}

function ownBuffer(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : new Uint8Array(bytes);
}

