import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.ts';
import { DEFAULT_SCAN_DPI, normalizeScan, StampError, type ScanFile } from '../../src/stamp/index.ts';
import { MAX_ANNOTATIONS_PER_PAGE } from '../../src/stamp/intake.ts';
import { PDFArray, PDFDocument, PDFName, PDFRawStream, decodePDFRawStream } from 'pdf-lib';
import { qpdfCheck } from '../support/pdfTools.ts';
import {
  THREE_PAGES,
  Workdir,
  compareTopRows,
  fixturePdf,
  oneStripJpegTiff,
  parsePnm,
  pdfimagesAll,
  pdfimagesList,
  pdfimagesRasters,
  pdfinfoPageSizes,
  rasterize,
  writeMultiPageTiff,
} from './helpers.ts';

let wd: Workdir;
let source: Uint8Array; // 3 pages of different sizes, so page order is visible in the output sizes
beforeAll(async () => {
  wd = new Workdir();
  source = await fixturePdf(THREE_PAGES);
});
afterAll(() => wd.remove());

const sha256 = (...parts: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};

async function expectStampError(p: Promise<unknown>, code: string): Promise<StampError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StampError);
  expect(err).toBeInstanceOf(InputError);
  expect((err as StampError).code).toBe(code);
  return err as StampError;
}

describe('JPEG scans', () => {
  it('embeds the JPEG bytes unchanged (DCTDecode) on a page of pixels / dpi inches', async () => {
    const jpeg = rasterize(wd, source, 1, 'jpeg', 100); // JFIF density 100 dpi
    const scan = await normalizeScan([{ bytes: jpeg, mimeType: 'image/jpeg', name: 'a.jpg' }]);
    const file = wd.file('jpeg.pdf', scan.pdf);
    expect(qpdfCheck(file).ok).toBe(true);
    expect(scan.pages).toBe(1);
    expect(scan.sourceSha256).toBe(sha256(jpeg));

    const [img] = pdfimagesList(file);
    expect(img).toMatchObject({ type: 'image', enc: 'jpeg', width: 400, height: 500 });
    const [w, h] = pdfinfoPageSizes(file)[0]!;
    expect(w).toBeCloseTo((400 / 100) * 72, 2);
    expect(h).toBeCloseTo((500 / 100) * 72, 2);
    const [extracted] = pdfimagesAll(wd, file);
    expect(extracted!.name).toMatch(/\.jpg$/);
    expect(Buffer.compare(Buffer.from(extracted!.bytes), Buffer.from(jpeg))).toBe(0);
  });

  it(`uses ${DEFAULT_SCAN_DPI} dpi when the JPEG states no density`, async () => {
    const jpeg = Buffer.from(rasterize(wd, source, 2, 'jpeg', 150));
    expect(jpeg.subarray(6, 11).toString('latin1')).toBe('JFIF\0');
    jpeg[13] = 0; // JFIF units 0: aspect ratio only, no density
    const scan = await normalizeScan([{ bytes: jpeg }]);
    const file = wd.file('jpeg-nodpi.pdf', scan.pdf);
    const [img] = pdfimagesList(file);
    const [w, h] = pdfinfoPageSizes(file)[0]!;
    expect(img!.width).toBe(750);
    expect(w).toBeCloseTo((750 / 300) * 72, 2);
    expect(h).toBeCloseTo((img!.height / 300) * 72, 2);
  });

  it('refuses a truncated JPEG as scan-corrupt', async () => {
    const jpeg = rasterize(wd, source, 1, 'jpeg', 100);
    const err = await expectStampError(normalizeScan([{ bytes: jpeg.subarray(0, Math.floor(jpeg.length * 0.7)), name: 'cut.jpg' }]), 'scan-corrupt');
    expect(err.message).toMatch(/cut\.jpg/);
    await expectStampError(normalizeScan([{ bytes: jpeg.subarray(0, 40) }]), 'scan-corrupt');
    // Cut just before the end: the file no longer ends with EOI, so it is walked and refused.
    await expectStampError(normalizeScan([{ bytes: jpeg.subarray(0, jpeg.length - 1) }]), 'scan-corrupt');
    // Bytes after EOI (some cameras append data): the walk finds the EOI and the image is accepted.
    const trailing = await normalizeScan([{ bytes: new Uint8Array([...jpeg, ...Buffer.from('trailer')]) }]);
    expect(trailing.pages).toBe(1);
  });
});

