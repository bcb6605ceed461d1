/**
 * Fixtures and independent readers for the stamp tests: scans are made by poppler from generated
 * pages (pdftoppm -jpeg/-png/-tiff), outputs are read back by poppler, qpdf and zbar, never by the
 * code under test.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { PDFDocument, StandardFonts, degrees, rgb } from 'pdf-lib';

export class Workdir {
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'stamp-test-'));
  file(name: string, bytes?: Uint8Array): string {
    const p = path.join(this.dir, name);
    if (bytes) writeFileSync(p, bytes);
    return p;
  }
  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface FixturePage {
  size: [number, number];
  label: string;
  rotate?: 0 | 90 | 180 | 270;
}

/**
 * Pages with a distinct label, a coloured frame hugging the page edge and text at the very bottom,
 * so that anything drawn over the original area shows up in a pixel comparison.
 */
export async function fixturePdf(pages: FixturePage[]): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (const p of pages) {
    const [w, h] = p.size;
    const page = doc.addPage([w, h]);
    page.drawRectangle({ x: 2, y: 2, width: w - 4, height: h - 4, borderColor: rgb(0.8, 0.1, 0.1), borderWidth: 4 });
    page.drawRectangle({ x: 20, y: h / 2, width: w / 3, height: h / 8, color: rgb(0.1, 0.4, 0.8) });
    page.drawText(p.label, { x: 24, y: h - 60, size: 28, font });
    page.drawText(`bottom edge of ${p.label}`, { x: 24, y: 6, size: 10, font });
    if (p.rotate) page.setRotation(degrees(p.rotate));
  }
  return doc.save();
}

/** Three pages of different sizes, so that page order shows in the output's sizes. */
export const THREE_PAGES: FixturePage[] = [
  { size: [288, 360], label: 'Trang A' },
  { size: [360, 216], label: 'Trang B' },
  { size: [216, 288], label: 'Trang C' },
];

/** pdftoppm of one page into an image file of the given kind; returns its bytes. */
export function rasterize(
  wd: Workdir,
  pdf: Uint8Array,
  page: number,
  kind: 'jpeg' | 'png' | 'tiff' | 'ppm' | 'pgm' | 'pbm',
  dpi: number,
  extra: string[] = [],
): Uint8Array {
  const input = wd.file(`in-${Math.random().toString(36).slice(2)}.pdf`, pdf);
  const prefix = input.replace(/\.pdf$/, '');
  const flag = kind === 'ppm' ? [] : kind === 'pgm' ? ['-gray'] : kind === 'pbm' ? ['-mono'] : [`-${kind}`];
  execFileSync('pdftoppm', [...flag, ...extra, '-r', String(dpi), '-f', String(page), '-l', String(page), '-singlefile', input, prefix]);
  const ext = { jpeg: 'jpg', png: 'png', tiff: 'tif', ppm: 'ppm', pgm: 'pgm', pbm: 'pbm' }[kind];
  return readFileSync(`${prefix}.${ext}`);
}

export interface Raster {
  width: number;
  height: number;
  channels: 1 | 3;
  pixels: Uint8Array;
}

/** Binary PPM (P6) / PGM (P5) with maxval 255, as pdftoppm writes them. */
export function parsePnm(bytes: Uint8Array): Raster {
  const header = Buffer.from(bytes.subarray(0, 64)).toString('latin1');
  const m = /^(P[56])\s+(\d+)\s+(\d+)\s+255\s/.exec(header);
  if (!m) throw new Error('not a binary PNM with maxval 255');
  const width = Number(m[2]);
  const height = Number(m[3]);
  const channels = m[1] === 'P6' ? 3 : 1;
  return { width, height, channels, pixels: bytes.subarray(m[0].length, m[0].length + width * height * channels) };
}

/** Largest per-sample difference over the first `rows` rows, and how many samples differ at all. */
export function compareTopRows(a: Raster, b: Raster, rows: number): { maxDiff: number; differing: number } {
  if (a.width !== b.width || a.channels !== b.channels) throw new Error(`raster widths differ: ${a.width} vs ${b.width}`);
  let maxDiff = 0;
  let differing = 0;
  const n = rows * a.width * a.channels;
  for (let i = 0; i < n; i++) {
    const d = Math.abs((a.pixels[i] ?? 0) - (b.pixels[i] ?? 0));
    if (d > 0) differing++;
    if (d > maxDiff) maxDiff = d;
  }
  return { maxDiff, differing };
}

/**
 * A minimal multi-page baseline TIFF 6.0 writer (little-endian, uncompressed, one strip per page,
 * resolution in dpi): poppler writes one TIFF per page and tiffcp is not installed.
 */
