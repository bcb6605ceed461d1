import { constants, inflateSync } from 'node:zlib';
import { PdfError } from './PdfError.ts';
import { PdfDict, PdfName, PdfStream, numberValue, type PdfValue } from './objects.ts';

export interface DecodeResult {
  data: Uint8Array;
  /** False when a filter we do not implement (DCT, JBIG2, …) was left in place. */
  complete: boolean;
  /** Filters still to apply to `data` when `complete` is false. */
  remainingFilters: string[];
}

export const DEFAULT_MAX_DECODED = 64 * 1024 * 1024;

/**
 * Applies the stream's filter chain (§7.4) as far as we implement it: FlateDecode with PNG/TIFF
 * predictors (§7.4.4.4, needed for xref streams), ASCIIHexDecode, ASCII85Decode. Every stage's output
 * is bounded by `maxOutput` while it is produced, so a bomb (deflate, or ASCII85 `z` expanding a
 * flate stage's output fourfold) stops with `pdf-limit-exceeded` before it allocates.
 */
export function decodeStream(stream: PdfStream, maxOutput = DEFAULT_MAX_DECODED): DecodeResult {
  const filters = asArray(stream.dict.get('Filter'));
  const parms = asArray(stream.dict.get('DecodeParms') ?? stream.dict.get('DP'));
  let data = stream.raw;
  for (let i = 0; i < filters.length; i++) {
    const f = filters[i];
    const fname = f instanceof PdfName ? f.name : '';
    const p = parms[i];
    const parm = p instanceof PdfDict ? p : undefined;
    switch (fname) {
      case 'FlateDecode':
      case 'Fl':
        data = applyPredictor(inflate(data, maxOutput), parm, maxOutput);
        break;
      case 'ASCIIHexDecode':
      case 'AHx':
        data = asciiHex(data, maxOutput);
        break;
      case 'ASCII85Decode':
      case 'A85':
        data = ascii85(data, maxOutput);
        break;
      default:
        return {
          data,
          complete: false,
          remainingFilters: filters.slice(i).map((x) => (x instanceof PdfName ? x.name : '?')),
        };
    }
    if (data.length > maxOutput) throw new PdfError('pdf-limit-exceeded', `decoded stream exceeds ${maxOutput} bytes`);
  }
  return { data, complete: true, remainingFilters: [] };
}

/** Decodes fully or throws: for streams whose content we must understand (xref, object streams). */
export function decodeStreamFully(stream: PdfStream, maxOutput = DEFAULT_MAX_DECODED): Uint8Array {
  const r = decodeStream(stream, maxOutput);
  if (!r.complete) throw new PdfError('pdf-unsupported', `unsupported stream filter ${r.remainingFilters.join(', ')}`);
  return r.data;
}

function asArray(v: PdfValue | undefined): PdfValue[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}

function inflate(data: Uint8Array, maxOutput: number): Uint8Array {
  try {
    // Z_SYNC_FLUSH keeps what was decoded from a truncated stream instead of failing on it.
    const out = inflateSync(data, { maxOutputLength: maxOutput, finishFlush: constants.Z_SYNC_FLUSH });
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) {
      throw new PdfError('pdf-limit-exceeded', `FlateDecode output exceeds ${maxOutput} bytes`, { cause: e });
    }
    throw new PdfError('pdf-malformed', `FlateDecode failed: ${(e as Error).message}`, { cause: e });
  }
}

