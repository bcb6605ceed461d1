/**
 * Layout of the certification block in the band: measured first, drawn second, in visual
 * coordinates (see pageBand.ts). Two columns when the page is wide enough — the statement, number,
 * date, conversion marker, public code and QR on the left; the certifier's block with the places for
 * the personal signature and the agency seal on the right, as on the paper form — one column on
 * narrow pages. Style (sizes, gaps) is here; wording is in the template.
 */
import type { FontSubset } from '../pdf/appearance/fonts.ts';
import { QR_QUIET_ZONE, qrOperators, type QrMatrix } from './qr.ts';
import { DEFAULT_STAMP_LAYOUT, type StampLayoutOptions, type StampLines } from './template.ts';

export interface StampFonts {
  regular: FontSubset;
  bold: FontSubset;
  /** Resource names on the page being drawn. */
  regularName: string;
  boldName: string;
}

export type VisualRect = [number, number, number, number];

export const STYLE = {
  columnGap: 16,
  /** Two columns only when the statement's column keeps at least this width (460-pt pages at the default layout). */
  minStatementColumn: 146,
  footerHeight: 18,
  footerSize: 7.5,
  /** Band heights are rounded up to a quarter inch, which keeps them whole pixels at 144 dpi and other multiples of 4 dpi. */
  bandStep: 18,
  paddingTop: 10,
  paddingBottom: 4,
  statement: { bold: true, size: 10.5 },
  body: { bold: false, size: 9.5 },
  heading: { bold: true, size: 9.5 },
  titleAgency: { bold: false, size: 9 },
  name: { bold: true, size: 10 },
  conversion: { bold: false, size: 7.5 },
  code: { bold: false, size: 8.5 },
  certifierSignature: { width: 160, height: 56 },
  seal: { width: 76, height: 76 },
  /** QR side including the quiet zone, before widening for long URLs. */
  qrSide: 90,
  qrMinModule: 1.5,
  leading: 1.3,
} as const;

interface TextStyle {
  bold: boolean;
  size: number;
}

type Item =
  | { kind: 'text'; lines: string[]; style: TextStyle; align: 'left' | 'center' }
  | { kind: 'gap'; height: number }
  | { kind: 'box'; id: 'certifier' | 'seal'; width: number; height: number }
  | { kind: 'qr'; side: number; module: number };

export interface StampDrawing {
  ops: string[];
  certifier: VisualRect;
  seal: VisualRect;
}

export class StampLayout {
  private readonly columns: { x: number; width: number; items: Item[] }[];
  readonly height: number;

  constructor(
    private readonly fonts: StampFonts,
    lines: StampLines,
    private readonly qr: QrMatrix,
    pageWidth: number,
    options: StampLayoutOptions = DEFAULT_STAMP_LAYOUT,
  ) {
    const m = options.margin;
    const module = Math.max(STYLE.qrMinModule, STYLE.qrSide / (qr.size + 2 * QR_QUIET_ZONE));
    const qrSide = module * (qr.size + 2 * QR_QUIET_ZONE);
    const two = pageWidth - 2 * m - STYLE.columnGap - options.certifierColumnWidth >= STYLE.minStatementColumn;
    const rightWidth = two ? options.certifierColumnWidth : pageWidth - 2 * m;
    const leftWidth = two ? pageWidth - 2 * m - STYLE.columnGap - rightWidth : pageWidth - 2 * m;
    const text = (s: string, base: TextStyle, width: number, align: 'left' | 'center' = 'left'): Item => {
      const style = { bold: base.bold, size: base.size * options.fontScale };
      return { kind: 'text', lines: s.split('\n').flatMap((para) => this.wrap(para, style, width)), style, align };
    };
    const left: Item[] = [
      text(lines.statement, STYLE.statement, leftWidth),
      text(lines.numberAndVolume, STYLE.body, leftWidth),
      text(lines.date, STYLE.body, leftWidth),
      { kind: 'gap', height: 6 },
      text(lines.conversion, STYLE.conversion, leftWidth),
      { kind: 'gap', height: 6 },
      text(lines.publicCode, STYLE.code, leftWidth),
      ...(lines.accessCode === '' ? [] : [text(lines.accessCode, STYLE.code, leftWidth)]),
      { kind: 'gap', height: 2 },
      { kind: 'qr', side: qrSide, module },
    ];
    const right: Item[] = [
      text(lines.certifierHeading, STYLE.heading, rightWidth, 'center'),
      text(lines.certifierTitleAgency, STYLE.titleAgency, rightWidth, 'center'),
      { kind: 'box', id: 'certifier', ...STYLE.certifierSignature },
      text(lines.certifierName, STYLE.name, rightWidth, 'center'),
      { kind: 'gap', height: 4 },
      { kind: 'box', id: 'seal', ...STYLE.seal },
    ];
    const certifierLeft = options.certifierSide === 'left';
    this.columns = two
      ? [
          { x: certifierLeft ? m + rightWidth + STYLE.columnGap : m, width: leftWidth, items: left },
          { x: certifierLeft ? m : m + leftWidth + STYLE.columnGap, width: rightWidth, items: right },
        ]
      : [{ x: m, width: leftWidth, items: certifierLeft ? [...right, { kind: 'gap', height: 10 }, ...left] : [...left, { kind: 'gap', height: 10 }, ...right] }];
    const content = Math.max(...this.columns.map((c) => c.items.reduce((h, it) => h + this.itemHeight(it), 0)));
    this.height = STYLE.paddingTop + content + STYLE.paddingBottom;
  }

