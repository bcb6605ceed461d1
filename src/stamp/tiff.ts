/**
 * Multi-page TIFF scans (TIFF 6.0), decoded with utif2 (uncompressed, PackBits, LZW, Deflate,
 * CCITT G3/G4, JPEG-in-TIFF). Each page becomes 8-bit gray or RGB samples, or 1-bit gray for
 * bilevel scans, so that intake can Flate-compress them losslessly: the PDF page shows exactly the
 * decoded pixels, with no lossy recompression (Decree 30/2020: keep the image quality).
 */
import { createRequire } from 'node:module';
import { constants as zlibConstants, inflateRawSync } from 'node:zlib';
import UTIF from 'utif2';
import { StampError } from './errors.ts';
import { jpegFrameSize } from './jpeg.ts';
import { defaultResolution, resolutionFrom, type Resolution } from './resolution.ts';

export interface TiffPageHeader {
  width: number;
  height: number;
  resolution: Resolution;
}

export interface DecodedTiffPage extends TiffPageHeader {
  colorSpace: 'DeviceGray' | 'DeviceRGB';
  bitsPerComponent: 1 | 8;
  /** Rows packed as ISO 32000-1 §8.9.3 wants them (1-bit rows padded to a byte). */
  samples: Uint8Array;
}

/** A TIFF directory as utif2 reads it: plain data, so it can cross to a worker and back. */
export type TiffIfd = UTIF.IFD;
type Ifd = TiffIfd;

/**
 * UTIF.decode as utif2 defines it (its typings leave out the options). Maker notes are camera data a
 * scan does not need, which utif2 would otherwise parse as TIFFs of their own. A SharedArrayBuffer
 * is read as well: utif2 only makes views of the buffer.
 */
const decodeIfds = UTIF.decode as (buffer: ArrayBufferLike, options: { parseMN: boolean; debug: boolean }) => Ifd[];

function tagNumber(ifd: Ifd, tag: number): number | undefined {
  const v = ifd[`t${tag}`];
  if (!Array.isArray(v) || v.length === 0) return undefined;
  const first: unknown = v[0];
  // utif2 gives RATIONALs as [numerator, denominator] pairs and integers as plain numbers.
  if (Array.isArray(first)) {
    const [num, den] = first as unknown[];
    return typeof num === 'number' && typeof den === 'number' && den !== 0 ? num / den : undefined;
  }
  return typeof first === 'number' ? first : undefined;
}

/**
 * The image pages of a TIFF: reduced-resolution copies and masks (NewSubfileType bits 0 and 2) are left out.
 * `buffer` holds the whole file (the caller's own: utif2 reads it through views, never copies it).
 */
export function readTiffPages(buffer: ArrayBufferLike, fileLabel: string): { ifds: Ifd[]; headers: TiffPageHeader[] } {
  checkDirectories(new Uint8Array(buffer), fileLabel);
  let ifds: Ifd[];
  try {
    ifds = decodeIfds(buffer, { parseMN: false, debug: false });
  } catch (cause) {
    throw new StampError('scan-corrupt', `${fileLabel}: TIFF structure cannot be read`, { cause });
  }
  const pages = ifds.filter((ifd) => ((tagNumber(ifd, 254) ?? 0) & 0b101) === 0);
  if (pages.length === 0) throw new StampError('scan-corrupt', `${fileLabel}: TIFF has no image`);
  const headers = pages.map((ifd, i) => {
    const width = tagNumber(ifd, 256);
    const height = tagNumber(ifd, 257);
    if (!width || !height || width < 0 || height < 0) {
      throw new StampError('scan-corrupt', `${fileLabel}: TIFF page ${i + 1} has no image size`);
    }
    const x = tagNumber(ifd, 282);
    const y = tagNumber(ifd, 283);
    const unit = tagNumber(ifd, 296) ?? 2; // TIFF 6.0 §8: ResolutionUnit defaults to inch
    const stated = x !== undefined && y !== undefined && (unit === 2 || unit === 3) ? resolutionFrom(x, y, unit === 2 ? 'inch' : 'cm') : undefined;
    return { width, height, resolution: stated ?? defaultResolution() };
  });
  return { ifds: pages, headers };
}