describe('PNG and TIFF scans (lossless)', () => {
  it('PNG: page sized from pHYs, stored pixels identical to the scan', async () => {
    const png = rasterize(wd, source, 1, 'png', 120);
    const scan = await normalizeScan([{ bytes: png, mimeType: 'image/jpeg', name: 'lies.jpg' }]); // the MIME type is ignored
    const file = wd.file('png.pdf', scan.pdf);
    expect(qpdfCheck(file).ok).toBe(true);
    const [img] = pdfimagesList(file);
    expect(img).toMatchObject({ width: 480, height: 600, enc: 'image' });
    const [w] = pdfinfoPageSizes(file)[0]!;
    expect(w).toBeCloseTo(288, 1);
    // pdftoppm gives the same pixels as PNG or PPM; pdfimages decodes what the PDF stores.
    const scanned = parsePnm(rasterize(wd, source, 1, 'ppm', 120));
    const [stored] = pdfimagesRasters(wd, file);
    expect([stored!.width, stored!.height, stored!.channels]).toEqual([480, 600, 3]);
    expect(compareTopRows(scanned, stored!, scanned.height)).toEqual({ maxDiff: 0, differing: 0 });
  });

  it('TIFF: multi-page file, LZW and Deflate files, in order, Flate-compressed and pixel-exact', async () => {
    const pages = [1, 2, 3].map((p) => ({ ...parsePnm(rasterize(wd, source, p, 'ppm', 100)), dpi: 100 }));
    const multi = writeMultiPageTiff(pages);
    const lzw = rasterize(wd, source, 2, 'tiff', 150, ['-tiffcompression', 'lzw']);
    const deflateGray = rasterize(wd, source, 3, 'tiff', 200, ['-tiffcompression', 'deflate', '-gray']);
    const scan = await normalizeScan([{ bytes: multi }, { bytes: lzw }, { bytes: deflateGray }]);
    const file = wd.file('tiff.pdf', scan.pdf);
    expect(qpdfCheck(file).ok).toBe(true);
    expect(scan.pages).toBe(5);
    expect(scan.sourceSha256).toBe(sha256(multi, lzw, deflateGray));
    const sizes = pdfinfoPageSizes(file);
    expect(sizes.map(([w, h]) => [Math.round(w), Math.round(h)])).toEqual([
      [288, 360],
      [360, 216],
      [216, 288],
      [360, 216],
      [216, 288],
    ]);
    const images = pdfimagesList(file);
    expect(images.map((i) => [i.width, i.height, i.color])).toEqual([
      [400, 500, 'rgb'],
      [500, 300, 'rgb'],
      [300, 400, 'rgb'],
      [750, 450, 'rgb'],
      [600, 800, 'gray'],
    ]);
    // pdfimages reports FlateDecode as "image"; no lossy filter anywhere.
    expect(images.every((i) => i.enc === 'image')).toBe(true);
    // Lossless: the samples the PDF stores are the scan's pixels, exactly.
    const stored = pdfimagesRasters(wd, file);
    for (const i of [0, 1, 2]) expect(compareTopRows(pages[i]!, stored[i]!, pages[i]!.height)).toEqual({ maxDiff: 0, differing: 0 });
    const gray = parsePnm(rasterize(wd, source, 3, 'pgm', 200));
    // pdfimages writes every 8-bit image as PPM: the gray samples come back as R = G = B.
    const grayAsRgb = { ...gray, channels: 3 as const, pixels: Uint8Array.from(Array.from(gray.pixels).flatMap((v) => [v, v, v])) };
    expect(compareTopRows(grayAsRgb, stored[4]!, gray.height)).toEqual({ maxDiff: 0, differing: 0 });
  });

  it('TIFF with JPEG strips: accepted when each strip\'s JPEG frame fits the TIFF\'s size, refused when it says more (the pixel limit holds)', async () => {
    const jpegTiff = rasterize(wd, source, 1, 'tiff', 100, ['-tiffcompression', 'jpeg']);
    const scan = await normalizeScan([{ bytes: jpegTiff }]);
    expect(scan.pages).toBe(1);
    expect(pdfimagesList(wd.file('jpeg-tiff.pdf', scan.pdf)).map((i) => [i.width, i.height])).toEqual([[400, 500]]);
    // A TIFF whose tags say 100×100 around a JPEG of 1600×2000: decoding would allocate by the JPEG.
    const big = rasterize(wd, source, 1, 'jpeg', 400, ['-gray']);
    const bomb = oneStripJpegTiff(big, 100, 100);
    const err = await expectStampError(normalizeScan([{ bytes: bomb }]), 'scan-corrupt');
    expect(err.message).toContain('TIFF JPEG data is 1600×2000 pixels where the TIFF says 100×100');
  });

  it('refuses a truncated PNG and a broken TIFF as scan-corrupt', async () => {
    const png = rasterize(wd, source, 1, 'png', 72);
    await expectStampError(normalizeScan([{ bytes: png.subarray(0, png.length - 30) }]), 'scan-corrupt');
    const bad = Buffer.from(png);
    bad[bad.length - 40]! ^= 0xff; // CRC failure in the last IDAT
    await expectStampError(normalizeScan([{ bytes: bad }]), 'scan-corrupt');
    const tiff = writeMultiPageTiff([{ ...parsePnm(rasterize(wd, source, 1, 'ppm', 50)), dpi: 50 }]);
    await expectStampError(normalizeScan([{ bytes: tiff.subarray(0, 4000) }]), 'scan-corrupt');
  });

  it('refuses a scan whose pages come to more than maxPageBytes once decoded (a small PNG or TIFF can decode to far more than its size)', async () => {
    const png = rasterize(wd, source, 1, 'png', 72);
    const tiff = writeMultiPageTiff([{ ...parsePnm(rasterize(wd, source, 1, 'ppm', 50)), dpi: 50 }]);
    for (const bytes of [png, tiff]) {
      const decoded = (await normalizeScan([{ bytes }])).pdf.length;
      const err = await normalizeScan([{ bytes }, { bytes }], { maxPageBytes: Math.floor(decoded * 1.5) }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'scan-too-large', status: 413 });
      expect((err as Error).message).toMatch(/the scan's pages come to more than \d+ bytes once decoded/);
    }
  });
});

