/**
 * Phone photos: a JPEG whose Exif Orientation says "turn me" must come out upright in the normalised
 * PDF, with its bytes unchanged. The expectations come from the Exif 2.3 Orientation table (where the
 * stored 0th row and 0th column are shown), not from the code under test: the stored image has a red
 * block at its first row's start, a blue block at its first row's end and a green block at its last
 * row's start, and each must land in the corner the table names.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PDFDocument, rgb } from 'pdf-lib';
import { normalizeScan } from '../../src/stamp/index.ts';
import { qpdfCheck } from '../support/pdfTools.ts';
import { Workdir, parsePnm, pdfimagesAll, pdfimagesList, pdfinfoPageSizes, rasterize, type Raster } from './helpers.ts';

type Side = 'top' | 'bottom' | 'left' | 'right';
/** Exif 2.3 Table 6 (Orientation): the displayed side of the 0th row, then of the 0th column. */
const TABLE: Record<number, [Side, Side]> = {
  1: ['top', 'left'],
  2: ['top', 'right'],
  3: ['bottom', 'right'],
  4: ['bottom', 'left'],
  5: ['left', 'top'],
  6: ['right', 'top'],
  7: ['right', 'bottom'],
  8: ['left', 'bottom'],
};
const opposite: Record<Side, Side> = { top: 'bottom', bottom: 'top', left: 'right', right: 'left' };
type Corner = `${'top' | 'bottom'}-${'left' | 'right'}`;
function corner(a: Side, b: Side): Corner {
  const v = [a, b].find((s) => s === 'top' || s === 'bottom')!;
  const h = [a, b].find((s) => s === 'left' || s === 'right')!;
  return `${v}-${h}` as Corner;
}

const W = 240; // stored width and height in pixels (72 dpi: points = pixels)
const H = 160;

/** The stored (unturned) picture as a JPEG made by poppler: red at row 0/col 0, blue at row 0/last col, green at last row/col 0. */
async function storedJpeg(wd: Workdir): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const page = doc.addPage([W, H]);
  page.drawRectangle({ x: 0, y: 0, width: W, height: H, color: rgb(1, 1, 1) });
  page.drawRectangle({ x: 0, y: H - 40, width: 40, height: 40, color: rgb(1, 0, 0) });
  page.drawRectangle({ x: W - 40, y: H - 40, width: 40, height: 40, color: rgb(0, 0, 1) });
  page.drawRectangle({ x: 0, y: 0, width: 40, height: 40, color: rgb(0, 0.7, 0) });
  return rasterize(wd, await doc.save(), 1, 'jpeg', 72, ['-jpegopt', 'quality=95']);
}

/** An Exif APP1 segment with Orientation, and optionally X/YResolution in dpi, in the given byte order. */
function exifSegment(orientation: number, order: 'II' | 'MM', dpi?: number): Uint8Array {
  const little = order === 'II';
  const entries = dpi === undefined ? 1 : 4;
  const ifdSize = 2 + entries * 12 + 4;
  const tiff = Buffer.alloc(8 + ifdSize + (dpi === undefined ? 0 : 16));
  const u16 = (v: number, at: number) => (little ? tiff.writeUInt16LE(v, at) : tiff.writeUInt16BE(v, at));
  const u32 = (v: number, at: number) => (little ? tiff.writeUInt32LE(v, at) : tiff.writeUInt32BE(v, at));
  tiff.write(order, 0, 'latin1');
  u16(42, 2);
  u32(8, 4);
  u16(entries, 8);
  const entry = (i: number, tag: number, type: number, count: number, write: (at: number) => void) => {
    const at = 10 + i * 12;
    u16(tag, at);
    u16(type, at + 2);
    u32(count, at + 4);
    write(at + 8);
  };
  entry(0, 274, 3, 1, (at) => u16(orientation, at)); // SHORT, left-justified
  if (dpi !== undefined) {
    const rationals = 8 + ifdSize;
    entry(1, 282, 5, 1, (at) => u32(rationals, at));
    entry(2, 283, 5, 1, (at) => u32(rationals + 8, at));
    entry(3, 296, 3, 1, (at) => u16(2, at));
    u32(dpi, rationals);
    u32(1, rationals + 4);
    u32(dpi, rationals + 8);
    u32(1, rationals + 12);
  }
  const body = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const head = Buffer.from([0xff, 0xe1, 0, 0]);
  head.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([head, body]);
}

