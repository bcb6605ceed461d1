/**
 * Puts the certification stamp on a normalised scan, before any signature: every page gets a band
 * below its content with the footer "Số chứng thực …, trang x/y" (it stands in for the paper seal
 * across page edges), and the last page's band also holds the certification text, the conversion
 * marker, the public code and the QR code, and the places where the certifier's and the agency's
 * visible signatures go. The whole file is rewritten by pdf-lib; signing then appends incremental
 * updates (EN 319 142-1), so nothing signed is ever rewritten.
 */
import { deflateSync } from 'node:zlib';
import { PDFDict, PDFDocument, PDFHexString, PDFName, PDFRawStream, type PDFPage, type PDFRef } from 'pdf-lib';
import { AppearanceInputError } from '../pdf/appearance/errors.ts';
import { FontSubset } from '../pdf/appearance/fonts.ts';
import { StampError } from './errors.ts';
import { StampLayout, STYLE, n, type StampFonts } from './layout.ts';
import { extendPageWithBand, type PdfRect } from './pageBand.ts';
import { qrMatrix } from './qr.ts';
import { savePdf } from './save.ts';
import { DEFAULT_STAMP_LAYOUT, DEFAULT_STAMP_TEMPLATE, renderStampText, type StampSpec } from './template.ts';

export interface SignaturePlace {
  /** 1-based page number, as the signing layer's `page` option takes it. */
  page: number;
  /** Widget rectangle in the page's default user space. */
  rect: PdfRect;
}

export interface StampedCopy {
  pdf: Uint8Array;
  signatureRects: { certifier: SignaturePlace; seal: SignaturePlace };
}

/** Stamps a saved PDF, or a document still open in pdf-lib (buildScanDocument's; it is spent afterwards). */
export async function stampCopy(pdf: Uint8Array | PDFDocument, spec: StampSpec): Promise<StampedCopy> {
  const qr = qrMatrix(spec.verificationUrl);
  const template = spec.template ?? DEFAULT_STAMP_TEMPLATE;
  let doc: PDFDocument;
  try {
    doc = pdf instanceof PDFDocument ? pdf : await PDFDocument.load(pdf, { updateMetadata: false });
  } catch (cause) {
    throw new StampError('stamp-invalid-pdf', 'the document to stamp cannot be read', { cause });
  }
  const pages = doc.getPages();
  const pageCount = pages.length;
  if (pageCount === 0) throw new StampError('stamp-invalid-pdf', 'the document to stamp has no pages');
  const text = renderStampText(spec, template, pageCount);

  const fontPaths = template.fonts;
  const regular = loadSubset(fontPaths.regular);
  const bold = loadSubset(fontPaths.bold);
  const streams: { page: PDFPage; content: string; names: { regular: string; bold: string } }[] = [];
  let places: StampedCopy['signatureRects'] | undefined;

  for (const [i, page] of pages.entries()) {
    const number = i + 1;
    const last = number === pageCount;
    const names = freeFontNames(page);
    const fonts: StampFonts = { regular, bold, regularName: names.regular, boldName: names.bold };
    const footer = text.footer(number, pageCount);

    // Measure the band first: on the last page it must hold the whole block at the page's width.
    const visualWidth = visualPageWidth(page);
    const layout = last ? new StampLayout(fonts, text.lines, qr, visualWidth, { ...DEFAULT_STAMP_LAYOUT, ...template.layout }) : undefined;
    const band = roundUp(STYLE.footerHeight + (layout?.height ?? 0), STYLE.bandStep);
    const geometry = extendPageWithBand(page, band, number);

    const ops: string[] = [
      'q',
      `${geometry.matrix.map(n).join(' ')} cm`,
      // White paper under the band: the area was outside the visible page before, and whatever a
      // content stream painted there was never seen; it must not show through the stamp now.
      `1 g 0 0 ${n(geometry.width)} ${n(band)} re f`,
      '0 g',
    ];
    try {
      const fw = regular.width(footer, STYLE.footerSize);
      ops.push(
        `BT /${names.regular} ${STYLE.footerSize} Tf 1 0 0 1 ${n((geometry.width - fw) / 2)} ${n((STYLE.footerHeight - STYLE.footerSize) / 2 + 1)} Tm ${regular.encode(footer)} Tj ET`,
      );
      if (layout) {
        // A hairline separating the scan from the stamp, drawn inside the band.
        const margin = template.layout?.margin ?? DEFAULT_STAMP_LAYOUT.margin;
        ops.push(`0.5 G 0.5 w ${n(margin)} ${n(band - 1)} m ${n(geometry.width - margin)} ${n(band - 1)} l S`);
        const drawing = layout.draw(band - 1);
        ops.push(...drawing.ops);
        places = {
          certifier: { page: number, rect: geometry.toUserRect(...drawing.certifier) },
          seal: { page: number, rect: geometry.toUserRect(...drawing.seal) },
        };
      }
    } catch (err) {
      if (err instanceof AppearanceInputError) {
        throw new StampError('stamp-glyph-missing', `stamp text has a character the stamp font cannot show: ${err.message}`, { cause: err });
      }
      throw err;
    }
    ops.push('Q');
    streams.push({ page, content: ops.join('\n'), names });
  }

  // Fonts are embedded once, after every string was encoded, so one subset serves all pages.
  const regularRef = await regular.embed(doc.context);
  const boldRef = await bold.embed(doc.context);
  for (const { page, content, names } of streams) {
    const ref = doc.context.register(
      PDFRawStream.of(doc.context.obj({ Filter: 'FlateDecode' }), deflateSync(Buffer.from(content, 'latin1'))),
    );
    addStampContent(page, ref, { [names.regular]: regularRef, [names.bold]: boldRef });
  }
  if (spec.signatureFields) {
    const { certifier, seal } = places!;
    addEmptySignatureField(doc, pages[certifier.page - 1]!, spec.signatureFields.certifier, certifier.rect, false);
    addEmptySignatureField(doc, pages[seal.page - 1]!, spec.signatureFields.seal, seal.rect, true);
  }
  return { pdf: await savePdf(doc), signatureRects: places! };
}

