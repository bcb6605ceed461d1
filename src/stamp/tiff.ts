/**
 * Multi-page TIFF scans (TIFF 6.0), decoded with utif2 (uncompressed, PackBits, LZW, Deflate,
 * CCITT G3/G4, JPEG-in-TIFF). Each page becomes 8-bit gray or RGB samples, or 1-bit gray for
 * bilevel scans, so that intake can Flate-compress them losslessly: the PDF page shows exactly the
 * decoded pixels, with no lossy recompression (Decree 30/2020: keep the image quality).
 */
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

type Ifd = UTIF.IFD;

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

/** The image pages of a TIFF: reduced-resolution copies and masks (NewSubfileType bits 0 and 2) are left out. */
export function readTiffPages(bytes: Uint8Array, fileLabel: string): { buffer: ArrayBuffer; ifds: Ifd[]; headers: TiffPageHeader[] } {
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  let ifds: Ifd[];
  try {
    ifds = UTIF.decode(buffer);
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
  return { buffer, ifds: pages, headers };
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

export function decodeTiffPage(buffer: ArrayBuffer, ifd: Ifd, header: TiffPageHeader, label: string): DecodedTiffPage {
  const { width, height } = header;
  checkJpegFrames(new Uint8Array(buffer), ifd, header, label);
  let rgba: Uint8Array;
  try {
    UTIF.decodeImage(buffer, ifd);
    rgba = UTIF.toRGBA8(ifd);
  } catch (cause) {
    throw new StampError('scan-corrupt', `${label}: TIFF image data cannot be decoded`, { cause });
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