/** Directories utif2 may read in one file: 200 pages with a few sub-directories each fit many times over. */
const MAX_DIRECTORIES = 4096;
/** Values utif2 may read into arrays and strings: one-row strips on 200 pages of 20 000 rows fit. */
const MAX_DIRECTORY_VALUES = 8_000_000;
/**
 * TIFF 6.0 §2 field types utif2 reads into JavaScript values: bytes per value, and what each costs
 * against MAX_DIRECTORY_VALUES (a rational becomes a pair, a character a piece of a string). BYTE and
 * UNDEFINED (1, 7) become views of the file and cost nothing; utif2 skips other types.
 */
const FIELD_SIZES: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4 };
const FIELD_COSTS: Record<number, number> = { 1: 0, 2: 4, 3: 1, 4: 1, 5: 4, 7: 0, 8: 1, 9: 1, 10: 4, 11: 2, 12: 2, 13: 1 };
/** SubIFDs, Exif and GPS directories: utif2 reads the directories these tags point to. */
const SUB_DIRECTORY_TAGS = new Set([330, 34665, 34853]);
/** DNG private data and Fuji RAW directories: utif2 reads them too, from offsets it finds in odd ways; no scan has them. */
const REFUSED_TAGS = new Set([50740, 61440]);

/**
 * utif2 reads a TIFF's directories without bounds: it follows the chain of directories (TIFF 6.0 §2)
 * and their sub-directories without noticing a loop, and reads as many values as a tag claims, into
 * JavaScript arrays and strings, even past the end of the file. A 30-byte file could keep it reading
 * forever or grow one array until the heap is exhausted, which aborts the whole process, workers'
 * heap limits notwithstanding (nodejs/node#47224). The same walk is made here first, with bounds.
 */
function checkDirectories(data: Uint8Array, label: string): void {
  const corrupt = (why: string) => new StampError('scan-corrupt', `${label}: ${why}`);
  if (data.length < 8) throw corrupt('TIFF header is truncated');
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const little = data[0] === 0x49;
  // Past the end of the file utif2 reads zeros.
  const u16 = (at: number) => (at + 2 <= data.length ? view.getUint16(at, little) : 0);
  const u32 = (at: number) => (at + 4 <= data.length ? view.getUint32(at, little) : 0);
  let directories = 0;
  let values = 0;
  const readDirectory = (at: number, open: Set<number>): void => {
    if (open.has(at)) throw corrupt('TIFF directories form a loop');
    if (++directories > MAX_DIRECTORIES) throw corrupt(`TIFF has more than ${MAX_DIRECTORIES} directories`);
    open.add(at);
    for (let i = 0, n = u16(at); i < n; i++) {
      const entry = at + 2 + i * 12;
      const [tag, type, count] = [u16(entry), u16(entry + 2), u32(entry + 4)];
      const size = FIELD_SIZES[type];
      if (size === undefined) {
        if (count !== 0 && i === 0) break; // utif2 leaves the directory there
        continue;
      }
      if (REFUSED_TAGS.has(tag)) throw corrupt(`TIFF tag ${tag} is not taken in a scan`);
      const bytes = count * size;
      const valuesAt = bytes > 4 ? u32(entry + 8) : entry + 8;
      if (valuesAt + bytes > data.length) throw corrupt(`TIFF tag ${tag} has values past the end of the file`);
      values += count * (FIELD_COSTS[type] ?? 0);
      if (values > MAX_DIRECTORY_VALUES) throw corrupt('TIFF directories hold more values than a scan has');
      if (SUB_DIRECTORY_TAGS.has(tag)) {
        if (type !== 4 && type !== 13) throw corrupt(`TIFF tag ${tag} does not hold directory offsets`);
        for (let k = 0; k < count; k++) readDirectory(u32(valuesAt + 4 * k), open);
      }
    }
    open.delete(at);
  };
  // The chain as utif2 walks it: the first directory is read even at offset 0, and one whose first
  // entry has an unknown type ends the chain.
  for (let at = u32(4), chain = new Set<number>(); ; ) {
    if (chain.has(at)) throw corrupt('TIFF directories form a loop');
    chain.add(at);
    const entries = u16(at);
    const firstType = u16(at + 4);
    if (entries !== 0 && (firstType < 1 || firstType > 13)) return;
    readDirectory(at, new Set());
    at = u32(at + 2 + entries * 12);
    if (at === 0) return;
  }
}

