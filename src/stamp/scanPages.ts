/**
 * The pages of a scan in pdf-lib, as intake makes them: image pages at 100 % scale, PDF pages copied
 * with their annotations drawn in, and the page and pixel limits they are checked against. PDF and PNG
 * scans are read with these in the scan reader's child process (scanChild.ts), JPEG and TIFF pages on
 * the service's thread (intake.ts); tests call them in-process to compare.
 */
import { deflateSync } from 'node:zlib';
import { PdfDocument, isPdfError } from '../pdf/index.ts';
import {
  EncryptedPDFError,
  PDFArray,
  PDFDict,
  PDFDocument,
  PDFName,
  PDFNumber,
  PDFRawStream,
  PDFRef,
  PDFStream,
  degrees,
  drawImage,
  type PDFImage,
  type PDFPage,
} from 'pdf-lib';
import { StampError } from './errors.ts';
import { readPng, type PngInfo } from './png.ts';
import type { Resolution } from './resolution.ts';

export interface ScanLimits {
  /** Sum of the input files' sizes. */
  maxTotalBytes: number;
  /** Pages of the resulting document. */
  maxPages: number;
  /** Width × height of any one image page (decompression bombs, memory). */
  maxPixelsPerPage: number;
  /**
   * Bytes the scan's pages come to together (page images after lossless re-compression, PDF pages as
   * copied), all held in memory by the service: a small PNG or TIFF can decode to far more than its
   * size (rows repeated through a PNG filter, TIFF pages sharing one strip).
   */
  maxPageBytes: number;
  /**
   * Time the scan's decoding jobs may take together (ms): each job (a file, a TIFF page) has its own
   * time limit, but a file of 200 pages that each run close to it would hold a decoder for hours.
   */
  maxDecodeMs: number;
}

export const DEFAULT_SCAN_LIMITS: ScanLimits = {
  maxTotalBytes: 100 * 1024 * 1024,
  maxPages: 200,
  maxPixelsPerPage: 60_000_000,
  maxPageBytes: 400 * 1024 * 1024,
  maxDecodeMs: 180_000,
};

/** The limits a file's pages are checked against, with the pages the files before it gave. */
export type PageLimits = Pick<ScanLimits, 'maxPages' | 'maxPixelsPerPage'>;

/** ISO 32000-1 Annex C.2: page sides are limited to 14 400 default user units (200 inches). */
const MAX_PAGE_SIDE = 14_400;

/** `count` more pages after `pagesSoFar`: refused past the page limit. */
export function checkPages(pagesSoFar: number, count: number, lim: Pick<ScanLimits, 'maxPages'>, label: string): void {
  if (pagesSoFar + count > lim.maxPages) {
    throw new StampError('scan-too-many-pages', `${label}: the scan has more than ${lim.maxPages} pages`, { details: { limit: lim.maxPages } });
  }
}

export function checkPixels(width: number, height: number, lim: Pick<ScanLimits, 'maxPixelsPerPage'>, label: string): void {
  if (width * height > lim.maxPixelsPerPage) {
    throw new StampError('scan-too-many-pixels', `${label}: ${width}×${height} pixels exceed ${lim.maxPixelsPerPage} per page`, {
      details: { width, height, limit: lim.maxPixelsPerPage },
    });
  }
}

export function imagePage(doc: PDFDocument, width: number, height: number, res: Resolution, label: string): PDFPage {
  const w = (width / res.x) * 72;
  const h = (height / res.y) * 72;
  if (w > MAX_PAGE_SIDE || h > MAX_PAGE_SIDE) {
    throw new StampError('scan-too-many-pixels', `${label}: ${width}×${height} pixels at ${res.x}×${res.y} dpi make a page over 200 inches`);
  }
  return doc.addPage([w, h]);
}

/** Paints an image XObject over the whole page: the unit square mapped onto the page by `matrix` (§8.9.4). */
export function drawXObject(page: PDFPage, name: PDFName, matrix: readonly number[]): void {
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
 * Per scan document: for each resources' XObject dictionary pages share, the one extended copy (an
 * indirect object) the pages with annotations point to instead, with its own name counter. One copy
 * for all of them, not one per page (pages may share thousands of entries).
 */
type ExtendedXObjects = Map<PDFDict, { ref: PDFRef; dict: PDFDict; next: number }>;

