/**
 * Test-only image fixtures, generated rather than committed: an RGBA PNG "seal" (red ring on a
 * transparent background) encoded by hand (PNG spec: signature, IHDR, IDAT zlib, IEND), a JPEG made
 * by poppler's own encoder (`pdftoppm -jpeg`), and readers for the PPM/PGM pages pdftoppm renders.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { crc32, deflateSync } from 'node:zlib';

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const typed = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typed));
  return Buffer.concat([len, typed, crc]);
}

/** A size×size RGBA PNG: opaque red ring, fully transparent elsewhere. */
export function sealPng(size = 64): Buffer {
  const raw = Buffer.alloc(size * (1 + size * 4));
  const c = (size - 1) / 2;
  for (let y = 0; y < size; y++) {
    const row = y * (1 + size * 4);
    raw[row] = 0; // filter type None
    for (let x = 0; x < size; x++) {
      const d = Math.hypot(x - c, y - c) / c;
      const onRing = (d > 0.7 && d < 0.95) || d < 0.25;
      const p = row + 1 + x * 4;
      raw[p] = 220;
      raw[p + 1] = 20;
      raw[p + 2] = 30;
      raw[p + 3] = onRing ? 255 : 0;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // colour type RGBA
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A small solid-blue JPEG, wider than tall, produced by pdftoppm from a one-rectangle PDF. */
export function blueJpeg(): Buffer {
  const dir = mkdtempSync(path.join(tmpdir(), 'appearance-jpeg-'));
  try {
    const content = '0 0.2 0.8 rg 0 0 60 30 re f\n';
    const objs = [
      '<</Type /Catalog /Pages 2 0 R>>',
      '<</Type /Pages /Kids [3 0 R] /Count 1>>',
      '<</Type /Page /Parent 2 0 R /MediaBox [0 0 60 30] /Contents 4 0 R>>',
      `<</Length ${content.length}>>\nstream\n${content}endstream`,
    ];
    let pdf = '%PDF-1.4\n';
    const offsets: number[] = [];
    objs.forEach((o, i) => {
      offsets.push(pdf.length);
      pdf += `${i + 1} 0 obj\n${o}\nendobj\n`;
    });
    const xrefAt = pdf.length;
    pdf += `xref\n0 5\n0000000000 65535 f\r\n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n\r\n`).join('')}`;
    pdf += `trailer\n<</Size 5 /Root 1 0 R>>\nstartxref\n${xrefAt}\n%%EOF\n`;
    writeFileSync(path.join(dir, 'in.pdf'), pdf, 'latin1');
    execFileSync('pdftoppm', ['-jpeg', '-r', '72', '-singlefile', path.join(dir, 'in.pdf'), path.join(dir, 'out')]);
    return readFileSync(path.join(dir, 'out.jpg'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface Raster {
  width: number;
  height: number;
  channels: 1 | 3;
  pixels: Buffer;
}

/** Reads binary PGM (P5) or PPM (P6) with maxval 255, as pdftoppm writes them. */
export function readPnm(bytes: Buffer): Raster {
  const tokens: string[] = [];
  let i = 0;
  while (tokens.length < 4) {
    while (/\s/.test(String.fromCharCode(bytes[i]!))) i++;
    if (bytes[i] === 0x23) {
      while (bytes[i] !== 0x0a) i++;
      continue;
    }
    let t = '';
    while (!/\s/.test(String.fromCharCode(bytes[i]!))) t += String.fromCharCode(bytes[i++]!);
    tokens.push(t);
  }
  i++; // the single whitespace after maxval
  const [magic, w, h, max] = tokens as [string, string, string, string];
  if ((magic !== 'P5' && magic !== 'P6') || max !== '255') throw new Error(`unsupported PNM ${magic} ${max}`);
  const channels = magic === 'P5' ? 1 : 3;
  return { width: Number(w), height: Number(h), channels, pixels: bytes.subarray(i, i + Number(w) * Number(h) * channels) };
}

/** Counts pixels in a rectangle (raster coordinates, origin top-left) matching `test`. */
export function countPixels(
  r: Raster,
  rect: { x: number; y: number; width: number; height: number },
  test: (px: number[]) => boolean,
): number {
  let n = 0;
  for (let y = Math.max(0, rect.y); y < Math.min(r.height, rect.y + rect.height); y++) {
    for (let x = Math.max(0, rect.x); x < Math.min(r.width, rect.x + rect.width); x++) {
      const p = (y * r.width + x) * r.channels;
      const px = [...r.pixels.subarray(p, p + r.channels)];
      if (test(px)) n++;
    }
  }
  return n;
}
