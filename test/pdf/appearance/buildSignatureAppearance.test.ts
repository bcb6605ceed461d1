import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  AppearanceInputError,
  buildSignatureAppearance,
  DEFAULT_BOLD_FONT_PATH,
  DEFAULT_FONT_PATH,
  type SignatureAppearance,
  type SignatureAppearanceSpec,
} from '../../../src/pdf/appearance/index.ts';
import { assemblePdf, numberAllocator } from './assemblePdf.ts';
import { blueJpeg, countPixels, readPnm, sealPng } from './images.ts';
import { pdffonts, pdftotext, qpdfCheck, renderPage } from './tools.ts';

const LINES = [
  { text: 'Người ký: Nguyễn Văn An', bold: true },
  { text: 'Cơ quan: UBND tỉnh Thanh Hóa' },
  { text: 'Thời gian: 29/11/2026 16:40:00 +07:00' },
  { text: 'Lý do: Chứng thực bản sao điện tử' },
  { text: 'Địa điểm: Thanh Hóa' },
];
const BOX: [number, number] = [220, 80];
const AT: [number, number] = [20, 20];
const PAGE_HEIGHT = 200;

async function build(spec: Partial<SignatureAppearanceSpec> = {}): Promise<SignatureAppearance> {
  return buildSignatureAppearance({ width: BOX[0], height: BOX[1], lines: LINES, ...spec }, numberAllocator());
}

/** The box in raster coordinates at 72 dpi (1 px per point, origin top-left). */
function boxRaster(inset = 0): { x: number; y: number; width: number; height: number } {
  return {
    x: AT[0] + inset,
    y: PAGE_HEIGHT - AT[1] - BOX[1] + inset,
    width: BOX[0] - 2 * inset,
    height: BOX[1] - 2 * inset,
  };
}

function expectQpdfClean(pdf: Buffer): void {
  const r = qpdfCheck(pdf);
  expect(r.stderr).toBe('');
  expect(r.stdout).toContain('No syntax or stream encoding errors found');
  expect(r.stdout.toLowerCase()).not.toContain('warning');
  expect(r.status).toBe(0);
}

function objectBody(ap: SignatureAppearance, marker: string): Buffer {
  const found = ap.objects.find((o) => Buffer.from(o.body).includes(marker));
  if (found === undefined) throw new Error(`no object containing ${marker}`);
  return Buffer.from(found.body);
}

function streamData(body: Buffer): Buffer {
  const start = body.indexOf('stream\n') + 'stream\n'.length;
  const end = body.lastIndexOf('\nendstream');
  return body.subarray(start, end);
}

