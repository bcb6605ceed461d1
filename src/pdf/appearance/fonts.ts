/**
 * TrueType fonts for appearance streams, embedded as subsets the way ISO 32000-1 §9.7 describes a
 * composite font: a Type0 font with /Encoding /Identity-H whose descendant is a CIDFontType2 with
 * /CIDToGIDMap /Identity, so each 2-byte code in a string is the glyph id in the embedded subset.
 *
 * Text is mapped code point by code point (no OpenType shaping): NFC Vietnamese is all precomposed
 * letters, and one glyph per code point keeps the /ToUnicode CMap exact, which is what makes the stamp
 * text extractable and searchable (§9.10.3). Shaping would bring ligatures (DejaVu maps "fi" to one
 * glyph) and glyphs shared by several code points (Đ U+0110 vs Ð U+00D0) that break extraction.
 */
import { readFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import fontkit from '@pdf-lib/fontkit';
import type { Font as FontkitFont, Subset } from '@pdf-lib/fontkit';
import { PDFArray, PDFContext, PDFNumber, PDFRawStream, PDFRef, PDFString } from 'pdf-lib';
import { AppearanceInputError, AppearanceResourceError } from './errors.ts';

export const DEFAULT_FONT_PATH = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';
export const DEFAULT_BOLD_FONT_PATH = '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf';

const parsedFonts = new Map<string, FontkitFont>();

/** Parses a TrueType file once per process; fontkit reads tables lazily, so the cost is small. */
export function loadFont(path: string): FontkitFont {
  const cached = parsedFonts.get(path);
  if (cached !== undefined) return cached;
  let font: FontkitFont;
  try {
    font = fontkit.create(readFileSync(path));
  } catch (cause) {
    throw new AppearanceResourceError(`cannot load font ${path}`, { cause });
  }
  if (font.cff) {
    // FontFile2 / CIDFontType2 are for glyf-based TrueType only (§9.9); CFF would need FontFile3.
    throw new AppearanceResourceError(`font ${path} has CFF outlines; a glyf-based TrueType font is required`);
  }
  parsedFonts.set(path, font);
  return font;
}

/** Width in points of `text` (NFC-normalized) at `size` points, without kerning, as it will be drawn. */
export function textWidth(text: string, size: number, fontPath: string = DEFAULT_FONT_PATH): number {
  const font = loadFont(fontPath);
  return (advanceUnits(font, text.normalize('NFC')) / font.unitsPerEm) * size;
}

function advanceUnits(font: FontkitFont, text: string): number {
  let sum = 0;
  for (const ch of text) sum += font.glyphForCodePoint(ch.codePointAt(0) ?? 0).advanceWidth;
  return sum;
}

/** Characters of `text` the font has no glyph for (they would print as the .notdef box). */
export function missingCharacters(text: string, fontPath: string = DEFAULT_FONT_PATH): string[] {
  const font = loadFont(fontPath);
  const missing = new Set<string>();
  for (const ch of text.normalize('NFC')) {
    if (!font.hasGlyphForCodePoint(ch.codePointAt(0) ?? 0)) missing.add(ch);
  }
  return [...missing];
}

/**
 * Characters whose glyphs every subset includes first: the parts of appearance and stamp text that
 * change from one document to the next (numbers, dates, times, public codes) are written with them.
 * A subset's glyph order is then fixed by the text's constant parts, so the same wording, certifier
 * and agency give the same subset, encoded once per process (see encodedSubsets).
 */
export const PREINCLUDED_CHARACTERS = '0123456789:/.-+ ABCDEFGHIJKLMNOPQRSTUVWXYZ'; // all of A–Z: public codes are RFC 4648 base32

/**
 * Encoded subsets (TrueType file and its Flate stream) by font file and glyph list in inclusion
 * order, which determine the bytes: fontkit's encoding of a subset costs ~1–2 ms and the deflate
 * ~0.5 ms, for each font of each stamp and signature appearance. Bounded; oldest entry evicted first.
 */
const encodedSubsets = new Map<string, Promise<{ fontFile: Uint8Array; deflated: Uint8Array; tag: string }>>();
const ENCODED_SUBSETS_MAX = 64;

/** One font's subset being built for one appearance: encode text first, then embed once. */
export class FontSubset {
  private readonly font: FontkitFont;
  private readonly subset: Subset;
  /** Subset glyph id → the text it stands for and its advance in font units. */
  private readonly used = new Map<number, { text: string; advance: number }>();
  /** Font glyph ids in the order they entered the subset (after .notdef): what the subset encodes. */
  private readonly glyphOrder = new Set<number>();

  constructor(readonly path: string) {
    this.font = loadFont(path);
    this.subset = this.font.createSubset();
    for (const ch of PREINCLUDED_CHARACTERS) {
      const codePoint = ch.codePointAt(0)!;
      if (this.font.hasGlyphForCodePoint(codePoint)) this.include(this.font.glyphForCodePoint(codePoint).id);
    }
  }

  private include(glyphId: number): number {
    this.glyphOrder.add(glyphId);
    return this.subset.includeGlyph(glyphId);
  }

  /** Ascent and descent in em, for placing baselines. */
  get ascent(): number {
    return this.font.ascent / this.font.unitsPerEm;
  }

  get descent(): number {
    return this.font.descent / this.font.unitsPerEm;
  }

  width(text: string, size: number): number {
    return (advanceUnits(this.font, text) / this.font.unitsPerEm) * size;
  }

  /**
   * Adds the glyphs of `text` to the subset and returns the string operand for Tj as hex
   * (§7.3.4.3), two bytes per glyph as Identity-H requires (§9.7.5.2).
   */
  encode(text: string): string {
    let hex = '';
    for (const ch of text) {
      const codePoint = ch.codePointAt(0) ?? 0;
      if (!this.font.hasGlyphForCodePoint(codePoint)) {
        throw new AppearanceInputError(
          'appearance-glyph-missing',
          `font ${this.path} has no glyph for U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`,
          { details: { character: ch } },
        );
      }
      const glyph = this.font.glyphForCodePoint(codePoint);
      const cid = this.include(glyph.id);
      if (!this.used.has(cid)) this.used.set(cid, { text: ch, advance: glyph.advanceWidth });
      hex += cid.toString(16).padStart(4, '0');
    }
    return `<${hex.toUpperCase()}>`;
  }

  /** Writes the Type0 font and its descendants into `context`; returns the Type0 font's reference. */
  async embed(context: PDFContext): Promise<PDFRef> {
    const { fontFile, deflated, tag } = await this.encoded();
    // §9.6.4: a subset's name is a tag of six upper-case letters, '+', then the PostScript name.
    // Derived from the subset bytes so equal subsets get equal names and different ones differ.
    const baseFont = `${tag}+${(this.font.postscriptName ?? 'Font').replace(/[^!-~]|[/()<>[\]{}%#]/g, '')}`;
    const scale = 1000 / this.font.unitsPerEm; // glyph space is 1/1000 em (§9.2.4)

    const fontFileRef = context.register(
      PDFRawStream.of(
        context.obj({ Filter: 'FlateDecode', Length1: fontFile.length }),
        deflated,
      ),
    );
    const bbox = this.font.bbox;
    const capHeight = this.font.glyphForCodePoint(0x48 /* H */).bbox.maxY;
    const descriptorRef = context.register(
      context.obj({
        Type: 'FontDescriptor',
        FontName: baseFont,
        // Symbolic (bit 3): the font has glyphs outside the Standard Latin set (§9.8.2, Table 123).
        Flags: 4,
        FontBBox: [bbox.minX * scale, bbox.minY * scale, bbox.maxX * scale, bbox.maxY * scale].map(round),
        ItalicAngle: this.font.italicAngle,
        Ascent: round(this.font.ascent * scale),
        Descent: round(this.font.descent * scale),
        CapHeight: round(capHeight * scale),
        // StemV is required but TrueType has no such value; this is the customary estimate.
        StemV: this.isBold() ? 140 : 80,
        FontFile2: fontFileRef,
      }),
    );
    const cidFontRef = context.register(
      context.obj({
        Type: 'Font',
        Subtype: 'CIDFontType2',
        BaseFont: baseFont,
        CIDSystemInfo: { Registry: PDFString.of('Adobe'), Ordering: PDFString.of('Identity'), Supplement: 0 },
        FontDescriptor: descriptorRef,
        CIDToGIDMap: 'Identity',
        DW: 1000,
        W: this.widthsArray(context, scale),
      }),
    );
    const toUnicodeRef = context.register(
      PDFRawStream.of(context.obj({ Filter: 'FlateDecode' }), deflateSync(Buffer.from(this.toUnicodeCMap(), 'latin1'))),
    );
    return context.register(
      context.obj({
        Type: 'Font',
        Subtype: 'Type0',
        BaseFont: baseFont,
        Encoding: 'Identity-H',
        DescendantFonts: [cidFontRef],
        ToUnicode: toUnicodeRef,
      }),
    );
  }

  /** The encoded subset, from encodedSubsets when this font and glyph list were encoded before. */
  private encoded(): Promise<{ fontFile: Uint8Array; deflated: Uint8Array; tag: string }> {
    const key = `${this.path}\0${[...this.glyphOrder].join(',')}`;
    let entry = encodedSubsets.get(key);
    if (entry === undefined) {
      entry = encodeSubset(this.subset).then((fontFile) => ({ fontFile, deflated: deflateSync(fontFile), tag: subsetTag(fontFile) }));
      // A failure is not remembered: the next appearance tries again.
      entry.catch(() => encodedSubsets.delete(key));
      if (encodedSubsets.size >= ENCODED_SUBSETS_MAX) encodedSubsets.delete(encodedSubsets.keys().next().value!);
      encodedSubsets.set(key, entry);
    }
    return entry;
  }

  private isBold(): boolean {
    return /bold/i.test(this.font.postscriptName ?? '');
  }

  /** /W as runs of consecutive CIDs: `c [w1 w2 …]` (§9.7.4.3). */
  private widthsArray(context: PDFContext, scale: number): PDFArray {
    const cids = [...this.used.keys()].sort((a, b) => a - b);
    const w = context.obj([]);
    let run: PDFArray | undefined;
    let previous = -2;
    for (const cid of cids) {
      if (cid !== previous + 1 || run === undefined) {
        run = context.obj([]);
        w.push(PDFNumber.of(cid));
        w.push(run);
      }
      run.push(PDFNumber.of(round((this.used.get(cid)?.advance ?? 0) * scale)));
      previous = cid;
    }
    return w;
  }

  /**
   * The /ToUnicode CMap (§9.10.3): one bfchar per glyph used, mapping its 2-byte code to UTF-16BE.
   * Codespace <0000>–<FFFF> matches Identity-H's two-byte codes.
   */
  private toUnicodeCMap(): string {
    const entries = [...this.used.entries()].sort(([a], [b]) => a - b);
    const lines: string[] = [];
    // A bfchar block holds at most 100 entries (Adobe TN 5014 §7).
    for (let i = 0; i < entries.length; i += 100) {
      const block = entries.slice(i, i + 100);
      lines.push(`${block.length} beginbfchar`);
      for (const [cid, { text }] of block) lines.push(`<${hex4(cid)}> <${utf16BeHex(text)}>`);
      lines.push('endbfchar');
    }
    return [
      '/CIDInit /ProcSet findresource begin',
      '12 dict begin',
      'begincmap',
      '/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def',
      '/CMapName /Adobe-Identity-UCS def',
      '/CMapType 2 def',
      '1 begincodespacerange',
      '<0000> <FFFF>',
      'endcodespacerange',
      ...lines,
      'endcmap',
      'CMapName currentdict /CMap defineresource pop',
      'end',
      'end',
      '',
    ].join('\n');
  }
}

function encodeSubset(subset: Subset): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const parts: Uint8Array[] = [];
    const stream = subset.encodeStream();
    stream.on('data', (chunk) => parts.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(parts)));
    (stream as unknown as { on(e: 'error', cb: (err: unknown) => void): unknown }).on('error', (err) =>
      reject(new AppearanceResourceError('font subsetting failed', { cause: err })),
    );
  });
}

/** Six letters A–Z from a 32-bit FNV-1a hash of the subset: only a name, not a security measure. */
function subsetTag(bytes: Uint8Array): string {
  let h = 0x811c9dc5;
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  let tag = '';
  for (let i = 0; i < 6; i++) {
    tag += String.fromCharCode(65 + (h % 26));
    h = Math.imul(h ^ (h >>> 13), 0x5bd1e995 + i) >>> 0;
  }
  return tag;
}

function hex4(n: number): string {
  return n.toString(16).toUpperCase().padStart(4, '0');
}

function utf16BeHex(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) out += hex4(text.charCodeAt(i));
  return out;
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