function tagNumbers(ifd: Ifd, tag: number): number[] {
  const v = ifd[`t${tag}`];
  return Array.isArray(v) ? v.filter((x): x is number => typeof x === 'number') : [];
}

/**
 * JPEG-in-TIFF (Compression 6 and 7, TIFF Technical Note 2): the decoder sizes each strip or tile by
 * its JPEG frame header, not by the TIFF's tags, so the pixel limit checked on the tags would not
 * hold for a strip whose frame says more. Each frame must fit the strip or tile the tags describe.
 */
function checkJpegFrames(bytes: Uint8Array, ifd: Ifd, header: TiffPageHeader, label: string): void {
  const compression = tagNumber(ifd, 259);
  if (compression !== 6 && compression !== 7) return;
  const tiled = tagNumber(ifd, 322) !== undefined;
  const segWidth = tiled ? (tagNumber(ifd, 322) ?? 0) : header.width;
  const segHeight = tiled ? (tagNumber(ifd, 323) ?? 0) : Math.min(tagNumber(ifd, 278) ?? header.height, header.height);
  const offsets = tagNumbers(ifd, tiled ? 324 : 273);
  const counts = tagNumbers(ifd, tiled ? 325 : 279);
  const streams: Array<{ at: number; length: number; width: number; height: number }> = offsets.map((at, i) => ({ at, length: counts[i] ?? 0, width: segWidth, height: segHeight }));
  // Old-style JPEG may keep the whole image as one interchange-format stream (tags 513/514).
  const whole = tagNumber(ifd, 513);
  if (compression === 6 && whole !== undefined) streams.push({ at: whole, length: tagNumber(ifd, 514) ?? bytes.length - whole, width: header.width, height: header.height });
  let frames = 0;
  for (const s of streams) {
    const frame = jpegFrameSize(bytes.subarray(s.at, Math.min(bytes.length, s.at + s.length)));
    if (!frame) continue;
    frames++;
    if (frame.width === 0 || frame.height === 0 || frame.width > s.width || frame.height > s.height) {
      throw new StampError('scan-corrupt', `${label}: TIFF JPEG data is ${frame.width}×${frame.height} pixels where the TIFF says ${s.width}×${s.height}`);
    }
  }
  // Compression 7 strips each carry their frame header; one that has none is not decoded here.
  if (compression === 7 && frames < offsets.length) throw new StampError('scan-corrupt', `${label}: TIFF JPEG strip without a frame header`);
}

/**
 * utif2 inflates a Deflate strip or tile whole (pako.inflateRaw) before it looks at its size, so a
 * small strip could grow to gigabytes, outside any heap limit and inside the service's process (the
 * decoder runs in a worker thread). Its pako is replaced by zlib bounded to what the page can hold
 * (`inflateLimit`, set for each page by decodeTiffPage); more is an error, so a scan-corrupt page.
 */
let inflateLimit = 0;
const pako = createRequire(createRequire(import.meta.url).resolve('utif2'))('pako') as { inflateRaw: (src: Uint8Array) => Uint8Array };
pako.inflateRaw = (src) => inflateRawSync(src, { maxOutputLength: Math.max(1, inflateLimit), finishFlush: zlibConstants.Z_SYNC_FLUSH });

/**
 * What utif2 allocates for a page, bounded before it decodes: sample sizes it lays out itself
 * (1–16 bits, 1–5 samples; not camera-raw layouts, whose size utif2 derives from byte counts), and
 * tiles no larger than the page rounded up to 16 (TIFF 6.0 §15), since a tile buffer is allocated
 * and cleared whatever the page's size. Returns the bytes of the page's packed samples.
 */
