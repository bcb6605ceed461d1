/**
 * Makes room for the stamp without touching the scan: the page's visible area is extended by a band
 * along its visual bottom edge (taking /Rotate into account, ISO 32000-1 §7.7.3.3 Table 30), so the
 * original content keeps its place and its 100 % scale. Shrinking the page into a band would change
 * the scale of a document whose value lies in being a faithful copy; a taller page changes nothing
 * of it.
 *
 * All stamp drawing happens in "visual" coordinates: origin at the lower-left corner of the page as
 * displayed, u to the right, v up, band = 0 ≤ v < bandHeight. `matrix` maps them to default user
 * space for the `cm` operator (§8.3.4).
 */
import type { PDFPage } from 'pdf-lib';
import { PDFName } from 'pdf-lib';
import { StampError } from './errors.ts';

export type Matrix = [number, number, number, number, number, number];
/** [llx, lly, urx, ury] in default user space, as /Rect and /MediaBox are written (§7.9.5). */
export type PdfRect = [number, number, number, number];

export interface PageBand {
  /** Visual width and height of the extended page. */
  width: number;
  height: number;
  bandHeight: number;
  matrix: Matrix;
  toUserRect(u0: number, v0: number, u1: number, v1: number): PdfRect;
}

export function extendPageWithBand(page: PDFPage, bandHeight: number, pageNumber: number): PageBand {
  const media = page.getMediaBox();
  const crop = page.getCropBox();
  // The visible region is the crop box clipped to the media box (§14.11.2).
  let x0 = Math.max(media.x, crop.x);
  let y0 = Math.max(media.y, crop.y);
  let x1 = Math.min(media.x + media.width, crop.x + crop.width);
  let y1 = Math.min(media.y + media.height, crop.y + crop.height);
  if (!(x1 > x0 && y1 > y0)) throw new StampError('stamp-invalid-pdf', `page ${pageNumber} has an empty visible area`);
  const rotation = (((page.getRotation().angle % 360) + 360) % 360) as number;
  if (rotation % 90 !== 0) throw new StampError('stamp-invalid-pdf', `page ${pageNumber} has /Rotate ${rotation}, not a multiple of 90`);

  // Page rotated clockwise by `rotation` for display: its visual bottom edge is this user-space edge.
  if (rotation === 0) y0 -= bandHeight;
  else if (rotation === 90) x1 += bandHeight;
  else if (rotation === 180) y1 += bandHeight;
  else x0 -= bandHeight;

  const mx0 = Math.min(media.x, x0);
  const my0 = Math.min(media.y, y0);
  const mx1 = Math.max(media.x + media.width, x1);
  const my1 = Math.max(media.y + media.height, y1);
  page.setMediaBox(mx0, my0, mx1 - mx0, my1 - my0);
  page.setCropBox(x0, y0, x1 - x0, y1 - y0);
  // Bleed, trim and art boxes default to the crop box (§14.11.2); explicit ones would cut the band off.
  for (const box of ['BleedBox', 'TrimBox', 'ArtBox']) page.node.delete(PDFName.of(box));

  const matrix: Matrix =
    rotation === 0
      ? [1, 0, 0, 1, x0, y0]
      : rotation === 90
        ? [0, 1, -1, 0, x1, y0]
        : rotation === 180
          ? [-1, 0, 0, -1, x1, y1]
          : [0, -1, 1, 0, x0, y1];
  const upright = rotation === 0 || rotation === 180;
  const width = upright ? x1 - x0 : y1 - y0;
  const height = upright ? y1 - y0 : x1 - x0;
  const apply = (u: number, v: number): [number, number] => [
    matrix[0] * u + matrix[2] * v + matrix[4],
    matrix[1] * u + matrix[3] * v + matrix[5],
  ];
  return {
    width,
    height,
    bandHeight,
    matrix,
    toUserRect(u0, v0, u1, v1) {
      const [ax, ay] = apply(u0, v0);
      const [bx, by] = apply(u1, v1);
      return [Math.min(ax, bx), Math.min(ay, by), Math.max(ax, bx), Math.max(ay, by)].map(round3) as PdfRect;
    },
  };
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}