  /** Draws with the top of the block at visual `top`; returns the operators and the two signature places. */
  draw(top: number): StampDrawing {
    const ops: string[] = [];
    const places: Partial<Record<'certifier' | 'seal', VisualRect>> = {};
    for (const col of this.columns) {
      let y = top - STYLE.paddingTop;
      for (const it of col.items) {
        const h = this.itemHeight(it);
        if (it.kind === 'text') {
          const font = it.style.bold ? this.fonts.bold : this.fonts.regular;
          const name = it.style.bold ? this.fonts.boldName : this.fonts.regularName;
          const lead = it.style.size * STYLE.leading;
          it.lines.forEach((line, i) => {
            const w = font.width(line, it.style.size);
            const x = it.align === 'center' ? col.x + (col.width - w) / 2 : col.x;
            const baseline = y - i * lead - font.ascent * it.style.size;
            ops.push(`BT /${name} ${n(it.style.size)} Tf 1 0 0 1 ${n(x)} ${n(baseline)} Tm ${font.encode(line)} Tj ET`);
          });
        } else if (it.kind === 'box') {
          const x = col.x + (col.width - it.width) / 2;
          places[it.id] = [x, y - it.height, x + it.width, y];
        } else if (it.kind === 'qr') {
          // The QR's quiet zone is part of the symbol: align the zone, not the dark modules, to the column.
          ops.push(qrOperators(this.qr, col.x - QR_QUIET_ZONE * it.module, y - it.side, it.module));
        }
        y -= h;
      }
    }
    return { ops, certifier: places.certifier!, seal: places.seal! };
  }

  private itemHeight(it: Item): number {
    switch (it.kind) {
      case 'text':
        return it.lines.length * it.style.size * STYLE.leading;
      case 'gap':
        return it.height;
      case 'box':
        return it.height;
      case 'qr':
        return it.side;
    }
  }

  /** Greedy word wrap; a word wider than the column is broken between characters. */
  private wrap(text: string, style: TextStyle, width: number): string[] {
    const font = style.bold ? this.fonts.bold : this.fonts.regular;
    const fits = (s: string) => font.width(s, style.size) <= width;
    if (text === '') return [];
    if (fits(text)) return [text];
    const out: string[] = [];
    let line = '';
    for (const word of text.split(/ +/)) {
      const candidate = line === '' ? word : `${line} ${word}`;
      if (fits(candidate)) {
        line = candidate;
        continue;
      }
      if (line !== '') out.push(line);
      line = '';
      for (const ch of word) {
        if (line !== '' && !fits(line + ch)) {
          out.push(line);
          line = '';
        }
        line += ch;
      }
    }
    if (line !== '') out.push(line);
    return out;
  }
}

export function n(x: number): string {
  return (Math.round(x * 1000) / 1000).toString();
}