/**
 * Draws each shown annotation's normal appearance into `page`'s content (ISO 32000-1 §12.5.5: the form's
 * /BBox, transformed by its /Matrix, fitted to the annotation's /Rect), clipped to the page's crop box,
 * after the page's own content (wrapped in q/Q so its graphics state cannot leak). Annotations without
 * an appearance (links, popups) draw nothing and are skipped.
 */
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

/**
 * Copies a PDF scan's pages into `out`, their annotations drawn into their content; returns the pages
 * in `out`'s scan so far. Runs in the scan reader's process: pdf-lib parses every object of the file,
 * with no limit of its own.
 */
export async function copyPdfPages(out: PDFDocument, bytes: Uint8Array, label: string, lim: Pick<ScanLimits, 'maxPages'>, pagesSoFar: number): Promise<number> {
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
  let count: number;
  try {
    count = src.getPageCount();
  } catch (cause) {
    // A file pdf-lib reads without a catalog or page tree (it parses leniently).
    throw new StampError('scan-corrupt', `${label}: PDF has no readable page tree`, { cause });
  }
  if (count === 0) throw new StampError('scan-corrupt', `${label}: PDF has no pages`);
  checkPages(pagesSoFar, count, lim, label);
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
  await appendPages(out, src, label);
  return pagesSoFar + count;
}

/** Adds all pages of `src` at the end of `out`. */
export async function appendPages(out: PDFDocument, src: PDFDocument, label: string): Promise<void> {
  let copied: PDFPage[];
  try {
    copied = await out.copyPages(src, src.getPageIndices());
  } catch (cause) {
    throw new StampError('scan-corrupt', `${label}: PDF pages cannot be copied`, { cause });
  }
  for (const page of copied) out.addPage(page);
}

/**
 * A PNG scan's page in `out`: the header checked (before any pixel is inflated), then pdf-lib decodes
 * the pixels and deflates them again (losslessly) when `out` is saved or flushed. Runs in the scan
 * reader's process: a page near the pixel limit takes seconds.
 */
export async function embedPngPage(out: PDFDocument, bytes: Uint8Array, label: string, lim: PageLimits, pagesSoFar: number): Promise<{ info: PngInfo; image: PDFImage }> {
  const info = readPng(bytes, label);
  checkPixels(info.width, info.height, lim, label);
  checkPages(pagesSoFar, 1, lim, label);
  let image: PDFImage;
  try {
    image = await out.embedPng(bytes);
  } catch (cause) {
    throw new StampError('scan-corrupt', `${label}: PNG image data cannot be decoded`, { cause });
  }
  const page = imagePage(out, info.width, info.height, info.resolution, label);
  page.drawImage(image, { x: 0, y: 0, width: page.getWidth(), height: page.getHeight() });
  return { info, image };
}

/** A PNG image as embedPngPage stores it: its samples and alpha channel, each deflated by pdf-lib. */
export interface DeflatedPng {
  width: number;
  height: number;
  bitsPerComponent: number;
  resolution: Resolution;
  rgb: Uint8Array;
  alpha?: Uint8Array | undefined;
}

/**
 * The page embedPngPage makes, from the streams it made (in the scan reader's process): the same image
 * dictionaries as pdf-lib's PNG embedder and the same drawing as PDFPage.drawImage, under a name from
 * `out`'s own sequence.
 */
export function addPngPage(out: PDFDocument, png: DeflatedPng, label: string): void {
  const ctx = out.context;
  const { width: Width, height: Height, bitsPerComponent: BitsPerComponent } = png;
  const sMask = png.alpha && ctx.register(PDFRawStream.of(ctx.obj({ Type: 'XObject', Subtype: 'Image', Height, Width, BitsPerComponent, ColorSpace: 'DeviceGray', Decode: [0, 1], Filter: 'FlateDecode' }), png.alpha));
  const dict = ctx.obj({ Type: 'XObject', Subtype: 'Image', BitsPerComponent, Width, Height, ColorSpace: 'DeviceRGB', SMask: sMask, Filter: 'FlateDecode' });
  const ref = ctx.register(PDFRawStream.of(dict, png.rgb));
  const page = imagePage(out, png.width, png.height, png.resolution, label);
  const name = page.node.newXObject('Image', ref);
  const upright = degrees(0);
  page.pushOperators(...drawImage(name, { x: 0, y: 0, width: page.getWidth(), height: page.getHeight(), rotate: upright, xSkew: upright, ySkew: upright }));
}