/** Inserts APP1 after SOI and a JFIF APP0 if there is one; the entropy-coded data is untouched. */
function withExif(jpeg: Uint8Array, app1: Uint8Array): Uint8Array {
  let at = 2;
  if (jpeg[2] === 0xff && jpeg[3] === 0xe0) at = 4 + ((jpeg[4]! << 8) | jpeg[5]!);
  return Buffer.concat([jpeg.subarray(0, at), app1, jpeg.subarray(at)]);
}

function colourAt(r: Raster, corner: Corner): 'red' | 'blue' | 'green' | 'white' | 'other' {
  const x = corner.endsWith('left') ? 10 : r.width - 11;
  const y = corner.startsWith('top') ? 10 : r.height - 11;
  const i = (y * r.width + x) * 3;
  const [R, G, B] = [r.pixels[i]!, r.pixels[i + 1]!, r.pixels[i + 2]!];
  if (R > 200 && G < 60 && B < 60) return 'red';
  if (B > 200 && R < 60 && G < 60) return 'blue';
  if (G > 120 && R < 60 && B < 60) return 'green';
  if (R > 220 && G > 220 && B > 220) return 'white';
  return 'other';
}

let wd: Workdir;
let plain: Uint8Array;
beforeAll(async () => {
  wd = new Workdir();
  plain = await storedJpeg(wd);
});
afterAll(() => wd.remove());

describe('Exif orientation of JPEG scans', () => {
  for (const o of [1, 2, 3, 4, 5, 6, 7, 8]) {
    for (const order of ['II', 'MM'] as const) {
      it(`orientation ${o} (${order === 'II' ? 'little' : 'big'}-endian) comes out upright, bytes unchanged`, async () => {
        const jpeg = withExif(plain, exifSegment(o, order));
        const scan = await normalizeScan([{ bytes: jpeg }]);
        const file = wd.file(`o${o}${order}.pdf`, scan.pdf);
        expect(qpdfCheck(file)).toMatchObject({ ok: true });

        const [rowSide, colSide] = TABLE[o]!;
        const sideways = rowSide === 'left' || rowSide === 'right';
        expect(pdfinfoPageSizes(file)[0]).toEqual(sideways ? [H, W] : [W, H]);

        const shown = parsePnm(rasterize(wd, scan.pdf, 1, 'ppm', 72));
        expect([shown.width, shown.height]).toEqual(sideways ? [H, W] : [W, H]);
        expect(colourAt(shown, corner(rowSide, colSide))).toBe('red'); // first row, first column
        expect(colourAt(shown, corner(rowSide, opposite[colSide]))).toBe('blue'); // first row, last column
        expect(colourAt(shown, corner(opposite[rowSide], colSide))).toBe('green'); // last row, first column
        expect(colourAt(shown, corner(opposite[rowSide], opposite[colSide]))).toBe('white');

        // DCTDecode passthrough: the embedded stream is the uploaded file, byte for byte.
        expect(pdfimagesList(file).map((i) => [i.enc, i.width, i.height])).toEqual([['jpeg', W, H]]);
        const [embedded] = pdfimagesAll(wd, file);
        expect(Buffer.compare(Buffer.from(embedded!.bytes), Buffer.from(jpeg))).toBe(0);
      });
    }
  }

  it('reads the Exif density next to the orientation (big-endian), with the sides swapped for 6', async () => {
    // No JFIF density: strip poppler's APP0 so that Exif is the only statement.
    const app0 = 4 + ((plain[4]! << 8) | plain[5]!);
    const bare = Buffer.concat([plain.subarray(0, 2), plain.subarray(app0)]);
    const jpeg = withExif(bare, exifSegment(6, 'MM', 144));
    const scan = await normalizeScan([{ bytes: jpeg }]);
    // 160 × 240 displayed pixels at 144 dpi = 80 × 120 points.
    expect(pdfinfoPageSizes(wd.file('dpi.pdf', scan.pdf))[0]).toEqual([80, 120]);
  });

  it('ignores an orientation outside 1–8 and an Exif block whose IFD runs past its end', async () => {
    const overlong = Buffer.from(exifSegment(6, 'II'));
    overlong.writeUInt16LE(20, 4 + 6 + 8); // the IFD claims 20 entries; the segment holds one
    for (const jpeg of [withExif(plain, exifSegment(9, 'II')), withExif(plain, overlong)]) {
      const scan = await normalizeScan([{ bytes: jpeg }]);
      expect(pdfinfoPageSizes(wd.file(`bad-${Math.random().toString(36).slice(2)}.pdf`, scan.pdf))[0]).toEqual([W, H]);
      expect(colourAt(parsePnm(rasterize(wd, scan.pdf, 1, 'ppm', 72)), 'top-left')).toBe('red');
    }
  });
});