describe('PDF scans with annotations', () => {
  const square = (doc: PDFDocument, rect: number[]) => {
    const ctx = doc.context;
    const ap = ctx.register(ctx.stream('0 g 0 0 10 10 re f', { Type: 'XObject', Subtype: 'Form', BBox: [0, 0, 10, 10] }));
    return ctx.register(ctx.obj({ Type: 'Annot', Subtype: 'Square', Rect: rect, F: 4, AP: { N: ap } }));
  };

  it('refuses a page with more annotations than allowed (413) and /Annots that is not an array (scan-corrupt)', async () => {
    const many = await PDFDocument.create();
    const page = many.addPage([200, 200]);
    const one = square(many, [10, 10, 20, 20]);
    page.node.set(PDFName.of('Annots'), many.context.obj(Array.from({ length: MAX_ANNOTATIONS_PER_PAGE + 1 }, () => one)));
    const err = await expectStampError(normalizeScan([{ bytes: await many.save() }]), 'scan-too-many-annotations');
    expect(err.status).toBe(413);
    const odd = await PDFDocument.create();
    odd.addPage([200, 200]).node.set(PDFName.of('Annots'), odd.context.obj(7));
    await expectStampError(normalizeScan([{ bytes: await odd.save() }]), 'scan-corrupt');
  });

  it('draws a page\'s annotation on that page only, when pages share their /Contents array', async () => {
    const doc = await PDFDocument.create();
    const [p1, p2] = [doc.addPage([200, 200]), doc.addPage([200, 200])];
    const ctx = doc.context;
    const sharedContents = ctx.register(ctx.obj([ctx.register(ctx.stream('0 0 1 rg 0 190 10 10 re f'))]));
    for (const p of [p1, p2]) p.node.set(PDFName.of('Contents'), sharedContents);
    p1.node.set(PDFName.of('Annots'), ctx.obj([square(doc, [50, 50, 150, 150])]));
    const scan = await normalizeScan([{ bytes: await doc.save({ useObjectStreams: false }) }]);
    const wd2 = wd.file('shared.pdf', scan.pdf);
    const at = (page: number) => {
      const img = parsePnm(rasterize(wd, readFileSync(wd2), page, 'ppm', 72));
      return img.pixels[((img.height - 1 - 100) * img.width + 100) * 3]!;
    };
    expect(at(1)).toBeLessThan(50); // page 1: the annotation's black square
    expect(at(2)).toBeGreaterThan(200); // page 2: white there
    // Page 2's content does not call page 1's annotation appearance (poppler: "XObject … is unknown").
    const out = await PDFDocument.load(scan.pdf);
    const contentOf = (i: number) => {
      const c = out.getPage(i).node.Contents();
      const refs = c instanceof PDFArray ? c.asArray() : [out.getPage(i).node.get(PDFName.of('Contents'))];
      return refs.map((r) => Buffer.from(decodePDFRawStream(out.context.lookup(r) as PDFRawStream).decode()).toString('latin1')).join('\n');
    };
    expect(contentOf(0)).toContain('Do');
    expect(contentOf(1)).not.toContain('Do');
  });
});

