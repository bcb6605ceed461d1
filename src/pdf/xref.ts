import type { ByteSource } from './ByteSource.ts';
import { Lexer, ascii, findBytes, isWhite, lastIndexOf } from './Lexer.ts';
import { PdfError } from './PdfError.ts';
import { decodeStreamFully } from './filters.ts';
import { PdfDict, PdfStream, numberValue } from './objects.ts';
import { DEFAULT_PARSER_LIMITS, parseIndirectObject, parseValue, type ParserLimits, type ValueBudget } from './parser.ts';

/** One cross-reference entry (§7.5.4 table, §7.5.8.3 stream types 0/1/2). */
export type XrefEntry =
  | { type: 'free'; gen: number }
  | { type: 'offset'; offset: number; gen: number }
  | { type: 'compressed'; stream: number; index: number };

/** One cross-reference section with its trailer, as found at a `startxref` / `/Prev` offset. */
export interface XrefSection {
  offset: number;
  kind: 'table' | 'stream';
  trailer: PdfDict;
  entries: Map<number, XrefEntry>;
  /** Byte after the `%%EOF` that follows the section, or after the section itself when missing. */
  eofEnd: number;
  /** As eofEnd, plus the single EOL (CRLF, LF or CR) after `%%EOF` when present. */
  eofEndWithEol: number;
  /** Byte after the section itself (the trailer dictionary, or the xref stream's data). */
  sectionEnd: number;
  /** The `startxref` value written right before that `%%EOF` (§7.5.5), or null when there is none. */
  startxrefAtEof: number | null;
}

export interface XrefLimits {
  /** Largest object number accepted (a bound on /Size and subsection ranges). */
  maxObjects: number;
  /** Values the trailers and xref stream dictionaries of the whole chain may hold together. */
  budget?: ValueBudget;
}

const parserLimits = (l: XrefLimits): ParserLimits => (l.budget ? { ...DEFAULT_PARSER_LIMITS, budget: l.budget } : DEFAULT_PARSER_LIMITS);

const EOF_MARK = ascii('%%EOF');
const STARTXREF = ascii('startxref');

/** Finds the value of the last `startxref` (§7.5.5), tolerating garbage after `%%EOF`. */
export function findStartXref(src: ByteSource): number {
  for (const tail of [4096, 1024 * 1024]) {
    const from = Math.max(0, src.length - tail);
    const block = src.read(from, src.length - from);
    const idx = Buffer.from(block.buffer, block.byteOffset, block.length).lastIndexOf(STARTXREF);
    if (idx >= 0) {
      const lx = new Lexer(src, from + idx + STARTXREF.length);
      const t = lx.next();
      if (t.kind !== 'int' || t.value < 0 || t.value >= src.length) {
        throw new PdfError('pdf-malformed', 'startxref is not followed by a valid offset');
      }
      return t.value;
    }
    if (from === 0) break;
  }
  throw new PdfError('pdf-malformed', 'no startxref found at the end of the file');
}

/** Reads the xref section (table or stream) at `offset`. */
export function readXrefSection(src: ByteSource, offset: number, limits: XrefLimits): XrefSection {
  const lx = new Lexer(src, offset);
  lx.skipWhite();
  const save = lx.pos;
  const t = lx.next();
  if (t.kind === 'kw' && t.value === 'xref') return readTable(src, lx, offset, limits);
  lx.pos = save;
  if (t.kind === 'int') return readStreamSection(src, offset, limits);
  throw new PdfError('pdf-malformed', `startxref/Prev offset ${offset} points neither at "xref" nor at an xref stream`);
}

function readTable(src: ByteSource, lx: Lexer, offset: number, limits: XrefLimits): XrefSection {
  const entries = new Map<number, XrefEntry>();
  for (;;) {
    const save = lx.pos;
    const t = lx.next();
    if (t.kind === 'kw' && t.value === 'trailer') break;
    if (t.kind !== 'int') {
      lx.pos = save;
      throw new PdfError('pdf-malformed', `bad xref subsection header at offset ${save}`);
    }
    const c = lx.next();
    if (c.kind !== 'int' || t.value < 0 || c.value < 0 || t.value + c.value > limits.maxObjects) {
      throw new PdfError('pdf-malformed', `bad xref subsection header at offset ${save}`);
    }
    // Each entry is 20 bytes (§7.5.4); the count cannot exceed what the file could hold.
    if (c.value * 18 > src.length) throw new PdfError('pdf-malformed', `xref subsection at ${save} claims ${c.value} entries`);
    for (let i = 0; i < c.value; i++) {
      const o = lx.next();
      const g = lx.next();
      const k = lx.next();
      if (o.kind !== 'int' || g.kind !== 'int' || k.kind !== 'kw' || (k.value !== 'n' && k.value !== 'f')) {
        throw new PdfError('pdf-malformed', `bad xref entry ${t.value + i} near offset ${lx.pos}`);
      }
      const num = t.value + i;
      // In a table the first definition of a number wins within one section.
      if (entries.has(num)) continue;
      if (k.value === 'f') entries.set(num, { type: 'free', gen: g.value });
      else if (o.value === 0 && num !== 0) entries.set(num, { type: 'free', gen: g.value });
      else entries.set(num, { type: 'offset', offset: o.value, gen: g.value });
    }
  }
  const trailer = parseValue(lx, parserLimits(limits));
  if (!(trailer instanceof PdfDict)) throw new PdfError('pdf-malformed', `trailer at ${offset} is not a dictionary`);
  return { offset, kind: 'table', trailer, entries, sectionEnd: lx.pos, ...eofAfter(src, lx.pos) };
}

