/**
 * Scan intake: one or more uploaded files (PDF, JPEG, PNG, multi-page TIFF, in the given order) become
 * one PDF whose pages show the scan at 100 % scale (Decree 30/2020 digitisation practice): an image
 * page measures pixels / dpi inches, with the density the file states (JFIF or Exif for JPEG, pHYs for
 * PNG, XResolution/YResolution for TIFF) or DEFAULT_SCAN_DPI (300) when it states none.
 *
 * Image quality is kept: JPEG bytes are embedded unchanged (DCTDecode) — a photo's Exif Orientation
 * is honoured by turning the placement, not the pixels — PNG pixels are re-deflated
 * losslessly by pdf-lib, TIFF pixels are decoded and Flate-compressed (FlateDecode is lossless) in
 * worker threads (tiffDecoder.ts).
 * PDF pages are copied as they are. Limits are checked on headers before any pixel is inflated.
 */
import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { PdfDocument, isPdfError } from '../pdf/index.ts';
import { EncryptedPDFError, PDFArray, PDFDict, PDFDocument, PDFName, PDFNumber, PDFRawStream, PDFRef, PDFStream, type PDFPage } from 'pdf-lib';
import { StampError } from './errors.ts';
import { orientationMatrix, swapsSides } from './exif.ts';
import { readJpeg } from './jpeg.ts';
import { readPng } from './png.ts';
import type { Resolution } from './resolution.ts';
import { savePdf } from './save.ts';
import { sniffFormat } from './sniff.ts';
import { sharedTiffDecoder } from './tiffDecoder.ts';

export interface ScanFile {
  bytes: Uint8Array;
  /** Informational only: the format is detected from the bytes. */
  mimeType?: string;
  /** Used in error messages. */
  name?: string;
}

export interface ScanLimits {
  /** Sum of the input files' sizes. */
  maxTotalBytes: number;
  /** Pages of the resulting document. */
  maxPages: number;
  /** Width × height of any one image page (decompression bombs, memory). */
  maxPixelsPerPage: number;
}

export const DEFAULT_SCAN_LIMITS: ScanLimits = {
  maxTotalBytes: 100 * 1024 * 1024,
  maxPages: 200,
  maxPixelsPerPage: 60_000_000,
};

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

/** ISO 32000-1 Annex C.2: page sides are limited to 14 400 default user units (200 inches). */
const MAX_PAGE_SIDE = 14_400;

export async function normalizeScan(files: readonly ScanFile[], limits: Partial<ScanLimits> = {}): Promise<NormalizedScan> {
  const { doc, sourceSha256, pages } = await buildScanDocument(files, limits);
  return { pdf: await savePdf(doc), pages, sourceSha256: await sourceSha256 };
}

/** The scan's size limit, for callers that know the size before reading the files (an upload on disk). */
export function checkScanBytes(total: number, limits: Partial<ScanLimits> = {}): void {
  const max = limits.maxTotalBytes ?? DEFAULT_SCAN_LIMITS.maxTotalBytes;
  if (total > max) throw new StampError('scan-too-large', `scan is ${total} bytes; at most ${max} are accepted`, { details: { bytes: total, limit: max } });
}