export function writeMultiPageTiff(pages: Array<Raster & { dpi: number }>): Uint8Array {
  const parts: Buffer[] = [Buffer.from([0x49, 0x49, 42, 0, 0, 0, 0, 0])];
  let offset = 8;
  const ifdOffsets: number[] = [];
  const nextPointers: number[] = [];
  for (const p of pages) {
    const pixelsAt = offset;
    parts.push(Buffer.from(p.pixels));
    offset += p.pixels.length;
    if (offset % 2) {
      parts.push(Buffer.alloc(1));
      offset++;
    }
    const extraAt = offset; // BitsPerSample ×3 (6 bytes), then two RATIONALs (16 bytes)
    const extra = Buffer.alloc(22);
    extra.writeUInt16LE(8, 0);
    extra.writeUInt16LE(8, 2);
    extra.writeUInt16LE(8, 4);
    extra.writeUInt32LE(p.dpi, 6);
    extra.writeUInt32LE(1, 10);
    extra.writeUInt32LE(p.dpi, 14);
    extra.writeUInt32LE(1, 18);
    parts.push(extra);
    offset += extra.length;
    const entries: Array<[number, number, number, number]> = [
      [256, 4, 1, p.width],
      [257, 4, 1, p.height],
      p.channels === 3 ? [258, 3, 3, extraAt] : [258, 3, 1, 8],
      [259, 3, 1, 1],
      [262, 3, 1, p.channels === 3 ? 2 : 1],
      [273, 4, 1, pixelsAt],
      [277, 3, 1, p.channels],
      [278, 4, 1, p.height],
      [279, 4, 1, p.pixels.length],
      [282, 5, 1, extraAt + 6],
      [283, 5, 1, extraAt + 14],
      [296, 3, 1, 2],
    ];
    const ifd = Buffer.alloc(2 + entries.length * 12 + 4);
    ifd.writeUInt16LE(entries.length, 0);
    entries.forEach(([tag, type, count, value], i) => {
      const at = 2 + i * 12;
      ifd.writeUInt16LE(tag, at);
      ifd.writeUInt16LE(type, at + 2);
      ifd.writeUInt32LE(count, at + 4);
      if (type === 3 && count === 1) ifd.writeUInt16LE(value, at + 8);
      else ifd.writeUInt32LE(value, at + 8);
    });
    ifdOffsets.push(offset);
    nextPointers.push(offset + 2 + entries.length * 12);
    parts.push(ifd);
    offset += ifd.length;
  }
  const out = Buffer.concat(parts);
  out.writeUInt32LE(ifdOffsets[0]!, 4);
  for (let i = 0; i + 1 < ifdOffsets.length; i++) out.writeUInt32LE(ifdOffsets[i + 1]!, nextPointers[i]!);
  return out;
}

export function pdfinfoPageSizes(file: string): Array<[number, number]> {
  const out = execFileSync('pdfinfo', ['-f', '1', '-l', '9999', file], { encoding: 'utf8' });
  return [...out.matchAll(/^Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts/gm)].map((m) => [Number(m[1]), Number(m[2])]);
}

export interface ListedImage {
  page: number;
  type: string;
  width: number;
  height: number;
  color: string;
  enc: string;
  xppi: number;
}

/** `pdfimages -list`: page num type width height color comp bpc enc interp object ID x-ppi y-ppi size ratio */
export function pdfimagesList(file: string): ListedImage[] {
  const out = execFileSync('pdfimages', ['-list', file], { encoding: 'utf8' });
  return out
    .split('\n')
    .slice(2)
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const c = l.trim().split(/\s+/);
      return { page: Number(c[0]), type: c[2]!, width: Number(c[3]), height: Number(c[4]), color: c[5]!, enc: c[8]!, xppi: Number(c[12]) };
    });
}

/** The raw image streams as pdfimages -all writes them (DCT streams as .jpg, byte for byte). */
export function pdfimagesAll(wd: Workdir, file: string): Array<{ name: string; bytes: Uint8Array }> {
  const prefix = path.join(wd.dir, `img-${Math.random().toString(36).slice(2)}`);
  execFileSync('pdfimages', ['-all', file, prefix]);
  const base = path.basename(prefix);
  return readdirSync(wd.dir)
    .filter((f) => f.startsWith(`${base}-`))
    .sort()
    .map((f) => ({ name: f, bytes: readFileSync(path.join(wd.dir, f)) }));
}

/** Image samples as stored in the PDF, decoded by pdfimages (PPM for RGB, PGM for gray), in page order. */
export function pdfimagesRasters(wd: Workdir, file: string): Raster[] {
  const prefix = path.join(wd.dir, `raw-${Math.random().toString(36).slice(2)}`);
  execFileSync('pdfimages', [file, prefix]);
  const base = path.basename(prefix);
  return readdirSync(wd.dir)
    .filter((f) => f.startsWith(`${base}-`))
    .sort()
    .map((f) => parsePnm(readFileSync(path.join(wd.dir, f))));
}

export function pdftotext(file: string, page: number): string {
  return execFileSync('pdftotext', ['-enc', 'UTF-8', '-f', String(page), '-l', String(page), file, '-'], { encoding: 'utf8' }).normalize('NFC');
}

/** Decoded QR symbols of a PNG, via zbarimg (raw output: one symbol's data per line). */
export function zbarDecode(pngFile: string): string[] {
  const r = spawnSync('zbarimg', ['--raw', '-q', '-Sdisable', '-Sqrcode.enable', pngFile], { encoding: 'utf8' });
  return r.stdout.split('\n').filter((l) => l !== '');
}

