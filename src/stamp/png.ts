/**
 * Checks a PNG's chunk structure (PNG spec §5: signature, chunks with CRC, IHDR first, IEND last)
 * and reads its size and pHYs density before pdf-lib decodes it: the pixel limit must be enforced
 * before any inflation, and a truncated upload must be refused rather than half-decoded.
 */
import { crc32 } from 'node:zlib';
import { StampError } from './errors.ts';
import { defaultResolution, resolutionFrom, type Resolution } from './resolution.ts';

export interface PngInfo {
  width: number;
  height: number;
  resolution: Resolution;
}

export function readPng(bytes: Uint8Array, fileLabel: string): PngInfo {
  const corrupt = (why: string) => new StampError('scan-corrupt', `${fileLabel}: PNG ${why}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 8;
  let size: { width: number; height: number } | undefined;
  let resolution: Resolution | undefined;
  for (;;) {
    if (pos + 12 > bytes.length) throw corrupt('ends before its IEND chunk (truncated)');
    const length = view.getUint32(pos);
    const type = Buffer.from(bytes.subarray(pos + 4, pos + 8)).toString('latin1');
    const end = pos + 12 + length;
    if (length > 0x7fffffff || end > bytes.length) throw corrupt(`chunk ${JSON.stringify(type)} runs past the end (truncated)`);
    const data = bytes.subarray(pos + 8, pos + 8 + length);
    if (crc32(bytes.subarray(pos + 4, pos + 8 + length)) !== view.getUint32(pos + 8 + length)) {
      throw corrupt(`chunk ${JSON.stringify(type)} fails its CRC`);
    }
    if (size === undefined && type !== 'IHDR') throw corrupt('does not start with IHDR');
    if (type === 'IHDR') {
      if (length !== 13) throw corrupt('has a malformed IHDR');
      size = { width: view.getUint32(pos + 8), height: view.getUint32(pos + 12) };
      if (size.width === 0 || size.height === 0) throw corrupt('has a zero image size');
    } else if (type === 'pHYs' && length === 9 && data[8] === 1) {
      // §11.3.5.3: unit 1 = pixels per metre; unit 0 is an aspect ratio only.
      resolution = resolutionFrom(view.getUint32(pos + 8), view.getUint32(pos + 12), 'm');
    } else if (type === 'IEND') {
      break;
    }
    pos = end;
  }
  if (size === undefined) throw corrupt('has no IHDR');
  return { ...size, resolution: resolution ?? defaultResolution() };
}
