/**
 * The PDF object model (ISO 32000-1 §7.3). Integers are plain JS numbers; reals read from a file are
 * `PdfReal` so a round trip keeps the integer/real distinction (§7.3.3). Plain non-integral numbers
 * created by code serialize as reals.
 */

/** §7.3.5 name object, stored decoded (without '/' and with #xx escapes resolved, as latin1). */
export class PdfName {
  private static readonly interned = new Map<string, PdfName>();
  private constructor(readonly name: string) {}
  static of(name: string): PdfName {
    let n = PdfName.interned.get(name);
    if (!n) {
      n = new PdfName(name);
      if (PdfName.interned.size < 10_000) PdfName.interned.set(name, n);
    }
    return n;
  }
  toString(): string {
    return `/${this.name}`;
  }
}

/** §7.3.3 real number. */
export class PdfReal {
  constructor(readonly value: number) {}
}

/** §7.3.4 string object: raw bytes, remembering whether it was written as literal or hex. */
export class PdfString {
  constructor(
    readonly bytes: Uint8Array,
    readonly hex = false,
  ) {}
  static fromText(text: string): PdfString {
    return new PdfString(encodeTextString(text));
  }
  /** §7.9.2.2 text string decoding (UTF-16BE / UTF-8 with BOM, else PDFDocEncoding). */
  toText(): string {
    return decodeTextString(this.bytes);
  }
}

/** §7.3.10 indirect reference. */
export class PdfRef {
  constructor(
    readonly num: number,
    readonly gen = 0,
  ) {}
  toString(): string {
    return `${this.num} ${this.gen} R`;
  }
  equals(other: PdfRef): boolean {
    return this.num === other.num && this.gen === other.gen;
  }
}

export type PdfArray = PdfValue[];

/** §7.3.7 dictionary; insertion order is kept so rewritten objects stay recognisable. */
export class PdfDict {
  readonly map: Map<string, PdfValue>;
  constructor(entries?: Iterable<readonly [string, PdfValue]> | Record<string, PdfValue>) {
    this.map = new Map();
    if (entries) {
      const it = Symbol.iterator in entries ? (entries as Iterable<readonly [string, PdfValue]>) : Object.entries(entries);
      for (const [k, v] of it) this.map.set(k, v);
    }
  }
  get(key: string): PdfValue | undefined {
    return this.map.get(key);
  }
  set(key: string, value: PdfValue): this {
    this.map.set(key, value);
    return this;
  }
  has(key: string): boolean {
    return this.map.has(key);
  }
  delete(key: string): boolean {
    return this.map.delete(key);
  }
  keys(): IterableIterator<string> {
    return this.map.keys();
  }
  entries(): IterableIterator<[string, PdfValue]> {
    return this.map.entries();
  }
  get size(): number {
    return this.map.size;
  }
  /** The value as a name string when it is a name (e.g. `/Type`). */
  getName(key: string): string | undefined {
    const v = this.map.get(key);
    return v instanceof PdfName ? v.name : undefined;
  }
  getNumber(key: string): number | undefined {
    return numberValue(this.map.get(key));
  }
  getRef(key: string): PdfRef | undefined {
    const v = this.map.get(key);
    return v instanceof PdfRef ? v : undefined;
  }
}

/** Where a stream's encoded bytes lie in the source file (§7.3.8). */
export interface StreamLocation {
  readonly offset: number;
  readonly length: number;
}

/**
 * §7.3.8 stream. The encoded bytes are loaded lazily from the source so that walking a document
 * never pulls page images into memory.
 */
export class PdfStream {
  private rawBytes: Uint8Array | null;
  constructor(
    readonly dict: PdfDict,
    raw: Uint8Array | (() => Uint8Array),
    readonly location: StreamLocation | null = null,
  ) {
    if (typeof raw === 'function') {
      this.rawBytes = null;
      this.loader = raw;
    } else {
      this.rawBytes = raw;
      this.loader = null;
    }
  }
  private loader: (() => Uint8Array) | null;
  /** The encoded stream data, exactly as between `stream` EOL and `endstream`. */
  get raw(): Uint8Array {
    if (this.rawBytes === null) {
      this.rawBytes = (this.loader as () => Uint8Array)();
      this.loader = null;
    }
    return this.rawBytes;
  }
  get rawLength(): number {
    return this.rawBytes ? this.rawBytes.length : (this.location?.length ?? this.raw.length);
  }
}