export function pdffonts(file: string): string {
  return execFileSync('pdffonts', [file], { encoding: 'utf8' });
}

/** Bytes per value of each TIFF 6.0 field type (§2, "Types"). */
const TIFF_TYPE_SIZES: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4 };

/**
 * Single-page little-endian TIFFs (pdftoppm's, any compression) joined into one multi-page file: the
 * files are laid end to end and every offset in their IFDs moved by where its file now starts.
 */
export function joinTiffs(files: Uint8Array[]): Uint8Array {
  const out = Buffer.concat(files.map((f) => Buffer.from(f)));
  let base = 0;
  let link = 4; // where the previous IFD's "next IFD" offset (or the header's first) is written
  for (const f of files) {
    if (out.toString('latin1', base, base + 2) !== 'II') throw new Error('joinTiffs: little-endian TIFFs only');
    const ifd = base + out.readUInt32LE(base + 4);
    const count = out.readUInt16LE(ifd);
    for (let i = 0; i < count; i++) {
      const at = ifd + 2 + i * 12;
      const [tag, type, n] = [out.readUInt16LE(at), out.readUInt16LE(at + 2), out.readUInt32LE(at + 4)];
      const size = (TIFF_TYPE_SIZES[type] ?? 1) * n;
      if (size > 4) out.writeUInt32LE(out.readUInt32LE(at + 8) + base, at + 8);
      // StripOffsets, TileOffsets, JPEGInterchangeFormat: the values are offsets too.
      if (tag === 273 || tag === 324 || tag === 513) {
        if (type !== 4) throw new Error(`joinTiffs: tag ${tag} of type ${type}`);
        const values = size > 4 ? out.readUInt32LE(at + 8) : at + 8;
        for (let k = 0; k < n; k++) out.writeUInt32LE(out.readUInt32LE(values + 4 * k) + base, values + 4 * k);
      }
      if (tag === 330 || tag === 34665) throw new Error('joinTiffs: sub-IFDs are not moved');
    }
    out.writeUInt32LE(ifd, link);
    link = ifd + 2 + count * 12;
    out.writeUInt32LE(0, link);
    base += f.length;
  }
  return out;
}

/** A one-strip TIFF (Compression 7, gray) around `jpeg` whose tags claim `width`×`height`. */
export function oneStripJpegTiff(jpeg: Uint8Array, width: number, height: number): Uint8Array {
  return oneStripTiff(jpeg, width, height, 7);
}

/**
 * A little-endian one-page 8-bit gray TIFF whose one strip is `data` as given (already compressed
 * with `compression`); `extra` tags (type SHORT or LONG, one value) are added or replace the defaults.
 */
export function oneStripTiff(data: Uint8Array, width: number, height: number, compression: number, extra: Array<[tag: number, type: 3 | 4, value: number]> = []): Uint8Array {
  const base: Array<[number, 3 | 4, number]> = [
    [256, 4, width],
    [257, 4, height],
    [258, 3, 8],
    [259, 3, compression],
    [262, 3, 1],
    [273, 4, 0], // set below
    [277, 3, 1],
    [278, 4, height],
    [279, 4, data.length],
  ];
  const entries = [...base.filter(([t]) => !extra.some(([x]) => x === t)), ...extra].sort((a, b) => a[0] - b[0]);
  const dataAt = 8 + 2 + entries.length * 12 + 4;
  const head = Buffer.alloc(dataAt);
  head.write('II*\0', 0, 'latin1');
  head.writeUInt32LE(8, 4);
  head.writeUInt16LE(entries.length, 8);
  entries.forEach(([tag, type, value], i) => {
    const at = 10 + i * 12;
    head.writeUInt16LE(tag, at);
    head.writeUInt16LE(type, at + 2);
    head.writeUInt32LE(1, at + 4);
    const v = tag === 273 || tag === 324 ? dataAt : value;
    if (type === 3) head.writeUInt16LE(v, at + 8);
    else head.writeUInt32LE(v, at + 8);
  });
  return Buffer.concat([head, data]);
}

/** An 8-bit RGBA PNG (colour type 6) of a pattern with varying alpha: the kind pdf-lib stores with an /SMask. */
export function rgbaPng(width: number, height: number): Uint8Array {
  const row = 1 + width * 4;
  const raw = Buffer.alloc(row * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) raw.set([x & 255, y & 255, 99, (x * y) & 255], y * row + 1 + x * 4);
  }
  const chunk = (type: string, data: Buffer) => {
    const b = Buffer.alloc(12 + data.length);
    b.writeUInt32BE(data.length, 0);
    b.write(type, 4, 'latin1');
    data.copy(b, 8);
    b.writeUInt32BE(zlib.crc32(b.subarray(4, 8 + data.length)), 8 + data.length);
    return b;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 6;
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/** How often a 5 ms interval fired while `work` ran, with its result: a blocked event loop fires it once or twice. */
export async function ticksDuring<T>(work: Promise<T>): Promise<{ ticks: number; result: T }> {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  try {
    const result = await work;
    return { ticks, result };
  } finally {
    clearInterval(timer);
  }
}
