/**
 * Reads what intake needs from a JPEG without decoding it: frame size, components and density, and
 * checks the marker structure up to the first scan and that the file reaches its EOI marker, so
 * that a truncated upload is refused instead of being embedded as a half-grey page. The bytes
 * themselves go into the PDF unchanged (DCTDecode, ISO 32000-1 §7.4.8), so there is no recompression.
 */
import { StampError } from './errors.ts';
import { readExif, type Orientation } from './exif.ts';
import { defaultResolution, resolutionFrom, type Resolution } from './resolution.ts';

export interface JpegInfo {
  width: number;
  height: number;
  components: number;
  resolution: Resolution;
  /** Exif Orientation (1 when absent): how the stored rows must be turned to show the picture upright. */
  orientation: Orientation;
}

/** SOFn markers that start a frame (T.81 Table B.1): all but DHT (C4), JPG (C8) and DAC (CC). */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/**
 * The frame size a JPEG stream's decoder will allocate (its first SOFn, T.81 §B.2.2), read from the
 * markers before the first scan; undefined when there is none there. For JPEG data inside another
 * container (a TIFF strip), whose own size fields a decoder does not follow.
 */
export function jpegFrameSize(bytes: Uint8Array): { width: number; height: number } | undefined {
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) return undefined;
  let pos = 2;
  while (pos + 4 <= bytes.length) {
    if (bytes[pos] !== 0xff) return undefined;
    while (pos < bytes.length && bytes[pos] === 0xff) pos++;
    const marker = bytes[pos] ?? 0;
    pos++;
    if (marker === 0xda || marker === 0xd9) return undefined; // a scan (or the end) before any frame
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) continue; // markers without a length
    const length = ((bytes[pos] ?? 0) << 8) | (bytes[pos + 1] ?? 0);
    if (isStartOfFrame(marker)) {
      if (pos + 7 > bytes.length) return undefined;
      return { height: ((bytes[pos + 3] ?? 0) << 8) | (bytes[pos + 4] ?? 0), width: ((bytes[pos + 5] ?? 0) << 8) | (bytes[pos + 6] ?? 0) };
    }
    if (length < 2) return undefined;
    pos += length;
  }
  return undefined;
}

export function readJpeg(bytes: Uint8Array, fileLabel: string): JpegInfo {
  const corrupt = (why: string) => new StampError('scan-corrupt', `${fileLabel}: JPEG ${why}`);
  const n = bytes.length;
  let frame: { width: number; height: number; components: number } | undefined;
  let jfif: Resolution | undefined;
  let exif: Resolution | undefined;
  let orientation: Orientation = 1;
  let pos = 2; // after SOI
  let sawScan = false;
  for (;;) {
    if (pos >= n) throw corrupt(sawScan ? 'ends before its EOI marker (truncated)' : 'ends before its first scan');
    if (bytes[pos] !== 0xff) {
      if (!sawScan) throw corrupt(`has no marker at offset ${pos}`);
      // Entropy-coded data: skip to the next 0xFF natively (a byte loop costs ~2 ms per MB of scan).
      const next = bytes.indexOf(0xff, pos);
      pos = next < 0 ? n : next;
      continue;
    }
    // T.81 §B.1.1.2: any number of 0xFF fill bytes may precede a marker.
    while (pos < n && bytes[pos] === 0xff) pos++;
    if (pos >= n) throw corrupt('ends inside a marker (truncated)');
    const marker = bytes[pos] ?? 0;
    pos++;
    if (marker === 0x00 || (marker >= 0xd0 && marker <= 0xd7)) {
      // Stuffed 0xFF00 or RSTm inside entropy-coded data (T.81 §B.1.1.5, §F.1.2.3).
      if (!sawScan) throw corrupt('has entropy-coded data before a scan header');
      continue;
    }
    if (marker === 0xd9) break; // EOI
    if (marker === 0xd8 || marker === 0x01) throw corrupt(`has an unexpected marker 0xFF${marker.toString(16)}`);
    if (pos + 2 > n) throw corrupt('ends inside a segment length (truncated)');
    const length = ((bytes[pos] ?? 0) << 8) | (bytes[pos + 1] ?? 0);
    if (length < 2 || pos + length > n) throw corrupt(`segment 0xFF${marker.toString(16).toUpperCase()} runs past the end (truncated)`);
    const body = bytes.subarray(pos + 2, pos + length);
    if (isStartOfFrame(marker)) {
      if (body.length < 6) throw corrupt('has a short frame header');
      const height = ((body[1] ?? 0) << 8) | (body[2] ?? 0);
      const width = ((body[3] ?? 0) << 8) | (body[4] ?? 0);
      // A zero height means "defined by a DNL marker later" (T.81 §B.2.2); PDF readers do not all support it.
      if (width === 0 || height === 0) throw corrupt('has a zero frame size');
      frame = { width, height, components: body[5] ?? 0 };
    } else if (marker === 0xe0 && isAscii(body, 'JFIF\0') && body.length >= 12) {
      // JFIF 1.02 APP0: units (0 none, 1 dpi, 2 dots/cm), Xdensity, Ydensity.
      const unit = body[7];
      const x = ((body[8] ?? 0) << 8) | (body[9] ?? 0);
      const y = ((body[10] ?? 0) << 8) | (body[11] ?? 0);
      if (unit === 1 || unit === 2) jfif = resolutionFrom(x, y, unit === 1 ? 'inch' : 'cm');
    } else if (marker === 0xe1 && isAscii(body, 'Exif\0\0')) {
      const info = readExif(body.subarray(6));
      exif = info.resolution;
      orientation = info.orientation;
    } else if (marker === 0xda) {
      if (frame === undefined) throw corrupt('has a scan before its frame header');
      sawScan = true;
      // The headers that matter are read. A file that ends with its EOI is whole: walking the
      // entropy-coded data to that EOI (one native search per 0xFF, ~0.5 ms per MB) would prove no more
      // about a truncated upload. Only a file that does not end with EOI is walked, to find it.
      if (bytes[n - 2] === 0xff && bytes[n - 1] === 0xd9) break;
    }
    pos += length;
  }
  if (frame === undefined || !sawScan) throw corrupt('has no image data');
  if (frame.components !== 1 && frame.components !== 3 && frame.components !== 4) {
    throw new StampError('scan-unsupported-type', `${fileLabel}: JPEG with ${frame.components} components is not supported`);
  }
  return { ...frame, resolution: jfif ?? exif ?? defaultResolution(), orientation };
}

function isAscii(body: Uint8Array, text: string): boolean {
  for (let i = 0; i < text.length; i++) if (body[i] !== text.charCodeAt(i)) return false;
  return true;
}