export type PdfValue =
  | null
  | boolean
  | number
  | PdfReal
  | PdfName
  | PdfString
  | PdfRef
  | PdfArray
  | PdfDict
  | PdfStream
  | PdfPlaceholder;

/**
 * Values whose serialized form has a fixed width and whose file offsets the writer records
 * (signature /Contents and /ByteRange, ISO 32000-1 §12.8.1).
 */
export class PdfContentsHole {
  constructor(readonly reservedBytes: number) {
    if (!Number.isInteger(reservedBytes) || reservedBytes <= 0) throw new RangeError('reservedBytes must be a positive integer');
  }
}
export class PdfByteRangeHole {
  /** Decimal digits reserved for each of the three patched numbers. */
  constructor(readonly width = 10) {}
}
export type PdfPlaceholder = PdfContentsHole | PdfByteRangeHole;

export function numberValue(v: PdfValue | undefined): number | undefined {
  if (typeof v === 'number') return v;
  if (v instanceof PdfReal) return v.value;
  return undefined;
}

export function isDict(v: PdfValue | undefined): v is PdfDict {
  return v instanceof PdfDict;
}

/** The dictionary of a dict or of a stream. */
export function dictOf(v: PdfValue | undefined): PdfDict | undefined {
  if (v instanceof PdfDict) return v;
  if (v instanceof PdfStream) return v.dict;
  return undefined;
}

export const name = (n: string): PdfName => PdfName.of(n);

// PDFDocEncoding (ISO 32000-1 Annex D.2) differs from Latin-1 in 0x18–0x1F and 0x80–0xA0.
const PDFDOC_HIGH: Record<number, number> = {
  0x18: 0x02d8, 0x19: 0x02c7, 0x1a: 0x02c6, 0x1b: 0x02d9, 0x1c: 0x02dd, 0x1d: 0x02db, 0x1e: 0x02da, 0x1f: 0x02dc,
  0x80: 0x2022, 0x81: 0x2020, 0x82: 0x2021, 0x83: 0x2026, 0x84: 0x2014, 0x85: 0x2013, 0x86: 0x0192, 0x87: 0x2044,
  0x88: 0x2039, 0x89: 0x203a, 0x8a: 0x2212, 0x8b: 0x2030, 0x8c: 0x201e, 0x8d: 0x201c, 0x8e: 0x201d, 0x8f: 0x2018,
  0x90: 0x2019, 0x91: 0x201a, 0x92: 0x2122, 0x93: 0xfb01, 0x94: 0xfb02, 0x95: 0x0141, 0x96: 0x0152, 0x97: 0x0160,
  0x98: 0x0178, 0x99: 0x017d, 0x9a: 0x0131, 0x9b: 0x0142, 0x9c: 0x0153, 0x9d: 0x0161, 0x9e: 0x017e, 0xa0: 0x20ac,
};

export function decodeTextString(b: Uint8Array): string {
  if (b.length >= 2 && b[0] === 0xfe && b[1] === 0xff) {
    let s = '';
    for (let i = 2; i + 1 < b.length; i += 2) s += String.fromCharCode(((b[i] as number) << 8) | (b[i + 1] as number));
    return s;
  }
  if (b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) {
    return new TextDecoder('utf-8').decode(b.subarray(3));
  }
  let s = '';
  for (const c of b) s += String.fromCharCode(PDFDOC_HIGH[c] ?? c);
  return s;
}

/** Encodes as PDFDocEncoding-compatible Latin-1 when possible, else UTF-16BE with BOM (§7.9.2.2). */
export function encodeTextString(text: string): Uint8Array {
  let ascii = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7e || (c < 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09)) {
      ascii = false;
      break;
    }
  }
  if (ascii) return Uint8Array.from(text, (ch) => ch.charCodeAt(0));
  const out = new Uint8Array(2 + text.length * 2);
  out[0] = 0xfe;
  out[1] = 0xff;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    out[2 + 2 * i] = c >> 8;
    out[3 + 2 * i] = c & 0xff;
  }
  return out;
}
