import type { ByteSource } from './ByteSource.ts';
import { PdfError } from './PdfError.ts';

/** Token kinds of ISO 32000-1 §7.2; `kw` covers regular-character words (obj, R, true, xref, …). */
export type Token =
  | { kind: 'int'; value: number }
  | { kind: 'real'; value: number }
  | { kind: 'name'; value: string }
  | { kind: 'string'; bytes: Uint8Array; hex: boolean }
  | { kind: 'kw'; value: string }
  | { kind: '[' | ']' | '<<' | '>>' | '{' | '}' }
  | { kind: 'eof' };

export interface LexerLimits {
  /** Longest string object in bytes. */
  maxStringBytes: number;
  /** Longest name or keyword token. */
  maxTokenChars: number;
}

export const DEFAULT_LEXER_LIMITS: LexerLimits = { maxStringBytes: 32 * 1024 * 1024, maxTokenChars: 4096 };

const WINDOW = 16 * 1024;

// §7.2.2 character classes.
export function isWhite(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x0c || c === 0x00;
}
export function isDelimiter(c: number): boolean {
  return c === 0x28 || c === 0x29 || c === 0x3c || c === 0x3e || c === 0x5b || c === 0x5d || c === 0x7b || c === 0x7d || c === 0x2f || c === 0x25;
}
function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** Tokenizer over a random-access source, reading it through a small sliding window. */
export class Lexer {
  private buf: Uint8Array = new Uint8Array(0);
  private bufStart = 0;

  constructor(
    readonly src: ByteSource,
    public pos = 0,
    private readonly limits: LexerLimits = DEFAULT_LEXER_LIMITS,
  ) {}

  /** Byte at absolute position p, or -1 past the end. */
  byteAt(p: number): number {
    const i = p - this.bufStart;
    if (i >= 0 && i < this.buf.length) return this.buf[i] as number;
    if (p < 0 || p >= this.src.length) return -1;
    this.buf = this.src.read(p, WINDOW);
    this.bufStart = p;
    return this.buf.length > 0 ? (this.buf[0] as number) : -1;
  }

  /** Skips white space and comments (§7.2.3). */
  skipWhite(): void {
    for (;;) {
      const c = this.byteAt(this.pos);
      if (c < 0) return;
      if (isWhite(c)) {
        this.pos++;
      } else if (c === 0x25) {
        while (true) {
          const d = this.byteAt(this.pos);
          if (d < 0 || d === 0x0a || d === 0x0d) break;
          this.pos++;
        }
      } else return;
    }
  }

  next(): Token {
    this.skipWhite();
    const c = this.byteAt(this.pos);
    if (c < 0) return { kind: 'eof' };
    switch (c) {
      case 0x5b: this.pos++; return { kind: '[' };
      case 0x5d: this.pos++; return { kind: ']' };
      case 0x7b: this.pos++; return { kind: '{' };
      case 0x7d: this.pos++; return { kind: '}' };
      case 0x28: return this.literalString();
      case 0x2f: return this.nameToken();
      case 0x3c:
        if (this.byteAt(this.pos + 1) === 0x3c) { this.pos += 2; return { kind: '<<' }; }
        return this.hexString();
      case 0x3e:
        if (this.byteAt(this.pos + 1) === 0x3e) { this.pos += 2; return { kind: '>>' }; }
        throw this.error('unexpected ">"');
      case 0x29:
        throw this.error('unexpected ")"');
    }
    return this.regular();
  }

  error(msg: string): PdfError {
    return new PdfError('pdf-malformed', `PDF syntax error at offset ${this.pos}: ${msg}`);
  }

  private regular(): Token {
    const start = this.pos;
    let s = '';
    for (;;) {
      const c = this.byteAt(this.pos);
      if (c < 0 || isWhite(c) || isDelimiter(c)) break;
      s += String.fromCharCode(c);
      this.pos++;
      if (s.length > this.limits.maxTokenChars) throw new PdfError('pdf-limit-exceeded', `token at offset ${start} is too long`);
    }
    if (/^[+-]?\d+$/.test(s)) return { kind: 'int', value: Number.parseInt(s, 10) };
    if (/^[+-]*[\d.]*$/.test(s) && /[\d.]/.test(s)) {
      // §7.3.3 reals; tolerate the odd forms writers produce ("--5", "5.") as far as they make a number.
      const cleaned = s.replace(/^[+-]*(?=-)/, '').replace(/^\+*/, '');
      const v = Number(cleaned);
      return { kind: 'real', value: Number.isFinite(v) ? v : 0 };
    }
    return { kind: 'kw', value: s };
  }

  private nameToken(): Token {
    this.pos++; // '/'
    const bytes: number[] = [];
    for (;;) {
      const c = this.byteAt(this.pos);
      if (c < 0 || isWhite(c) || isDelimiter(c)) break;
      if (c === 0x23) {
        // §7.3.5 #xx escape
        const h = hexVal(this.byteAt(this.pos + 1));
        const l = hexVal(this.byteAt(this.pos + 2));
        if (h >= 0 && l >= 0) {
          bytes.push(h * 16 + l);
          this.pos += 3;
          continue;
        }
      }
      bytes.push(c);
      this.pos++;
      if (bytes.length > this.limits.maxTokenChars) throw new PdfError('pdf-limit-exceeded', `name at offset ${this.pos} is too long`);
    }
    return { kind: 'name', value: String.fromCharCode(...bytes) };
  }

