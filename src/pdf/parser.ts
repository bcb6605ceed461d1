import type { ByteSource } from './ByteSource.ts';
import { Lexer, type LexerLimits, DEFAULT_LEXER_LIMITS, ascii, findBytes, isWhite, type Token } from './Lexer.ts';
import { PdfError } from './PdfError.ts';
import { PdfDict, PdfName, PdfReal, PdfRef, PdfStream, PdfString, type PdfValue } from './objects.ts';

export interface ParserLimits extends LexerLimits {
  /** Maximum nesting of arrays/dictionaries; hostile files nest 100k deep. */
  maxDepth: number;
  /** Maximum elements of one array or entries of one dictionary. */
  maxContainerItems: number;
  /** How far past the stream start we scan for `endstream` when /Length is wrong. */
  maxStreamScan: number;
  /** Values left to parse for the whole document (shared by every parse of it), when it has a budget. */
  budget?: ValueBudget;
}

/**
 * How many values (numbers, names, strings, arrays, dictionaries…) may still be parsed from one
 * document. The per-container limit alone lets a small file cost gigabytes: millions of `[]` in each
 * of many objects take about 50 bytes of heap per two bytes of file.
 */
export class ValueBudget {
  left: number;
  constructor(readonly max: number) {
    this.left = max;
  }
}

export const DEFAULT_PARSER_LIMITS: ParserLimits = {
  ...DEFAULT_LEXER_LIMITS,
  maxDepth: 64,
  maxContainerItems: 4_000_000,
  maxStreamScan: 512 * 1024 * 1024,
};

/** Reads one direct value from the lexer (§7.3). Indirect references are `PdfRef`s, not resolved. */
export function parseValue(lx: Lexer, limits: ParserLimits = DEFAULT_PARSER_LIMITS): PdfValue {
  return valueFrom(lx, lx.next(), 0, limits);
}

function valueFrom(lx: Lexer, t: Token, depth: number, limits: ParserLimits): PdfValue {
  if (limits.budget && --limits.budget.left < 0) {
    throw new PdfError('pdf-limit-exceeded', `the document has more than ${limits.budget.max} values to parse (arrays, dictionaries and their items)`);
  }
  switch (t.kind) {
    case 'int': {
      // §7.3.10: "num gen R" — look ahead two tokens, rewind when it is not a reference.
      const save = lx.pos;
      const t2 = lx.next();
      if (t2.kind === 'int') {
        const t3 = lx.next();
        if (t3.kind === 'kw' && t3.value === 'R') return new PdfRef(t.value, t2.value);
      }
      lx.pos = save;
      return t.value;
    }
    case 'real':
      return new PdfReal(t.value);
    case 'name':
      return PdfName.of(t.value);
    case 'string':
      return new PdfString(t.bytes, t.hex);
    case '[': {
      if (depth >= limits.maxDepth) throw new PdfError('pdf-limit-exceeded', `objects nested deeper than ${limits.maxDepth} at offset ${lx.pos}`);
      const arr: PdfValue[] = [];
      for (;;) {
        const n = lx.next();
        if (n.kind === ']') return arr;
        if (n.kind === 'eof') throw lx.error('unterminated array');
        arr.push(valueFrom(lx, n, depth + 1, limits));
        if (arr.length > limits.maxContainerItems) throw new PdfError('pdf-limit-exceeded', `array too large at offset ${lx.pos}`);
      }
    }
    case '<<': {
      if (depth >= limits.maxDepth) throw new PdfError('pdf-limit-exceeded', `objects nested deeper than ${limits.maxDepth} at offset ${lx.pos}`);
      const dict = new PdfDict();
      for (;;) {
        const k = lx.next();
        if (k.kind === '>>') return dict;
        if (k.kind !== 'name') throw lx.error('dictionary key is not a name');
        const vt = lx.next();
        if (vt.kind === '>>') {
          // A key without value: tolerate as null (§7.3.7 treats null values as absent).
          return dict;
        }
        const v = valueFrom(lx, vt, depth + 1, limits);
        if (v !== null) dict.set(k.value, v);
        if (dict.size > limits.maxContainerItems) throw new PdfError('pdf-limit-exceeded', `dictionary too large at offset ${lx.pos}`);
      }
    }
    case 'kw':
      if (t.value === 'true') return true;
      if (t.value === 'false') return false;
      if (t.value === 'null') return null;
      throw lx.error(`unexpected keyword "${t.value.slice(0, 20)}"`);
    case 'eof':
      throw lx.error('unexpected end of file');
    default:
      throw lx.error(`unexpected "${t.kind}"`);
  }
}

