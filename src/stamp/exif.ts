/**
 * What intake reads from a JPEG's Exif APP1 segment (CIPA DC-008 Exif 2.3 §4.5.4, §4.6.4): the
 * density (XResolution 282, YResolution 283, ResolutionUnit 296) and the Orientation (274) of the
 * 0th IFD, a TIFF 6.0 structure in either byte order ("II" little-endian, "MM" big-endian). Phone
 * cameras store the sensor's pixel rows as they come and say in Orientation how to turn them; intake
 * turns the page instead of the pixels (see orientationMatrix), so the JPEG is never recompressed.
 * A malformed Exif block is ignored, as readers do: the image itself is still valid.
 */
import { resolutionFrom, type Resolution } from './resolution.ts';

/** Exif Orientation: 1 upright; 2 mirrored; 3 upside down; 4 flipped; 5–8 the four quarter-turned variants (sides swapped). */
export type Orientation = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;

export interface ExifInfo {
  resolution?: Resolution;
  orientation: Orientation;
}

const TAG_ORIENTATION = 274;
const TAG_X_RESOLUTION = 282;
const TAG_Y_RESOLUTION = 283;
const TAG_RESOLUTION_UNIT = 296;
const TYPE_SHORT = 3;
const TYPE_RATIONAL = 5;

/** `tiff` is the APP1 body after its "Exif\0\0" identifier. */
export function readExif(tiff: Uint8Array): ExifInfo {
  const none: ExifInfo = { orientation: 1 };
  if (tiff.length < 8) return none;
  const view = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  const little = tiff[0] === 0x49 && tiff[1] === 0x49;
  if (!little && !(tiff[0] === 0x4d && tiff[1] === 0x4d)) return none;
  const u16 = (o: number) => view.getUint16(o, little);
  const u32 = (o: number) => view.getUint32(o, little);
  if (u16(2) !== 42) return none;
  const ifd = u32(4);
  if (ifd + 2 > tiff.length) return none;
  const count = u16(ifd);
  let xRes: number | undefined;
  let yRes: number | undefined;
  let unit = 2; // TIFF 6.0: ResolutionUnit defaults to inch
  let orientation: Orientation = 1;
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > tiff.length) return none;
    const tag = u16(entry);
    const type = u16(entry + 2);
    if ((tag === TAG_X_RESOLUTION || tag === TAG_Y_RESOLUTION) && type === TYPE_RATIONAL) {
      const at = u32(entry + 8);
      if (at + 8 > tiff.length) return none;
      const den = u32(at + 4);
      const value = den === 0 ? undefined : u32(at) / den;
      if (tag === TAG_X_RESOLUTION) xRes = value;
      else yRes = value;
    } else if (tag === TAG_RESOLUTION_UNIT && type === TYPE_SHORT) {
      unit = u16(entry + 8);
    } else if (tag === TAG_ORIENTATION && type === TYPE_SHORT) {
      // A SHORT of count 1 sits left-justified in the value field, in the file's byte order (TIFF 6.0 §2).
      const v = u16(entry + 8);
      if (v >= 1 && v <= 8) orientation = v as Orientation;
    }
  }
  const resolution =
    xRes === undefined || yRes === undefined || (unit !== 2 && unit !== 3) ? undefined : resolutionFrom(xRes, yRes, unit === 2 ? 'inch' : 'cm');
  return resolution ? { resolution, orientation } : { orientation };
}

/** True when the stored rows run down the displayed sides (5–8): the page's width and height swap. */
export function swapsSides(o: Orientation): boolean {
  return o >= 5;
}

/**
 * The `cm` matrix that paints an image XObject (unit square, first row at the top, ISO 32000-1
 * §8.9.4) upright on a displayed page of `w` × `h` points: a rotation by quarter turns and/or a
 * mirror, as Exif 2.3 Table 6 describes where the stored 0th row and 0th column go.
 */
export function orientationMatrix(o: Orientation, w: number, h: number): [number, number, number, number, number, number] {
  switch (o) {
    case 1: return [w, 0, 0, h, 0, 0];
    case 2: return [-w, 0, 0, h, w, 0]; // 0th row top, 0th column right: mirrored left–right
    case 3: return [-w, 0, 0, -h, w, h]; // bottom, right: half turn
    case 4: return [w, 0, 0, -h, 0, h]; // bottom, left: mirrored top–bottom
    case 5: return [0, -h, -w, 0, w, h]; // left, top: transposed
    case 6: return [0, -h, w, 0, 0, h]; // right, top: shown turned a quarter clockwise
    case 7: return [0, h, w, 0, 0, 0]; // right, bottom: transverse
    case 8: return [0, h, -w, 0, w, 0]; // left, bottom: shown turned a quarter anticlockwise
  }
}