describe('buildSignatureAppearance: Vietnamese text', () => {
  it('writes a file qpdf accepts without warnings, whose text pdftotext extracts with exact diacritics', async () => {
    const ap = await build({ border: true });
    const pdf = assemblePdf(ap, { size: BOX, at: AT });
    expectQpdfClean(pdf);
    const text = pdftotext(pdf).normalize('NFC');
    const extracted = text.split('\n').map((l) => l.trim());
    for (const line of LINES) expect(extracted).toContain(line.text.normalize('NFC'));
  });

  it('embeds each face as a Type0/CIDFontType2 Identity-H subset with a tag, ToUnicode, /W and FontFile2', async () => {
    const ap = await build();
    const fonts = pdffonts(assemblePdf(ap, { size: BOX, at: AT }));
    const rows = fonts.split('\n').slice(2).filter((l) => l.trim() !== '');
    expect(rows).toHaveLength(2);
    expect(rows.some((r) => /^[A-Z]{6}\+DejaVuSans\s/.test(r))).toBe(true);
    expect(rows.some((r) => /^[A-Z]{6}\+DejaVuSans-Bold\s/.test(r))).toBe(true);
    for (const row of rows) expect(row).toMatch(/CID TrueType\s+Identity-H\s+yes yes yes/);

    const cidFont = objectBody(ap, '/CIDFontType2').toString('latin1');
    expect(cidFont).toMatch(/\/W \[\d+ \[/);
    expect(cidFont).toContain('/CIDToGIDMap /Identity');
    const descriptor = objectBody(ap, '/Type /FontDescriptor').toString('latin1');
    expect(descriptor).toMatch(/\/FontFile2 \d+ 0 R/);
  });

  it('keeps the font subsets small: only the glyphs used', async () => {
    const ap = await build();
    const fontFiles = ap.objects.map((o) => Buffer.from(o.body)).filter((b) => b.includes('/Length1'));
    expect(fontFiles).toHaveLength(2);
    const fullSize = readFileSync(DEFAULT_FONT_PATH).length;
    expect(readFileSync(DEFAULT_BOLD_FONT_PATH).length).toBeGreaterThan(500_000);
    for (const body of fontFiles) {
      const ttf = inflateSync(streamData(body));
      const length1 = Number(/\/Length1 (\d+)/.exec(body.toString('latin1'))?.[1]);
      expect(length1).toBe(ttf.length); // /Length1 is the decoded length (ISO 32000-1 Table 127)
      // A TrueType sfnt (version 1.0 or Apple's 'true', both glyf-based).
      expect([0x00010000, 0x74727565]).toContain(ttf.readUInt32BE(0));
      expect(ttf.length).toBeLessThan(fullSize / 20);
    }
  });

  it('maps every glyph back to its character, including NFD input, in the ToUnicode CMap', async () => {
    const decomposed = 'Nguyễn Văn An — Địa điểm'.normalize('NFD');
    expect(decomposed).not.toBe(decomposed.normalize('NFC'));
    const ap = await build({ lines: [{ text: decomposed }] });
    const text = pdftotext(assemblePdf(ap, { size: BOX, at: AT })).trim();
    expect(text).toBe('Nguyễn Văn An — Địa điểm'.normalize('NFC'));
    // Ligature-prone pairs stay separate glyphs so "fi" extracts as two letters.
    const ap2 = await build({ lines: [{ text: 'Chữ ký số: fi ffl office' }] });
    expect(pdftotext(assemblePdf(ap2, { size: BOX, at: AT })).trim()).toBe('Chữ ký số: fi ffl office');
  });

  it('renders ink inside the box and nothing outside it', async () => {
    const ap = await build();
    const page = readPnm(renderPage(assemblePdf(ap, { size: BOX, at: AT }), 'pgm').bytes);
    expect(page.width).toBe(300);
    expect(page.height).toBe(PAGE_HEIGHT);
    const dark = (px: number[]): boolean => (px[0] ?? 255) < 128;
    const inside = countPixels(page, boxRaster(), dark);
    expect(inside).toBeGreaterThan(500);
    const everywhere = countPixels(page, { x: 0, y: 0, width: page.width, height: page.height }, dark);
    expect(everywhere).toBe(inside);
  });
});

describe('buildSignatureAppearance: auto-fit', () => {
  it('shrinks and wraps a long reason so every word is drawn inside the box', async () => {
    const reason =
      'Lý do: Chứng thực bản sao từ bản chính theo Nghị định 23/2015/NĐ-CP và Nghị định 45/2020/NĐ-CP về thực hiện thủ tục hành chính trên môi trường điện tử';
    const spec = { lines: [...LINES, { text: reason }], width: 160, height: 70 };
    const ap = await build(spec);
    const pdf = assemblePdf(ap, { size: [160, 70], at: AT });
    expectQpdfClean(pdf);
    const words = pdftotext(pdf).normalize('NFC').split(/\s+/).filter((w) => w !== '');
    const expected = [...LINES.map((l) => l.text), reason].join(' ').split(/\s+/);
    expect(words).toEqual(expected);

    // The text operators stay within the BBox: no Tm starts left of 0 or above the top, and the
    // sizes were reduced below the default 10 pt.
    const content = inflateSync(streamData(objectBody(ap, '/Subtype /Form'))).toString('latin1');
    const sizes = [...content.matchAll(/\/F\d ([\d.]+) Tf/g)].map((m) => Number(m[1]));
    expect(Math.max(...sizes)).toBeLessThan(10);
    const ys = [...content.matchAll(/1 0 0 1 ([\d.]+) ([\d.]+) Tm/g)].map((m) => Number(m[2]));
    expect(ys.length).toBeGreaterThan(LINES.length + 1); // the reason was wrapped onto several lines
    expect(Math.min(...ys)).toBeGreaterThan(0);
    expect(Math.max(...ys)).toBeLessThan(70);
  });

  it('refuses text that cannot fit even at the minimum size', async () => {
    const err = await build({ width: 30, height: 8 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppearanceInputError);
    expect((err as AppearanceInputError).code).toBe('appearance-text-does-not-fit');
    expect((err as AppearanceInputError).status).toBe(422);
  });

  it('refuses characters the font cannot draw instead of printing .notdef boxes', async () => {
    const err = await build({ lines: [{ text: 'Người ký: 王小明' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppearanceInputError);
    expect((err as AppearanceInputError).code).toBe('appearance-glyph-missing');
    expect((err as AppearanceInputError).details).toEqual({ characters: ['王', '小', '明'] });
  });

  it('refuses a degenerate box', async () => {
    const err = await build({ width: 0 }).catch((e: unknown) => e);
    expect((err as AppearanceInputError).code).toBe('appearance-invalid-box');
  });
});

describe('buildSignatureAppearance: images', () => {
  const redish = (px: number[]): boolean => (px[0] ?? 0) > 150 && (px[1] ?? 255) < 100 && (px[2] ?? 255) < 100;
  const bluish = (px: number[]): boolean => (px[2] ?? 0) > 150 && (px[0] ?? 255) < 80;

  it('draws a PNG seal with alpha left of the text: FlateDecode RGB plus an SMask', async () => {
    const ap = await build({ image: { bytes: sealPng(), kind: 'png' } });
    const pdf = assemblePdf(ap, { size: BOX, at: AT });
    expectQpdfClean(pdf);
    const image = objectBody(ap, '/Subtype /Image /BitsPerComponent 8').toString('latin1');
    expect(image).toContain('/ColorSpace /DeviceRGB');
    expect(image).toContain('/Filter /FlateDecode');
    expect(image).toMatch(/\/SMask \d+ 0 R/);

    const page = readPnm(renderPage(pdf, 'ppm').bytes);
    const b = boxRaster();
    const leftColumn = { x: b.x, y: b.y, width: 75, height: b.height };
    const rightPart = { x: b.x + 75, y: b.y, width: b.width - 75, height: b.height };
    expect(countPixels(page, leftColumn, redish)).toBeGreaterThan(300);
    expect(countPixels(page, rightPart, redish)).toBe(0);
    // Transparent pixels of the seal let the page show through: the seal's centre ring gap is white.
    const c = { x: b.x + 4 + 32, y: b.y + b.height / 2 }; // column centre (pad 4, column 64)
    const gap = countPixels(page, { x: Math.round(c.x + 12), y: Math.round(c.y) - 1, width: 2, height: 2 }, (px) =>
      px.every((v) => v > 240),
    );
    expect(gap).toBe(4);
    // The text still extracts next to the seal.
    expect(pdftotext(pdf).normalize('NFC')).toContain('Người ký: Nguyễn Văn An');
  });

  it('passes a JPEG through unchanged under DCTDecode and renders it', async () => {
    const jpeg = blueJpeg();
    expect(jpeg.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    const ap = await build({ image: { bytes: jpeg, kind: 'jpeg' } });
    const pdf = assemblePdf(ap, { size: BOX, at: AT });
    expectQpdfClean(pdf);
    const image = objectBody(ap, '/DCTDecode');
    expect(streamData(image).equals(jpeg)).toBe(true);
    expect(pdf.includes(jpeg)).toBe(true);
    const page = readPnm(renderPage(pdf, 'ppm').bytes);
    const b = boxRaster();
    expect(countPixels(page, { x: b.x, y: b.y, width: 75, height: b.height }, bluish)).toBeGreaterThan(500);
  });

  it('draws an image behind the text, faded', async () => {
    const ap = await build({ image: { bytes: sealPng(), kind: 'png' }, imagePlacement: 'behind' });
    const pdf = assemblePdf(ap, { size: BOX, at: AT });
    expectQpdfClean(pdf);
    expect(objectBody(ap, '/Subtype /Form').toString('latin1')).toMatch(/\/ExtGState <<\/GS0 <<\/Type \/ExtGState \/ca 0\.35/);
    const page = readPnm(renderPage(pdf, 'ppm').bytes);
    // Faded red (35 % over white) is pink: strong red, raised green/blue; no saturated red anywhere.
    const pink = (px: number[]): boolean => (px[0] ?? 0) > 230 && (px[1] ?? 0) > 140 && (px[1] ?? 255) < 200;
    expect(countPixels(page, boxRaster(), pink)).toBeGreaterThan(300);
    expect(countPixels(page, boxRaster(), redish)).toBe(0);
    expect(pdftotext(pdf).normalize('NFC')).toContain('Địa điểm: Thanh Hóa');
  });
});

describe('buildSignatureAppearance: objects handed to the writer', () => {
  it('emits exactly the allocated numbers, the form first, every reference resolved, no page tree', async () => {
    const handed: number[] = [];
    let next = 100;
    const ap = await buildSignatureAppearance(
      { width: 200, height: 60, lines: LINES, image: { bytes: sealPng(), kind: 'png' }, border: true },
      () => {
        handed.push(next);
        return next++;
      },
    );
    const nums = ap.objects.map((o) => o.num);
    expect(ap.formXObject).toBe(100);
    expect(nums[0]).toBe(100);
    expect([...nums].sort((a, b) => a - b)).toEqual(handed);
    // Regular: Type0, CIDFont, descriptor, FontFile2, ToUnicode (×2 faces) + image + SMask + form.
    expect(nums).toHaveLength(13);
    const emitted = new Set(nums);
    for (const o of ap.objects) {
      const text = Buffer.from(o.body).toString('latin1');
      const head = text.includes('\nstream\n') ? text.slice(0, text.indexOf('\nstream\n')) : text;
      for (const m of head.matchAll(/(\d+) 0 R/g)) expect(emitted.has(Number(m[1]))).toBe(true);
      expect(head).not.toMatch(/\/Type \/(Catalog|Pages|Page)\b/);
      if (text.includes('\nstream\n')) {
        const declared = Number(/\/Length (\d+)>>\nstream\n/.exec(text)?.[1]);
        expect(streamData(Buffer.from(o.body)).length).toBe(declared);
        expect(text.endsWith('\nendstream')).toBe(true);
      }
    }
    const form = objectBody(ap, '/Subtype /Form').toString('latin1');
    expect(form).toContain('/BBox [0 0 200 60]');
    expect(form).toMatch(/\/Font <<\/F1 \d+ 0 R \/F2 \d+ 0 R>>/);
    expect(form).toMatch(/\/XObject <<\/Im0 \d+ 0 R>>/);
  });

  it('works as the /AP /N of a signature widget', async () => {
    const ap = await build({ border: true, background: [0.94, 0.96, 1], image: { bytes: sealPng(), kind: 'png' } });
    const pdf = assemblePdf(ap, { size: BOX, at: AT, mode: 'widget' });
    expectQpdfClean(pdf);
    const page = readPnm(renderPage(pdf, 'pgm').bytes);
    expect(countPixels(page, boxRaster(2), (px) => (px[0] ?? 255) < 128)).toBeGreaterThan(500);

    // A picture to look at: test-artifacts/ is git-ignored.
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
    mkdirSync(path.join(root, 'test-artifacts'), { recursive: true });
    const png = renderPage(pdf, 'png', 144).bytes;
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    writeFileSync(path.join(root, 'test-artifacts', 'signature-appearance.png'), png);
  });
});