function readStreamSection(src: ByteSource, offset: number, limits: XrefLimits): XrefSection {
  // §7.5.8.2: an xref stream's /Length must be direct, so no resolver is needed.
  const obj = parseIndirectObject(src, offset, () => undefined, parserLimits(limits));
  const stream = obj.value;
  if (!(stream instanceof PdfStream) || stream.dict.getName('Type') !== 'XRef') {
    throw new PdfError('pdf-malformed', `object at xref offset ${offset} is not an xref stream`);
  }
  const entries = parseXrefStream(stream, limits);
  const dataEnd = (stream.location?.offset ?? offset) + (stream.location?.length ?? 0);
  return { offset, kind: 'stream', trailer: stream.dict, entries, sectionEnd: dataEnd, ...eofAfter(src, dataEnd) };
}

export function parseXrefStream(stream: PdfStream, limits: XrefLimits): Map<number, XrefEntry> {
  const d = stream.dict;
  const w = d.get('W');
  if (!Array.isArray(w) || w.length < 3) throw new PdfError('pdf-malformed', 'xref stream without a valid /W');
  const widths = w.slice(0, 3).map((x) => numberValue(x) ?? -1);
  if (widths.some((x) => !Number.isInteger(x) || x < 0 || x > 8)) throw new PdfError('pdf-malformed', 'xref stream /W out of range');
  const [w0, w1, w2] = widths as [number, number, number];
  const rowLen = w0 + w1 + w2;
  if (rowLen === 0) throw new PdfError('pdf-malformed', 'xref stream /W is all zero');
  const size = d.getNumber('Size') ?? 0;
  if (!Number.isInteger(size) || size < 0 || size > limits.maxObjects) throw new PdfError('pdf-malformed', 'xref stream /Size out of range');
  const idx = d.get('Index');
  const ranges: number[] = Array.isArray(idx) ? idx.map((x) => numberValue(x) ?? -1) : [0, size];
  const data = decodeStreamFully(stream, Math.min(64 * 1024 * 1024, (limits.maxObjects + 1) * rowLen));
  const entries = new Map<number, XrefEntry>();
  let p = 0;
  const field = (width: number, dflt: number): number => {
    if (width === 0) return dflt;
    let v = 0;
    for (let i = 0; i < width; i++) v = v * 256 + (data[p++] as number);
    return v;
  };
  for (let r = 0; r + 1 < ranges.length; r += 2) {
    const first = ranges[r] as number;
    const count = ranges[r + 1] as number;
    if (!Number.isInteger(first) || !Number.isInteger(count) || first < 0 || count < 0 || first + count > limits.maxObjects) {
      throw new PdfError('pdf-malformed', 'xref stream /Index out of range');
    }
    for (let i = 0; i < count; i++) {
      if (p + rowLen > data.length) return entries; // truncated data: keep what is there
      const type = field(w0, 1);
      const f2 = field(w1, 0);
      const f3 = field(w2, 0);
      const num = first + i;
      if (entries.has(num)) continue;
      if (type === 0) entries.set(num, { type: 'free', gen: f3 });
      else if (type === 1) entries.set(num, { type: 'offset', offset: f2, gen: f3 });
      else if (type === 2) entries.set(num, { type: 'compressed', stream: f2, index: f3 });
      // Other types are reserved (§7.5.8.3) and read as null objects: no entry.
    }
  }
  return entries;
}

/**
 * Locates the `%%EOF` closing a section, and the `startxref` value just before it; bounded so a
 * missing marker costs little.
 */
function eofAfter(src: ByteSource, from: number): { eofEnd: number; eofEndWithEol: number; startxrefAtEof: number | null } {
  const at = findBytes(src, EOF_MARK, from, from + 64 * 1024);
  if (at < 0) return { eofEnd: from, eofEndWithEol: from, startxrefAtEof: null };
  const eofEnd = at + EOF_MARK.length;
  const tail = src.read(eofEnd, 2);
  let withEol = eofEnd;
  if (tail[0] === 0x0d) withEol += tail[1] === 0x0a ? 2 : 1;
  else if (tail[0] === 0x0a) withEol += 1;
  return { eofEnd, eofEndWithEol: withEol, startxrefAtEof: startxrefBefore(src, from, at) };
}

/** `startxref N` followed only by white space up to `eofAt`, searched after `from`; else null. */
function startxrefBefore(src: ByteSource, from: number, eofAt: number): number | null {
  const start = Math.max(from, eofAt - 256);
  const block = src.read(start, eofAt - start);
  const idx = lastIndexOf(block, STARTXREF);
  if (idx < 0) return null;
  const lx = new Lexer(src, start + idx + STARTXREF.length);
  const t = lx.next();
  if (t.kind !== 'int') return null;
  let p = lx.pos;
  while (p < eofAt && isWhite(lx.byteAt(p))) p++;
  return p === eofAt ? t.value : null;
}