function applyPredictor(data: Uint8Array, parm: PdfDict | undefined, maxOutput: number): Uint8Array {
  const predictor = parm?.getNumber('Predictor') ?? 1;
  if (predictor === 1) return data;
  const colors = parm?.getNumber('Colors') ?? 1;
  const bpc = parm?.getNumber('BitsPerComponent') ?? 8;
  const columns = parm?.getNumber('Columns') ?? 1;
  if (![1, 2, 4, 8, 16].includes(bpc) || !Number.isInteger(colors) || colors < 1 || colors > 32 || !Number.isInteger(columns) || columns < 1 || columns > 1_000_000) {
    throw new PdfError('pdf-malformed', 'bad predictor parameters');
  }
  const bpp = Math.max(1, Math.ceil((colors * bpc) / 8));
  const rowLen = Math.ceil((colors * bpc * columns) / 8);
  if (predictor === 2) {
    if (bpc !== 8) throw new PdfError('pdf-unsupported', `TIFF predictor with ${bpc} bits per component`);
    if (data.length > maxOutput) throw new PdfError('pdf-limit-exceeded', `predictor output exceeds ${maxOutput} bytes`);
    const out = data.slice();
    for (let r = 0; r + rowLen <= out.length; r += rowLen) {
      for (let i = bpp; i < rowLen; i++) out[r + i] = ((out[r + i] as number) + (out[r + i - bpp] as number)) & 0xff;
    }
    return out;
  }
  if (predictor < 10 || predictor > 15) throw new PdfError('pdf-malformed', `unknown predictor ${predictor}`);
  // §7.4.4.4 / PNG: each row is prefixed with its own filter-type byte.
  const rows = Math.floor(data.length / (rowLen + 1));
  if (rows * rowLen > maxOutput) throw new PdfError('pdf-limit-exceeded', `predictor output exceeds ${maxOutput} bytes`);
  const out = new Uint8Array(rows * rowLen);
  const prev = new Uint8Array(rowLen);
  for (let r = 0; r < rows; r++) {
    const inOff = r * (rowLen + 1);
    const type = data[inOff] as number;
    const row = out.subarray(r * rowLen, (r + 1) * rowLen);
    for (let i = 0; i < rowLen; i++) {
      const x = data[inOff + 1 + i] as number;
      const a = i >= bpp ? (row[i - bpp] as number) : 0;
      const b = prev[i] as number;
      const c = i >= bpp ? (prev[i - bpp] as number) : 0;
      let v: number;
      switch (type) {
        case 0: v = x; break;
        case 1: v = x + a; break;
        case 2: v = x + b; break;
        case 3: v = x + ((a + b) >> 1); break;
        case 4: {
          const p = a + b - c;
          const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
          v = x + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
          break;
        }
        default:
          throw new PdfError('pdf-malformed', `bad PNG row filter ${type}`);
      }
      row[i] = v & 0xff;
    }
    prev.set(row);
  }
  return out;
}

/**
 * Output of a decoder: a byte buffer that grows by doubling but never beyond `max`; going past it
 * throws `pdf-limit-exceeded` at once (a JS number[] would grow until V8 aborts the process).
 */
class BoundedOutput {
  private buf: Uint8Array;
  length = 0;

  constructor(
    private readonly max: number,
    private readonly what: string,
    expected: number,
  ) {
    this.buf = new Uint8Array(Math.max(0, Math.min(expected, max)));
  }

  /** Makes room for `n` more bytes or throws when that would pass the limit. */
  reserve(n: number): void {
    const need = this.length + n;
    if (need <= this.buf.length) return;
    if (need > this.max) throw new PdfError('pdf-limit-exceeded', `${this.what} output exceeds ${this.max} bytes`);
    const next = new Uint8Array(Math.min(this.max, Math.max(need, 64, this.buf.length * 2)));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  push(b: number): void {
    if (this.length >= this.buf.length) this.reserve(1);
    this.buf[this.length++] = b;
  }

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

function asciiHex(data: Uint8Array, maxOutput: number): Uint8Array {
  const out = new BoundedOutput(maxOutput, 'ASCIIHexDecode', Math.ceil(data.length / 2));
  let hi = -1;
  for (const c of data) {
    if (c === 0x3e) break;
    let v = -1;
    if (c >= 0x30 && c <= 0x39) v = c - 0x30;
    else if (c >= 0x41 && c <= 0x46) v = c - 0x37;
    else if (c >= 0x61 && c <= 0x66) v = c - 0x57;
    else continue;
    if (hi < 0) hi = v;
    else {
      out.push(hi * 16 + v);
      hi = -1;
    }
  }
  if (hi >= 0) out.push(hi * 16);
  return out.bytes();
}

function ascii85(data: Uint8Array, maxOutput: number): Uint8Array {
  // Five characters give four bytes; only `z` gives more (four bytes for one character).
  const out = new BoundedOutput(maxOutput, 'ASCII85Decode', Math.ceil((data.length * 4) / 5));
  const group: number[] = [];
  const flush = (n: number) => {
    let v = 0;
    for (let i = 0; i < 5; i++) v = v * 85 + (group[i] ?? 84);
    out.reserve(n - 1);
    for (let i = 0; i < n - 1; i++) out.push((v >>> (24 - 8 * i)) & 0xff);
  };
  for (let i = 0; i < data.length; i++) {
    const c = data[i] as number;
    if (c === 0x7e) break; // '~>' end marker
    if (c === 0x7a && group.length === 0) {
      out.reserve(4);
      out.push(0);
      out.push(0);
      out.push(0);
      out.push(0);
      continue;
    }
    if (c < 0x21 || c > 0x75) continue;
    group.push(c - 0x21);
    if (group.length === 5) {
      flush(5);
      group.length = 0;
    }
  }
  if (group.length > 1) flush(group.length);
  return out.bytes();
}
