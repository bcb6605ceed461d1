import { PdfError } from './PdfError.ts';
import {
  PdfByteRangeHole,
  PdfContentsHole,
  PdfDict,
  PdfName,
  PdfReal,
  PdfRef,
  PdfStream,
  PdfString,
  type PdfValue,
} from './objects.ts';

/** Append-only byte buffer that knows how many bytes it holds (offsets are recorded from it). */
export class ByteWriter {
  private chunks: Uint8Array[] = [];
  private cur = new Uint8Array(16 * 1024);
  private curLen = 0;
  length = 0;

  ascii(s: string): void {
    for (let i = 0; i < s.length; i++) this.byte(s.charCodeAt(i) & 0xff);
  }
  byte(b: number): void {
    if (this.curLen === this.cur.length) {
      this.chunks.push(this.cur);
      this.cur = new Uint8Array(Math.max(16 * 1024, this.cur.length));
      this.curLen = 0;
    }
    this.cur[this.curLen++] = b;
    this.length++;
  }
  bytes(b: Uint8Array): void {
    if (b.length > 4096) {
      this.chunks.push(this.cur.subarray(0, this.curLen));
      this.chunks.push(b);
      this.cur = new Uint8Array(16 * 1024);
      this.curLen = 0;
      this.length += b.length;
      return;
    }
    for (const x of b) this.byte(x);
  }
  toBytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let p = 0;
    for (const c of this.chunks) {
      out.set(c, p);
      p += c.length;
    }
    out.set(this.cur.subarray(0, this.curLen), p);
    return out;
  }
}

/** Receives the positions (in the writer) of placeholder values as they are written. */
export interface HoleRecorder {
  contents(start: number, end: number, hole: PdfContentsHole): void;
  byteRange(start: number, end: number, hole: PdfByteRangeHole): void;
}

const HEX = '0123456789ABCDEF';

/** §7.3.5: bytes outside 0x21–0x7E, delimiters and '#' are written as #xx. */
export function serializeName(n: string): string {
  let s = '/';
  for (let i = 0; i < n.length; i++) {
    const c = n.charCodeAt(i) & 0xff;
    const delim = '()<>[]{}/%#'.includes(String.fromCharCode(c));
    if (c < 0x21 || c > 0x7e || delim) s += `#${HEX[c >> 4]}${HEX[c & 15]}`;
    else s += String.fromCharCode(c);
  }
  return s;
}

/** §7.3.3: reals are written without exponent; fractions rounded to 10 significant decimals. */
export function formatReal(v: number): string {
  if (!Number.isFinite(v)) throw new PdfError('pdf-unsupported', `cannot write non-finite number ${v}`);
  if (Number.isInteger(v)) return `${v}.0`;
  let s = v.toFixed(10).replace(/0+$/, '');
  if (s.endsWith('.')) s += '0';
  if (s === '-0.0') s = '0.0';
  return s;
}

export function formatNumber(v: number): string {
  if (Number.isInteger(v)) return String(v);
  return formatReal(v);
}

/** Writes any value canonically (§7.3). Holes are written at fixed width and reported to `rec`. */
export function writeValue(w: ByteWriter, v: PdfValue, rec?: HoleRecorder, depth = 0): void {
  if (depth > 256) throw new PdfError('pdf-limit-exceeded', 'value nested too deeply to write');
  if (v === null) w.ascii('null');
  else if (typeof v === 'boolean') w.ascii(v ? 'true' : 'false');
  else if (typeof v === 'number') w.ascii(formatNumber(v));
  else if (v instanceof PdfReal) w.ascii(formatReal(v.value));
  else if (v instanceof PdfName) w.ascii(serializeName(v.name));
  else if (v instanceof PdfRef) w.ascii(`${v.num} ${v.gen} R`);
  else if (v instanceof PdfString) writeString(w, v);
  else if (Array.isArray(v)) {
    w.ascii('[');
    v.forEach((x, i) => {
      if (i > 0) w.ascii(' ');
      writeValue(w, x, rec, depth + 1);
    });
    w.ascii(']');
  } else if (v instanceof PdfDict) writeDict(w, v, rec, depth);
  else if (v instanceof PdfStream) {
    const d = new PdfDict(v.dict.entries());
    const raw = v.raw;
    d.set('Length', raw.length);
    writeDict(w, d, rec, depth);
    w.ascii('\nstream\n');
    w.bytes(raw);
    w.ascii('\nendstream');
  } else if (v instanceof PdfContentsHole) {
    const start = w.length;
    w.ascii('<');
    for (let i = 0; i < v.reservedBytes * 2; i++) w.byte(0x30);
    w.ascii('>');
    rec?.contents(start, w.length, v);
  } else if (v instanceof PdfByteRangeHole) {
    const start = w.length;
    w.ascii(byteRangeText([0, 0, 0, 0], v.width));
    rec?.byteRange(start, w.length, v);
  } else {
    throw new PdfError('pdf-unsupported', 'unknown value type');
  }
}

function writeDict(w: ByteWriter, d: PdfDict, rec: HoleRecorder | undefined, depth: number): void {
  w.ascii('<<');
  for (const [k, x] of d.entries()) {
    w.ascii(serializeName(k));
    w.ascii(' ');
    writeValue(w, x, rec, depth + 1);
  }
  w.ascii('>>');
}

function writeString(w: ByteWriter, s: PdfString): void {
  if (s.hex) {
    w.ascii('<');
    for (const b of s.bytes) w.ascii(HEX[b >> 4] as string + HEX[b & 15]);
    w.ascii('>');
    return;
  }
  // §7.3.4.2: escape the delimiters and backslash; CR is escaped so it is not read back as LF.
  w.ascii('(');
  for (const b of s.bytes) {
    if (b === 0x28 || b === 0x29 || b === 0x5c) {
      w.byte(0x5c);
      w.byte(b);
    } else if (b === 0x0d) w.ascii('\\r');
    else w.byte(b);
  }
  w.ascii(')');
}

/**
 * The fixed-width ByteRange text: `[0 n1 n2 n3]` with each of the last three numbers left-aligned
 * and space-padded to `width` digits, so patching never moves a byte.
 */
export function byteRangeText(r: readonly [number, number, number, number], width: number): string {
  const pad = (n: number) => {
    const s = String(n);
    if (s.length > width) throw new PdfError('pdf-limit-exceeded', `ByteRange value ${n} wider than ${width} digits`);
    return s + ' '.repeat(width - s.length);
  };
  return `[${r[0]} ${pad(r[1])} ${pad(r[2])} ${pad(r[3])}]`;
}

/** Serializes a value to bytes (no holes recorded). */
export function serialize(v: PdfValue): Uint8Array {
  const w = new ByteWriter();
  writeValue(w, v);
  return w.toBytes();
}