describe('PDF scans', () => {
  it('copies the pages of PDF inputs, mixed with images, in the given order', async () => {
    const jpeg = rasterize(wd, source, 3, 'jpeg', 72);
    const scan = await normalizeScan([{ bytes: source }, { bytes: jpeg }]);
    const file = wd.file('mixed.pdf', scan.pdf);
    expect(qpdfCheck(file).ok).toBe(true);
    expect(scan.pages).toBe(4);
    expect(pdfinfoPageSizes(file).map(([w, h]) => [Math.round(w), Math.round(h)])).toEqual([
      [288, 360],
      [360, 216],
      [216, 288],
      [216, 288],
    ]);
    const text = execFileSync('pdftotext', ['-f', '2', '-l', '2', file, '-'], { encoding: 'utf8' });
    expect(text).toContain('Trang B');
  });

  it('refuses encrypted PDFs', async () => {
    const plain = wd.file('plain.pdf', source);
    const enc = wd.file('enc.pdf');
    execFileSync('qpdf', ['--encrypt', '', 'owner-secret', '256', '--', plain, enc]);
    await expectStampError(normalizeScan([{ bytes: readFileSync(enc), name: 'enc.pdf' }]), 'scan-encrypted');
  });
});

describe('limits and refusals', () => {
  const jpegFile = (): ScanFile => ({ bytes: rasterize(wd, source, 1, 'jpeg', 100) });

  it('total bytes', async () => {
    const f = jpegFile();
    const err = await expectStampError(normalizeScan([f, f], { maxTotalBytes: f.bytes.length * 2 - 1 }), 'scan-too-large');
    expect(err.status).toBe(413);
    await expect(normalizeScan([f, f], { maxTotalBytes: f.bytes.length * 2 })).resolves.toMatchObject({ pages: 2 });
  });

  it('pages (default 200; TIFF pages and PDF pages count)', async () => {
    const tiff = writeMultiPageTiff([1, 2, 3].map((p) => ({ ...parsePnm(rasterize(wd, source, p, 'ppm', 30)), dpi: 100 })));
    await expectStampError(normalizeScan([{ bytes: tiff }], { maxPages: 2 }), 'scan-too-many-pages');
    await expectStampError(normalizeScan([{ bytes: source }], { maxPages: 2 }), 'scan-too-many-pages');
    await expectStampError(normalizeScan([jpegFile(), jpegFile(), jpegFile()], { maxPages: 2 }), 'scan-too-many-pages');
    const many = await fixturePdf(Array.from({ length: 201 }, (_, i) => ({ size: [100, 100] as [number, number], label: `${i}` })));
    await expectStampError(normalizeScan([{ bytes: many }]), 'scan-too-many-pages');
  });

  it('pixels per page, checked from the headers', async () => {
    await expectStampError(normalizeScan([jpegFile()], { maxPixelsPerPage: 400 * 500 - 1 }), 'scan-too-many-pixels');
    await expect(normalizeScan([jpegFile()], { maxPixelsPerPage: 400 * 500 })).resolves.toMatchObject({ pages: 1 });
    // A PNG header claiming 100 000 × 100 000 pixels is refused before any inflation (default 60 Mpx).
    const png = Buffer.from(rasterize(wd, source, 1, 'png', 30));
    png.writeUInt32BE(100_000, 16);
    png.writeUInt32BE(100_000, 20);
    png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
    await expectStampError(normalizeScan([{ bytes: png }]), 'scan-too-many-pixels');
  });

  it('garbage, renamed files and empty input', async () => {
    await expectStampError(
      normalizeScan([{ bytes: Buffer.from('GIF89a not really an image'), mimeType: 'application/pdf', name: 'x.pdf' }]),
      'scan-unsupported-type',
    );
    await expectStampError(normalizeScan([{ bytes: new Uint8Array(0) }]), 'scan-unsupported-type');
    await expectStampError(normalizeScan([]), 'scan-empty');
  });
});

function crc32(bytes: Uint8Array): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}
