/**
 * Pixel density of a scanned image, in dots per inch, as the file states it. A scan that states none
 * is taken at DEFAULT_SCAN_DPI (300 dpi, the common scanner setting and above the 200 dpi minimum of
 * Decree 30/2020 digitisation practice): the page then gets pixels / 300 inches, which is the right
 * paper size for the usual scanner output and a readable size otherwise.
 */
export const DEFAULT_SCAN_DPI = 300;

export interface Resolution {
  x: number;
  y: number;
  /** True when the file stated its density; false when DEFAULT_SCAN_DPI was used. */
  stated: boolean;
}

/** Densities outside this range are treated as absent: 1 dpi (JFIF "no units" written as 1:1) or nonsense. */
const MIN_DPI = 50;
const MAX_DPI = 10_000;

/**
 * Builds a resolution from a stated density in `unit` (1 = inch, 2 = centimetre, 3 = metre).
 * PNG stores pixels per metre and JFIF dots per centimetre as integers, so 300 dpi arrives as
 * 11811 px/m = 299.9994 dpi: when a whole dpi value rounds to exactly the stored integer, that dpi is
 * the one the scanner was set to and is used; otherwise the density is kept to 1/100 dpi.
 */
export function resolutionFrom(x: number, y: number, unit: 'inch' | 'cm' | 'm'): Resolution | undefined {
  const factor = unit === 'inch' ? 1 : unit === 'cm' ? 2.54 : 0.0254;
  const dx = snap(x, factor);
  const dy = snap(y, factor);
  if (!(dx >= MIN_DPI && dx <= MAX_DPI && dy >= MIN_DPI && dy <= MAX_DPI)) return undefined;
  return { x: dx, y: dy, stated: true };
}

export function defaultResolution(): Resolution {
  return { x: DEFAULT_SCAN_DPI, y: DEFAULT_SCAN_DPI, stated: false };
}

function snap(stored: number, factor: number): number {
  const dpi = stored * factor;
  if (factor !== 1) {
    const whole = Math.round(dpi);
    if (Math.round(whole / factor) === stored) return whole;
  }
  return Math.round(dpi * 100) / 100;
}
