/**
 * Text layout for a signature widget: word wrap plus uniform shrink-to-fit. Pure: widths come from a
 * measuring function, so the same code serves the real fonts and the tests.
 */

/** Width in points of `text` set at `size` points in the regular or bold face. */
export type MeasureText = (text: string, size: number, bold: boolean) => number;

export interface TextLineSpec {
  text: string;
  bold?: boolean;
  /** Preferred size in points before shrinking; DEFAULT_FONT_SIZE when absent. */
  size?: number;
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PlacedLine {
  text: string;
  bold: boolean;
  size: number;
  /** Start of the baseline in the form's coordinate space (origin bottom-left, ISO 32000-1 §8.10.1). */
  x: number;
  y: number;
}

export interface LayoutOptions {
  /** Smallest size we accept before giving up; below ~4 pt the stamp is unreadable when printed. */
  minSize?: number;
  /** Baseline-to-baseline distance as a multiple of the size. */
  lineHeight?: number;
  /** Font ascent and descent in em (descent negative), used to place the first baseline. */
  ascent?: number;
  descent?: number;
}

export const DEFAULT_FONT_SIZE = 10;
const SHRINK_STEP = 0.96;
/** Smallest factor tried before wrapping is allowed. */
const NO_WRAP_FLOOR = 0.7;

/**
 * Lays out `lines` inside `box`: every size is scaled by one common factor ≤ 1, first without wrapping
 * (down to NO_WRAP_FLOOR), then with greedy word wrap (a word wider than the box is cut between
 * characters) down to `minSize`; the first layout that fits is centred vertically. Returns null when
 * nothing fits even at `minSize`.
 */
export function layoutText(
  lines: readonly TextLineSpec[],
  box: Box,
  measure: MeasureText,
  options: LayoutOptions = {},
): PlacedLine[] | null {
  const minSize = options.minSize ?? 4;
  const lineHeight = options.lineHeight ?? 1.2;
  const ascent = options.ascent ?? 0.93;
  const descent = options.descent ?? -0.24;
  if (lines.length === 0) return [];
  if (box.width <= 0 || box.height <= 0) return null;

  const baseSizes = lines.map((l) => l.size ?? DEFAULT_FONT_SIZE);
  const smallestBase = Math.min(...baseSizes);
  const lowestFactor = Math.min(1, minSize / smallestBase);
  const attempt = (factor: number, wrap: boolean): PlacedLine[] | null =>
    placeAt(lines, baseSizes, factor, wrap, box, measure, { lineHeight, ascent, descent });

  // First shrink a little without wrapping (a line broken before its last word reads worse than a
  // slightly smaller one), then allow wrapping from full size down to the minimum.
  const noWrapFloor = Math.max(lowestFactor, NO_WRAP_FLOOR);
  for (let f = 1; f > 0; f = nextFactor(f, noWrapFloor)) {
    const placed = attempt(f, false);
    if (placed !== null) return placed;
  }
  for (let f = 1; f > 0; f = nextFactor(f, lowestFactor)) {
    const placed = attempt(f, true);
    if (placed !== null) return placed;
  }
  return null;
}

function placeAt(
  lines: readonly TextLineSpec[],
  baseSizes: readonly number[],
  factor: number,
  wrap: boolean,
  box: Box,
  measure: MeasureText,
  metrics: { lineHeight: number; ascent: number; descent: number },
): PlacedLine[] | null {
  const { lineHeight, ascent, descent } = metrics;
  const wrapped: Array<{ text: string; bold: boolean; size: number }> = [];
  let blockHeight = 0;
  for (const [i, line] of lines.entries()) {
    const size = (baseSizes[i] ?? DEFAULT_FONT_SIZE) * factor;
    const bold = line.bold ?? false;
    const width = (t: string): number => measure(t, size, bold);
    const pieces = wrap ? wrapParagraph(line.text, box.width, width) : singleLine(line.text, box.width, width);
    if (pieces === null) return null;
    for (const piece of pieces) wrapped.push({ text: piece, bold, size });
    blockHeight += pieces.length * size * lineHeight;
  }
  if (blockHeight > box.height + 1e-6) return null;
  // Centre the block, then put each baseline so the glyph extent (ascent..descent) sits in the
  // middle of its line box.
  let lineTop = box.y + box.height - (box.height - blockHeight) / 2;
  const placed: PlacedLine[] = [];
  for (const w of wrapped) {
    const leading = (lineHeight - (ascent - descent)) / 2;
    placed.push({ text: w.text, bold: w.bold, size: w.size, x: box.x, y: lineTop - w.size * (leading + ascent) });
    lineTop -= w.size * lineHeight;
  }
  return placed;
}

function singleLine(text: string, maxWidth: number, width: (t: string) => number): string[] | null {
  const collapsed = text.split(/\s+/).filter((w) => w.length > 0).join(' ');
  return width(collapsed) <= maxWidth ? [collapsed] : null;
}

/** Next smaller factor, landing exactly on `lowest` once; -1 after `lowest` has been tried. */
function nextFactor(factor: number, lowest: number): number {
  if (factor <= lowest) return -1;
  return Math.max(lowest, factor * SHRINK_STEP);
}

/**
 * Greedy word wrap. Runs of spaces collapse into one, since the stamp is not a typeset paragraph.
 * Returns null when a single character is wider than `maxWidth`.
 */
export function wrapParagraph(text: string, maxWidth: number, width: (t: string) => number): string[] | null {
  const words = text.split(/\s+/).filter((w) => w.length > 0);
  if (words.length === 0) return [''];
  const out: string[] = [];
  let current = '';
  for (const word of words) {
    const candidate = current === '' ? word : `${current} ${word}`;
    if (width(candidate) <= maxWidth) {
      current = candidate;
      continue;
    }
    if (current !== '') out.push(current);
    current = '';
    if (width(word) <= maxWidth) {
      current = word;
      continue;
    }
    // A word longer than the line (a long e-mail or serial number): cut it between code points.
    // Input is NFC, so Vietnamese letters are single code points and never lose their marks.
    for (const ch of Array.from(word)) {
      if (width(current + ch) <= maxWidth) {
        current += ch;
      } else {
        if (current === '') return null;
        out.push(current);
        current = ch;
        if (width(current) > maxWidth) return null;
      }
    }
  }
  if (current !== '') out.push(current);
  return out;
}