export async function buildScanDocument(files: readonly ScanFile[], limits: Partial<ScanLimits> = {}): Promise<ScanDocument> {
  const lim: ScanLimits = { ...DEFAULT_SCAN_LIMITS, ...limits };
  if (files.length === 0) throw new StampError('scan-empty', 'no scan file was given');
  checkScanBytes(files.reduce((sum, f) => sum + f.bytes.length, 0), lim);

  const out = await PDFDocument.create({ updateMetadata: false });
  let pages = 0;
  const addPages = (count: number, label: string) => {
    if (pages + count > lim.maxPages) {
      throw new StampError('scan-too-many-pages', `${label}: the scan has more than ${lim.maxPages} pages`, {
        details: { limit: lim.maxPages },
      });
    }
    pages += count;
  };
  const checkPixels = (width: number, height: number, label: string) => {
    if (width * height > lim.maxPixelsPerPage) {
      throw new StampError('scan-too-many-pixels', `${label}: ${width}×${height} pixels exceed ${lim.maxPixelsPerPage} per page`, {
        details: { width, height, limit: lim.maxPixelsPerPage },
      });
    }
  };

  for (const [index, file] of files.entries()) {
    const label = file.name ? `file ${index + 1} (${file.name})` : `file ${index + 1}`;
    const format = sniffFormat(file.bytes);
    switch (format) {
      case 'jpeg': {
        const info = readJpeg(file.bytes, label);
        checkPixels(info.width, info.height, label);
        addPages(1, label);
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
        const info = readPng(file.bytes, label);
        checkPixels(info.width, info.height, label);
        addPages(1, label);
        let image;
        try {
          image = await out.embedPng(file.bytes);
        } catch (cause) {
          throw new StampError('scan-corrupt', `${label}: PNG image data cannot be decoded`, { cause });
        }
        const page = imagePage(out, info.width, info.height, info.resolution, label);
        page.drawImage(image, { x: 0, y: 0, width: page.getWidth(), height: page.getHeight() });
        break;
      }
      case 'tiff': {
        // Read and decoded in worker threads (tiffDecoder.ts): seconds a page that would otherwise
        // stop every other request. The limits are checked here, on the headers, before any decoding.
        const tiff = await sharedTiffDecoder.read(file.bytes, label);
        tiff.headers.forEach((h, i) => checkPixels(h.width, h.height, `${label} page ${i + 1}`));
        addPages(tiff.headers.length, label);
        for (const [i, header] of tiff.headers.entries()) {
          const decoded = await sharedTiffDecoder.decodePage(tiff, i, `${label} page ${i + 1}`);
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
      case 'pdf':
        pages = await copyPdfPages(out, file.bytes, label, lim, pages);
        break;
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

function imagePage(doc: PDFDocument, width: number, height: number, res: Resolution, label: string): PDFPage {
  const w = (width / res.x) * 72;
  const h = (height / res.y) * 72;
  if (w > MAX_PAGE_SIDE || h > MAX_PAGE_SIDE) {
    throw new StampError('scan-too-many-pixels', `${label}: ${width}×${height} pixels at ${res.x}×${res.y} dpi make a page over 200 inches`);
  }
  return doc.addPage([w, h]);
}

/** Paints an image XObject over the whole page: the unit square mapped onto the page by `matrix` (§8.9.4). */
function drawXObject(page: PDFPage, name: PDFName, matrix: readonly number[]): void {
  const content = `q ${matrix.join(' ')} cm ${name.toString()} Do Q\n`;
  const ref = page.doc.context.register(
    PDFRawStream.of(page.doc.context.obj({ Filter: 'FlateDecode' }), deflateSync(Buffer.from(content, 'latin1'))),
  );
  page.node.addContentStream(ref);
}

/** ISO 32000-1 Table 165: Hidden (2), NoView (32). */
const ANNOT_NOT_SHOWN = 2 | 32;
/** Annotations one scan page may carry (a scan has a few; thousands are an attack on the time it takes). */
export const MAX_ANNOTATIONS_PER_PAGE = 1000;

/**
 * Draws each shown annotation's normal appearance into `page`'s content (ISO 32000-1 §12.5.5: the form's
 * /BBox, transformed by its /Matrix, fitted to the annotation's /Rect), clipped to the page's crop box,
 * after the page's own content (wrapped in q/Q so its graphics state cannot leak). Annotations without
 * an appearance (links, popups) draw nothing and are skipped.
 */
/**
 * Per scan document: for each resources' XObject dictionary pages share, the one extended copy (an
 * indirect object) the pages with annotations point to instead, with its own name counter. One copy
 * for all of them, not one per page (pages may share thousands of entries).
 */
type ExtendedXObjects = Map<PDFDict, { ref: PDFRef; dict: PDFDict; next: number }>;

function flattenAnnotations(doc: PDFDocument, page: PDFPage, label: string, extended: ExtendedXObjects): void {
  const ctx = doc.context;
  const annotsValue = page.node.get(PDFName.of('Annots'));
  if (annotsValue === undefined) return;
  const annots = ctx.lookup(annotsValue);
  if (!(annots instanceof PDFArray)) throw new StampError('scan-corrupt', `${label}: /Annots is not an array`);
  if (annots.size() > MAX_ANNOTATIONS_PER_PAGE) {
    throw new StampError('scan-too-many-annotations', `${label} has ${annots.size()} annotations; at most ${MAX_ANNOTATIONS_PER_PAGE} are accepted`, {
      details: { limit: MAX_ANNOTATIONS_PER_PAGE },
    });
  }
  if (annots.size() === 0) return;
  // This page's own resources before anything is added: other pages may share them (inherited or
  // indirect); they point to an extended copy of the XObjects, made once per shared dictionary.
  const shared = page.node.normalizedEntries();
  let ext = extended.get(shared.XObject);
  if (!ext) {
    const dict = shared.XObject.clone(ctx);
    ext = { ref: ctx.register(dict), dict, next: 0 };
    extended.set(shared.XObject, ext);
    extended.set(dict, ext);
  }
  const own = ext;
  const resources = shared.Resources.clone(ctx);
  resources.set(PDFName.of('XObject'), own.ref);
  page.node.set(PDFName.of('Resources'), resources);
  // Names of our own for the appearances, from a counter (pdf-lib's unique-name search rescans the
  // resources on every call); names other pages added are harmless here (this page does not call them).
  const nameFor = (ref: PDFRef): PDFName => {
    let key: PDFName;
    do key = PDFName.of(`ChAnnot${own.next++}`);
    while (own.dict.has(key));
    own.dict.set(key, ref);
    return key;
  };
  const nums = (v: unknown): number[] | undefined => {
    const arr = v instanceof PDFArray ? v : undefined;
    const out = arr?.asArray().map((x) => (ctx.lookup(x) instanceof PDFNumber ? (ctx.lookup(x) as PDFNumber).asNumber() : NaN));
    return out && out.every(Number.isFinite) ? out : undefined;
  };
  const ops: string[] = [];
  for (let i = 0; i < annots.size(); i++) {
    const annot = ctx.lookup(annots.get(i));
    if (!(annot instanceof PDFDict)) continue;
    const flags = annot.lookup(PDFName.of('F'));
    if (flags instanceof PDFNumber && flags.asNumber() & ANNOT_NOT_SHOWN) continue;
    const ap = annot.lookup(PDFName.of('AP'));
    let normal = ap instanceof PDFDict ? ap.get(PDFName.of('N')) : undefined;
    // A widget's appearance states (§12.7.4.2.3): the one its /AS names.
    const states = normal ? ctx.lookup(normal) : undefined;
    if (states instanceof PDFDict && !(states instanceof PDFRawStream)) {
      const as = annot.lookup(PDFName.of('AS'));
      normal = as instanceof PDFName ? states.get(as) : undefined;
    }
    if (!(normal instanceof PDFRef)) continue;
    const form = ctx.lookup(normal);
    if (!(form instanceof PDFRawStream || form instanceof PDFStream)) continue;
    const rect = nums(annot.lookup(PDFName.of('Rect')));
    const bbox = nums(form.dict.lookup(PDFName.of('BBox')));
    if (!rect || rect.length !== 4 || !bbox || bbox.length !== 4) continue;
    const m = nums(form.dict.lookup(PDFName.of('Matrix'))) ?? [1, 0, 0, 1, 0, 0];
    if (m.length !== 6) continue;
    const corners = [
      [bbox[0]!, bbox[1]!],
      [bbox[2]!, bbox[1]!],
      [bbox[0]!, bbox[3]!],
      [bbox[2]!, bbox[3]!],
    ].map(([x, y]) => [m[0]! * x! + m[2]! * y! + m[4]!, m[1]! * x! + m[3]! * y! + m[5]!] as const);
    const xs = corners.map((c) => c[0]);
    const ys = corners.map((c) => c[1]);
    const [bx1, bx2, by1, by2] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    const [rx1, rx2, ry1, ry2] = [Math.min(rect[0]!, rect[2]!), Math.max(rect[0]!, rect[2]!), Math.min(rect[1]!, rect[3]!), Math.max(rect[1]!, rect[3]!)];
    if (bx2 - bx1 <= 0 || by2 - by1 <= 0 || rx2 - rx1 <= 0 || ry2 - ry1 <= 0) continue;
    const sx = (rx2 - rx1) / (bx2 - bx1);
    const sy = (ry2 - ry1) / (by2 - by1);
    const name = nameFor(normal);
    const n = (v: number) => (Math.round(v * 10_000) / 10_000).toString();
    ops.push(`q ${n(sx)} 0 0 ${n(sy)} ${n(rx1 - sx * bx1)} ${n(ry1 - sy * by1)} cm ${name.asString()} Do Q`);
  }
  if (ops.length === 0) return;
  const box = page.getCropBox();
  const clip = `${box.x} ${box.y} ${box.width} ${box.height} re W n`;
  page.node.wrapContentStreams(ctx.register(ctx.stream('q')), ctx.register(ctx.stream('Q')));
  page.node.addContentStream(ctx.register(ctx.stream(`q ${clip}\n${ops.join('\n')}\nQ`)));
}

async function copyPdfPages(out: PDFDocument, bytes: Uint8Array, label: string, lim: ScanLimits, pagesSoFar: number): Promise<number> {
  // Our own reader sees /Encrypt in any revision's trailer, including xref streams whose object
  // streams pdf-lib cannot read once encrypted (ISO 32000-1 §7.6). Other complaints of it are left to
  // pdf-lib, which is more lenient with scanner output.
  try {
    PdfDocument.open(bytes);
  } catch (cause) {
    if (isPdfError(cause) && cause.code === 'pdf-encrypted') {
      throw new StampError('scan-encrypted', `${label}: encrypted PDF; the officer must supply an unprotected scan`, { cause });
    }
  }
  let src: PDFDocument;
  try {
    src = await PDFDocument.load(bytes, { updateMetadata: false });
  } catch (cause) {
    if (cause instanceof EncryptedPDFError) {
      throw new StampError('scan-encrypted', `${label}: encrypted PDF; the officer must supply an unprotected scan`, { cause });
    }
    throw new StampError('scan-corrupt', `${label}: PDF cannot be read`, { cause });
  }
  // pdf-lib refuses encrypted files only when /Encrypt is in the trailer it reads; check the flag too.
  if (src.isEncrypted) throw new StampError('scan-encrypted', `${label}: encrypted PDF; the officer must supply an unprotected scan`);
  const count = src.getPageCount();
  if (count === 0) throw new StampError('scan-corrupt', `${label}: PDF has no pages`);
  if (pagesSoFar + count > lim.maxPages) {
    throw new StampError('scan-too-many-pages', `${label}: the scan has more than ${lim.maxPages} pages`, { details: { limit: lim.maxPages } });
  }
  // Annotations are drawn above page content, so one reaching below the page would sit over the stamp
  // band the page grows for (it could blank or fake the certification text and the QR code, inside
  // what both signatures cover). What they show is kept, as page content clipped to the page's own
  // box (a copy must show what the original shows); the annotations themselves, and page actions
  // (/AA), are not copied.
  const extended: ExtendedXObjects = new Map();
  for (const [i, page] of src.getPages().entries()) {
    // Each page its own /Contents array: pages that share one (an indirect array) would otherwise each
    // get every page's annotations here and every page's stamp later.
    const contents = page.node.get(PDFName.of('Contents'));
    const list = contents instanceof PDFRef ? src.context.lookup(contents) : undefined;
    if (list instanceof PDFArray) page.node.set(PDFName.of('Contents'), src.context.obj(list.asArray()));
    try {
      flattenAnnotations(src, page, `${label} page ${i + 1}`, extended);
    } catch (cause) {
      if (cause instanceof StampError) throw cause;
      throw new StampError('scan-corrupt', `${label} page ${i + 1}: its annotations cannot be read`, { cause });
    }
    page.node.delete(PDFName.of('Annots'));
    page.node.delete(PDFName.of('AA'));
  }
  let copied: PDFPage[];
  try {
    copied = await out.copyPages(src, src.getPageIndices());
  } catch (cause) {
    throw new StampError('scan-corrupt', `${label}: PDF pages cannot be copied`, { cause });
  }
  for (const page of copied) out.addPage(page);
  return pagesSoFar + count;
}