  private hexString(): Token {
    const start = this.pos;
    const run = this.hexRun(start + 1);
    if (run) return run;
    this.pos++; // '<'
    const out = new Growable();
    let hi = -1;
    for (;;) {
      const c = this.byteAt(this.pos);
      if (c < 0) throw new PdfError('pdf-malformed', `unterminated hex string at offset ${start}`);
      this.pos++;
      if (c === 0x3e) break;
      if (isWhite(c)) continue;
      const v = hexVal(c);
      if (v < 0) throw new PdfError('pdf-malformed', `bad character in hex string at offset ${this.pos - 1}`);
      if (hi < 0) hi = v;
      else {
        out.push(hi * 16 + v);
        hi = -1;
        if (out.length > this.limits.maxStringBytes) throw new PdfError('pdf-limit-exceeded', `string at offset ${start} is too long`);
      }
    }
    if (hi >= 0) out.push(hi * 16); // §7.3.4.3: a missing final digit is 0
    return { kind: 'string', bytes: out.bytes(), hex: true };
  }

  /**
   * The common hex string — digits only, an even count, then '>' (signature /Contents: tens of KB) —
   * decoded natively; null sends anything else (white space, bad digits, no end in sight) to the
   * byte-by-byte path, which also reports the errors.
   */
  private hexRun(from: number): Token | null {
    const offset = from - this.bufStart;
    let bytes = offset >= 0 && offset < this.buf.length ? this.buf.subarray(offset) : new Uint8Array(0);
    let close = bytes.indexOf(0x3e);
    for (const span of [64 * 1024, 1024 * 1024]) {
      if (close >= 0 || bytes.length >= this.src.length - from) break;
      bytes = this.src.read(from, Math.min(span, this.src.length - from));
      close = bytes.indexOf(0x3e);
    }
    if (close < 0 || close % 2 !== 0 || close / 2 > this.limits.maxStringBytes) return null;
    const decoded = Buffer.from(Buffer.from(bytes.buffer, bytes.byteOffset, close).toString('latin1'), 'hex'); // stops at a non-hex character
    if (decoded.length * 2 !== close) return null;
    this.pos = from + close + 1;
    return { kind: 'string', bytes: new Uint8Array(decoded), hex: true };
  }

  private literalString(): Token {
    const start = this.pos;
    this.pos++; // '('
    const out = new Growable();
    let depth = 1;
    for (;;) {
      let c = this.byteAt(this.pos);
      if (c < 0) throw new PdfError('pdf-malformed', `unterminated string at offset ${start}`);
      this.pos++;
      if (out.length > this.limits.maxStringBytes) throw new PdfError('pdf-limit-exceeded', `string at offset ${start} is too long`);
      if (c === 0x28) depth++;
      else if (c === 0x29) {
        if (--depth === 0) break;
      } else if (c === 0x5c) {
        // §7.3.4.2 escapes
        c = this.byteAt(this.pos);
        if (c < 0) continue;
        this.pos++;
        switch (c) {
          case 0x6e: out.push(0x0a); continue;
          case 0x72: out.push(0x0d); continue;
          case 0x74: out.push(0x09); continue;
          case 0x62: out.push(0x08); continue;
          case 0x66: out.push(0x0c); continue;
          case 0x0d:
            if (this.byteAt(this.pos) === 0x0a) this.pos++;
            continue;
          case 0x0a:
            continue;
        }
        if (c >= 0x30 && c <= 0x37) {
          let v = c - 0x30;
          for (let k = 0; k < 2; k++) {
            const d = this.byteAt(this.pos);
            if (d < 0x30 || d > 0x37) break;
            v = v * 8 + (d - 0x30);
            this.pos++;
          }
          out.push(v & 0xff);
          continue;
        }
        out.push(c);
        continue;
      } else if (c === 0x0d) {
        // §7.3.4.2: an unescaped EOL (CR or CRLF) in a literal string is read as LF
        if (this.byteAt(this.pos) === 0x0a) this.pos++;
        out.push(0x0a);
        continue;
      }
      out.push(c);
    }
    return { kind: 'string', bytes: out.bytes(), hex: false };
  }
}

class Growable {
  private buf = new Uint8Array(64);
  length = 0;
  push(b: number): void {
    if (this.length === this.buf.length) {
      const n = new Uint8Array(this.buf.length * 2);
      n.set(this.buf);
      this.buf = n;
    }
    this.buf[this.length++] = b;
  }
  bytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/**
 * Finds `pattern` in [from, to) reading the source in chunks; -1 when absent. Bounded by `to`, so a
 * wrong /Length on a huge stream costs one linear scan, never the whole file in memory.
 */
export function findBytes(src: ByteSource, pattern: Uint8Array, from: number, to: number): number {
  const chunk = 1024 * 1024;
  const end = Math.min(to, src.length);
  for (let at = from; at < end; at += chunk - pattern.length + 1) {
    const block = src.read(at, Math.min(chunk, end - at));
    const idx = Buffer.from(block.buffer, block.byteOffset, block.length).indexOf(pattern);
    if (idx >= 0) return at + idx;
    if (at + block.length >= end) break;
  }
  return -1;
}

/** Last occurrence of `pattern` in [from, to), or -1. Used on the small tail window only. */
export function lastIndexOf(block: Uint8Array, pattern: Uint8Array): number {
  return Buffer.from(block.buffer, block.byteOffset, block.length).lastIndexOf(pattern);
}

export const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