export interface IndirectObject {
  num: number;
  gen: number;
  value: PdfValue;
  /** Offset of the `N G obj` header. */
  offset: number;
}

/** Resolves an indirect /Length; returns undefined when it cannot (the parser then scans). */
export type LengthResolver = (ref: PdfRef) => number | undefined;

const ENDSTREAM = ascii('endstream');

/**
 * Parses `N G obj … endobj` at `offset` (§7.3.10), including a stream body (§7.3.8). The stream data
 * is not read: the returned `PdfStream` loads it on demand from the source.
 */
export function parseIndirectObject(
  src: ByteSource,
  offset: number,
  resolveLength: LengthResolver,
  limits: ParserLimits = DEFAULT_PARSER_LIMITS,
): IndirectObject {
  const lx = new Lexer(src, offset, limits);
  const tn = lx.next();
  const tg = lx.next();
  const to = lx.next();
  if (tn.kind !== 'int' || tg.kind !== 'int' || to.kind !== 'kw' || to.value !== 'obj') {
    throw new PdfError('pdf-malformed', `no object header "N G obj" at offset ${offset}`);
  }
  const value = parseValue(lx, limits);
  const save = lx.pos;
  const t = lx.next();
  if (t.kind === 'kw' && t.value === 'stream' && value instanceof PdfDict) {
    return { num: tn.value, gen: tg.value, offset, value: readStream(src, lx, value, resolveLength, limits) };
  }
  lx.pos = save;
  return { num: tn.value, gen: tg.value, offset, value };
}

function readStream(src: ByteSource, lx: Lexer, dict: PdfDict, resolveLength: LengthResolver, limits: ParserLimits): PdfStream {
  // §7.3.8.1: `stream` is followed by CRLF or LF (a lone CR is tolerated).
  let start = lx.pos;
  if (lx.byteAt(start) === 0x0d) start++;
  if (lx.byteAt(start) === 0x0a) start++;
  const lenVal = dict.get('Length');
  let length: number | undefined;
  if (typeof lenVal === 'number') length = lenVal;
  else if (lenVal instanceof PdfRef) length = resolveLength(lenVal);
  if (length !== undefined && (!Number.isInteger(length) || length < 0 || start + length > src.length)) length = undefined;
  if (length !== undefined && !endstreamAt(lx, start + length)) length = undefined;
  if (length === undefined) {
    const at = findBytes(src, ENDSTREAM, start, start + limits.maxStreamScan);
    if (at < 0) throw new PdfError('pdf-malformed', `stream at offset ${start} has no valid /Length and no endstream`);
    let end = at;
    // The EOL before `endstream` is not part of the data (§7.3.8.1).
    if (end > start && lx.byteAt(end - 1) === 0x0a) end--;
    if (end > start && lx.byteAt(end - 1) === 0x0d) end--;
    length = end - start;
  }
  const len = length;
  return new PdfStream(dict, () => src.read(start, len).slice(), { offset: start, length: len });
}

function endstreamAt(lx: Lexer, p: number): boolean {
  let q = p;
  for (let i = 0; i < 64 && isWhite(lx.byteAt(q)); i++) q++;
  for (let i = 0; i < ENDSTREAM.length; i++) if (lx.byteAt(q + i) !== ENDSTREAM[i]) return false;
  return true;
}