function checkLayout(ifd: Ifd, header: TiffPageHeader, label: string): number {
  const bps = tagNumber(ifd, 258) ?? 1;
  const spp = tagNumber(ifd, 277) ?? 1;
  if (![1, 2, 4, 8, 16].includes(bps) || !Number.isInteger(spp) || spp < 1 || spp > 5) {
    throw new StampError('scan-corrupt', `${label}: TIFF with ${bps} bits × ${spp} samples per pixel is not a scan this service reads`);
  }
  if (tagNumber(ifd, 262) === 32803 || ifd.t50885 !== undefined) throw new StampError('scan-corrupt', `${label}: camera-raw TIFF data is not a scan`);
  const tw = tagNumber(ifd, 322);
  const th = tagNumber(ifd, 323);
  if (tw !== undefined || th !== undefined) {
    const fits = (t: number | undefined, side: number) => t !== undefined && Number.isInteger(t) && t > 0 && t <= Math.ceil(side / 16) * 16;
    if (!fits(tw, header.width) || !fits(th, header.height)) {
      throw new StampError('scan-corrupt', `${label}: TIFF tiles of ${tw ?? '?'}×${th ?? '?'} pixels on a ${header.width}×${header.height} page`);
    }
  }
  return header.height * Math.ceil((header.width * bps * spp) / 8);
}

export function decodeTiffPage(buffer: ArrayBufferLike, ifd: Ifd, header: TiffPageHeader, label: string): DecodedTiffPage {
  const { width, height } = header;
  checkJpegFrames(new Uint8Array(buffer), ifd, header, label);
  let rgba: Uint8Array;
  try {
    inflateLimit = checkLayout(ifd, header, label);
    UTIF.decodeImage(buffer as ArrayBuffer, ifd); // or a SharedArrayBuffer: see decodeIfds
    rgba = UTIF.toRGBA8(ifd);
  } catch (cause) {
    if (cause instanceof StampError) throw cause;
    throw new StampError('scan-corrupt', `${label}: TIFF image data cannot be decoded`, { cause });
  } finally {
    inflateLimit = 0;
  }
  if (rgba.length < width * height * 4) throw new StampError('scan-corrupt', `${label}: TIFF image data is short (truncated)`);
  const bits = tagNumber(ifd, 258) ?? 1;
  const photometric = tagNumber(ifd, 262);
  const samplesPerPixel = tagNumber(ifd, 277) ?? 1;
  const pixels = width * height;

  // Alpha (ExtraSamples) is composited over white paper: a scan has no transparency to keep.
  const over = (c: number, a: number) => (a === 255 ? c : Math.round((c * a + 255 * (255 - a)) / 255));
  let gray = photometric === 0 || photometric === 1 || samplesPerPixel === 1;
  if (!gray) {
    // An RGB file whose pixels are all gray is stored as gray: same pixels, a third of the bytes.
    gray = true;
    for (let p = 0; p < pixels * 4; p += 4) {
      if (rgba[p] !== rgba[p + 1] || rgba[p] !== rgba[p + 2]) {
        gray = false;
        break;
      }
    }
  }
  if (gray && bits === 1) {
    const rowBytes = Math.ceil(width / 8);
    const samples = new Uint8Array(rowBytes * height);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const p = (y * width + x) * 4;
        if (over(rgba[p] ?? 0, rgba[p + 3] ?? 255) >= 128) samples[y * rowBytes + (x >> 3)]! |= 0x80 >> (x & 7);
      }
    }
    return { ...header, colorSpace: 'DeviceGray', bitsPerComponent: 1, samples };
  }
  const channels = gray ? 1 : 3;
  const samples = new Uint8Array(pixels * channels);
  for (let i = 0, p = 0; i < pixels; i++, p += 4) {
    const a = rgba[p + 3] ?? 255;
    if (gray) samples[i] = over(rgba[p] ?? 0, a);
    else {
      samples[i * 3] = over(rgba[p] ?? 0, a);
      samples[i * 3 + 1] = over(rgba[p + 1] ?? 0, a);
      samples[i * 3 + 2] = over(rgba[p + 2] ?? 0, a);
    }
  }
  return { ...header, colorSpace: gray ? 'DeviceGray' : 'DeviceRGB', bitsPerComponent: 8, samples };
}