/**
 * An empty signature field (merged with its widget, ISO 32000-1 §12.7.3.1) at `rect`, drawing
 * nothing until it is signed; F 132 = Print | Locked, as the signing layer's own fields. `locked`: a
 * /Lock (§12.7.5.5, PDF 2.0 /P 1) that makes the document final once the field is signed, but for
 * LTV data.
 */
function addEmptySignatureField(doc: PDFDocument, page: PDFPage, name: string, rect: PdfRect, locked: boolean): void {
  const field = doc.context.obj({ Type: 'Annot', Subtype: 'Widget', FT: 'Sig', T: PDFHexString.fromText(name), F: 132, Rect: [...rect], P: page.ref });
  if (locked) field.set(PDFName.of('Lock'), doc.context.register(doc.context.obj({ Type: 'SigFieldLock', Action: 'All', P: 1 })));
  const widget = doc.context.register(field);
  page.node.addAnnot(widget);
  doc.catalog.getOrCreateAcroForm().addField(widget);
}

function loadSubset(path: string): FontSubset {
  try {
    return new FontSubset(path);
  } catch (cause) {
    throw new StampError('stamp-invalid-template', `stamp font ${path} cannot be loaded`, { cause });
  }
}

function visualPageWidth(page: PDFPage): number {
  const crop = page.getCropBox();
  const media = page.getMediaBox();
  const w = Math.min(media.x + media.width, crop.x + crop.width) - Math.max(media.x, crop.x);
  const h = Math.min(media.y + media.height, crop.y + crop.height) - Math.max(media.y, crop.y);
  const rotation = ((page.getRotation().angle % 360) + 360) % 360;
  return rotation === 90 || rotation === 270 ? h : w;
}

/** Font resource names not used by the page already (§7.8.3: names are local to the resource dictionary). */
function freeFontNames(page: PDFPage): { regular: string; bold: string } {
  page.node.normalize();
  const fonts = page.node.Resources()?.lookupMaybe(PDFName.of('Font'), PDFDict);
  const taken = (s: string) => fonts?.has(PDFName.of(s)) ?? false;
  let i = 0;
  while (taken(`CtStampR${i || ''}`) || taken(`CtStampB${i || ''}`)) i++;
  return { regular: `CtStampR${i || ''}`, bold: `CtStampB${i || ''}` };
}

/**
 * Appends the stamp's content stream after the page's own, with the page's streams wrapped in q … Q
 * so that a graphics state they leave behind (a cm, a clip, a colour) cannot move or hide the stamp.
 */
function addStampContent(page: PDFPage, ref: PDFRef, fonts: Record<string, PDFRef>): void {
  const ctx = page.doc.context;
  const push = ctx.register(PDFRawStream.of(ctx.obj({}), Buffer.from('q\n', 'latin1')));
  const pop = ctx.register(PDFRawStream.of(ctx.obj({}), Buffer.from('\nQ\n', 'latin1')));
  page.node.normalize();
  page.node.wrapContentStreams(push, pop);
  page.node.addContentStream(ref);
  const resources = page.node.Resources()!;
  let fontDict = resources.lookupMaybe(PDFName.of('Font'), PDFDict);
  if (!fontDict) {
    fontDict = ctx.obj({});
    resources.set(PDFName.of('Font'), fontDict);
  }
  for (const [name, fontRef] of Object.entries(fonts)) fontDict.set(PDFName.of(name), fontRef);
}

function roundUp(x: number, step: number): number {
  return Math.ceil(x / step) * step;
}
