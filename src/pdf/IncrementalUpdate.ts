import { randomBytes } from 'node:crypto';
import { PdfError } from './PdfError.ts';
import type { PdfDocument } from './PdfDocument.ts';
import {
  type PdfByteRangeHole,
  type PdfContentsHole,
  PdfDict,
  PdfName,
  PdfRef,
  PdfStream,
  PdfString,
  type PdfValue,
} from './objects.ts';
import { ByteWriter, byteRangeText, writeValue } from './serialize.ts';

/**
 * Where a signature's /Contents hole and /ByteRange landed in the final file (absolute offsets).
 * ISO 32000-1 §12.8.1: the ByteRange covers the whole file except the Contents string, `<` and `>`
 * included in the hole.
 */
export interface SignaturePlaceholder {
  /** Object number of the signature dictionary holding the placeholders. */
  objectNumber: number;
  /** Offset of `<`. */
  contentsStart: number;
  /** Offset of the byte after `>`. */
  contentsEnd: number;
  /** Bytes reserved for the DER CMS (hex digits = 2 × this). */
  reservedBytes: number;
  /** Offset of `[` and of the byte after `]` of the ByteRange array. */
  byteRangeStart: number;
  byteRangeEnd: number;
  byteRangeWidth: number;
  /** [0, contentsStart, contentsEnd, total − contentsEnd], as filled in by build(). */
  byteRange: [number, number, number, number];
  /** Absolute offset of the first appended byte (= the original file's length). */
  baseOffset: number;
}

export interface BuildOptions {
  /** Second element of the new /ID (§14.4); random 16 bytes when absent. */
  newId?: Uint8Array;
  /** Replaces /Info in the new trailer. */
  info?: PdfRef;
}

export interface BuildResult {
  /** Bytes to append to the original file, unchanged otherwise. */
  bytes: Uint8Array;
  placeholders: SignaturePlaceholder[];
  /** Offset of the new xref section (the new startxref). */
  startxref: number;
  /** Total file length after appending. */
  totalLength: number;
}

type Pending = { kind: 'value'; value: PdfValue } | { kind: 'raw'; body: Uint8Array };

/**
 * Builds one incremental update (ISO 32000-1 §7.5.6): new and changed objects, then an xref section of
 * the same kind as the last revision's, and a trailer chaining to it with /Prev. The original bytes are
 * never rewritten, so earlier signatures stay valid (EN 319 142-1 §5.4, later updates are incremental).
 */
export class IncrementalUpdate {
  private readonly objects = new Map<number, Pending>();
  private nextNum: number;
  private readonly newNums = new Set<number>();

  constructor(readonly doc: PdfDocument) {
    this.nextNum = doc.size;
  }

  /** A fresh object number (from /Size upward). */
  allocate(): number {
    const n = this.nextNum++;
    this.newNums.add(n);
    return n;
  }

  /** Allocates a number, stores the value and returns a reference to it. */
  add(value: PdfValue): PdfRef {
    const n = this.allocate();
    this.setObject(n, value);
    return new PdfRef(n, 0);
  }

  setObject(num: number, value: PdfValue): void {
    this.checkNum(num);
    this.objects.set(num, { kind: 'value', value });
  }

  /** `body` = the bytes between `N G obj` and `endobj` (appearance streams built elsewhere). */
  setRawObject(num: number, body: Uint8Array): void {
    this.checkNum(num);
    this.objects.set(num, { kind: 'raw', body });
  }

  /**
   * A mutable deep copy of the latest version of object `num`, registered as changed in this update
   * (a second call returns the same copy). Streams are copied with their encoded data.
   */
  edit(num: number): PdfDict {
    const pending = this.objects.get(num);
    if (pending?.kind === 'value') {
      const v = pending.value;
      if (v instanceof PdfDict) return v;
      if (v instanceof PdfStream) return v.dict;
    }
    const cur = this.doc.getObject(num);
    let copy: PdfValue;
    if (cur instanceof PdfDict) copy = cloneValue(cur);
    else if (cur instanceof PdfStream) copy = new PdfStream(cloneValue(cur.dict) as PdfDict, cur.raw);
    else throw new PdfError('pdf-malformed', `object ${num} is not a dictionary and cannot be edited`);
    this.objects.set(num, { kind: 'value', value: copy });
    return copy instanceof PdfStream ? copy.dict : (copy as PdfDict);
  }

  /** Reference to an existing object with its current generation. */
  refTo(num: number): PdfRef {
    return new PdfRef(num, this.newNums.has(num) ? 0 : this.doc.generationOf(num));
  }

  get changedObjectNumbers(): number[] {
    return [...this.objects.keys()].sort((a, b) => a - b);
  }

  private checkNum(num: number): void {
    if (this.newNums.has(num) || (Number.isInteger(num) && num > 0 && num < this.doc.size)) return;
    throw new PdfError('pdf-unsupported', `object number ${num} was neither allocated nor present in the document`);
  }

  build(opts: BuildOptions = {}): BuildResult {
    const doc = this.doc;
    const base = doc.source.length;
    const w = new ByteWriter();
    // The update starts on a fresh line (§7.5.5 requires EOL-terminated markers before it).
    const last = base > 0 ? doc.source.read(base - 1, 1)[0] : 0x0a;
    if (last !== 0x0a && last !== 0x0d) w.byte(0x0a);

    const offsets = new Map<number, { offset: number; gen: number }>();
    const holes: Array<{ obj: number; contents?: [number, number, PdfContentsHole]; br?: [number, number, PdfByteRangeHole] }> = [];
    for (const num of this.changedObjectNumbers) {
      const p = this.objects.get(num) as Pending;
      const gen = this.newNums.has(num) ? 0 : doc.generationOf(num);
      offsets.set(num, { offset: base + w.length, gen });
      w.ascii(`${num} ${gen} obj\n`);
      if (p.kind === 'raw') {
        w.bytes(p.body);
      } else {
        const h: (typeof holes)[number] = { obj: num };
        writeValue(w, p.value, {
          contents: (s, e, hole) => {
            if (h.contents) throw new PdfError('pdf-unsupported', `object ${num} has two /Contents placeholders`);
            h.contents = [s, e, hole];
          },
          byteRange: (s, e, hole) => {
            if (h.br) throw new PdfError('pdf-unsupported', `object ${num} has two /ByteRange placeholders`);
            h.br = [s, e, hole];
          },
        });
        if (h.contents || h.br) {
          if (!h.contents || !h.br) throw new PdfError('pdf-unsupported', `object ${num} needs both a Contents and a ByteRange placeholder`);
          holes.push(h);
        }
      }
      w.ascii('\nendobj\n');
    }

    const ids = this.ids(opts.newId);
    const size = Math.max(this.nextNum, doc.size);
    const trailer = new PdfDict();
    trailer.set('Size', size);
    const root = doc.trailer.get('Root');
    if (root !== undefined) trailer.set('Root', root);
    const info = opts.info ?? doc.trailer.get('Info');
    if (info !== undefined && info !== null) trailer.set('Info', info);
    trailer.set('ID', ids);
    const prev = (doc.revisions[doc.revisions.length - 1] as { startxref: number }).startxref;
    trailer.set('Prev', prev);

    let startxref: number;
    if (doc.xrefKind === 'table') {
      startxref = base + w.length;
      w.ascii('xref\n');
      for (const [first, nums] of subsections([...offsets.keys()])) {
        w.ascii(`${first} ${nums.length}\n`);
        for (const n of nums) {
          const e = offsets.get(n) as { offset: number; gen: number };
          // §7.5.4: exactly 20 bytes per entry, "nnnnnnnnnn ggggg n" + 2-byte EOL.
          w.ascii(`${String(e.offset).padStart(10, '0')} ${String(e.gen).padStart(5, '0')} n\r\n`);
        }
      }
      w.ascii('trailer\n');
      writeValue(w, trailer);
      w.ascii('\n');
    } else {
      // §7.5.8: an uncompressed xref stream, with an entry for itself.
      const xnum = size;
      const total = size + 1;
      startxref = base + w.length;
      offsets.set(xnum, { offset: startxref, gen: 0 });
      const nums = [...offsets.keys()].sort((a, b) => a - b);
      const maxOff = Math.max(...[...offsets.values()].map((e) => e.offset));
      const maxGen = Math.max(...[...offsets.values()].map((e) => e.gen));
      const w1 = bytesFor(maxOff);
      const w2 = bytesFor(maxGen);
      const index: number[] = [];
      const data = new Uint8Array(nums.length * (1 + w1 + w2));
      let p = 0;
      for (const [first, run] of subsections(nums)) {
        index.push(first, run.length);
        for (const n of run) {
          const e = offsets.get(n) as { offset: number; gen: number };
          data[p++] = 1;
          for (let i = w1 - 1; i >= 0; i--) data[p++] = Math.floor(e.offset / 2 ** (8 * i)) & 0xff;
          for (let i = w2 - 1; i >= 0; i--) data[p++] = (e.gen >> (8 * i)) & 0xff;
        }
      }
      const d = new PdfDict();
      d.set('Type', PdfName.of('XRef'));
      d.set('Size', total);
      d.set('Index', index);
      d.set('W', [1, w1, w2]);
      for (const [k, v] of trailer.entries()) if (k !== 'Size') d.set(k, v);
      w.ascii(`${xnum} 0 obj\n`);
      writeValue(w, new PdfStream(d, data));
      w.ascii('\nendobj\n');
    }
    w.ascii(`startxref\n${startxref}\n%%EOF\n`);

    const bytes = w.toBytes();
    const totalLength = base + bytes.length;
    const placeholders = holes.map((h) => {
      const [cs, ce, ch] = h.contents as [number, number, PdfContentsHole];
      const [bs, be, bh] = h.br as [number, number, PdfByteRangeHole];
      const ph: SignaturePlaceholder = {
        objectNumber: h.obj,
        contentsStart: base + cs,
        contentsEnd: base + ce,
        reservedBytes: ch.reservedBytes,
        byteRangeStart: base + bs,
        byteRangeEnd: base + be,
        byteRangeWidth: bh.width,
        byteRange: [0, base + cs, base + ce, totalLength - (base + ce)],
        baseOffset: base,
      };
      fillByteRange(bytes, ph, totalLength);
      return ph;
    });
    return { bytes, placeholders, startxref, totalLength };
  }

  /** §14.4: keep the first identifier, new second one for this version. */
  private ids(newId: Uint8Array | undefined): PdfValue {
    const second = new PdfString(newId ?? new Uint8Array(randomBytes(16)), true);
    const old = this.doc.trailer.get('ID');
    const first = Array.isArray(old) && old[0] instanceof PdfString ? old[0] : second;
    return [new PdfString(first.bytes, true), second];
  }
}

function bytesFor(v: number): number {
  let n = 1;
  while (v >= 2 ** (8 * n)) n++;
  return n;
}

/** Groups sorted object numbers into runs of consecutive numbers (xref subsections, §7.5.4). */
function subsections(nums: number[]): Array<[number, number[]]> {
  const sorted = [...nums].sort((a, b) => a - b);
  const out: Array<[number, number[]]> = [];
  for (const n of sorted) {
    const last = out[out.length - 1];
    if (last && last[1][last[1].length - 1] === n - 1) last[1].push(n);
    else out.push([n, [n]]);
  }
  return out;
}

function cloneValue(v: PdfValue): PdfValue {
  if (Array.isArray(v)) return v.map(cloneValue);
  if (v instanceof PdfDict) return new PdfDict([...v.entries()].map(([k, x]) => [k, cloneValue(x)] as const));
  return v; // names, strings, refs, numbers are immutable; nested streams do not occur in direct objects
}

/**
 * Writes the final ByteRange numbers into `bytes` (the appended part, starting at
 * `placeholder.baseOffset`). Same width as the placeholder, so no other byte moves.
 */
export function fillByteRange(bytes: Uint8Array, placeholder: SignaturePlaceholder, totalLength: number): void {
  const r: [number, number, number, number] = [0, placeholder.contentsStart, placeholder.contentsEnd, totalLength - placeholder.contentsEnd];
  const text = byteRangeText(r, placeholder.byteRangeWidth);
  const at = placeholder.byteRangeStart - placeholder.baseOffset;
  if (at < 0 || at + text.length > bytes.length || text.length !== placeholder.byteRangeEnd - placeholder.byteRangeStart) {
    throw new PdfError('pdf-unsupported', 'ByteRange placeholder does not lie in the given bytes');
  }
  for (let i = 0; i < text.length; i++) bytes[at + i] = text.charCodeAt(i);
  placeholder.byteRange = r;
}

/**
 * The hex digits to write at `contentsStart + 1`: the DER, upper-case hex, zero-padded to the
 * reserved size (trailing zeros after DER are ignored by CMS parsers, ISO 32000-1 §12.8.1).
 */
export function contentsHexFor(der: Uint8Array, reservedBytes: number): string {
  if (der.length > reservedBytes) {
    throw new PdfError('pdf-placeholder-too-small', `signature of ${der.length} bytes does not fit the ${reservedBytes} bytes reserved for /Contents`, {
      status: 500,
      details: { needed: der.length, reserved: reservedBytes },
    });
  }
  return Buffer.from(der).toString('hex').toUpperCase().padEnd(reservedBytes * 2, '0');
}

/** Writes the CMS into an in-memory copy of the appended bytes (for buffer-based callers). */
export function writeContents(bytes: Uint8Array, placeholder: SignaturePlaceholder, der: Uint8Array): void {
  const hex = contentsHexFor(der, placeholder.reservedBytes);
  const at = placeholder.contentsStart + 1 - placeholder.baseOffset;
  if (at < 1 || at + hex.length >= bytes.length) throw new PdfError('pdf-unsupported', 'Contents placeholder does not lie in the given bytes');
  for (let i = 0; i < hex.length; i++) bytes[at + i] = hex.charCodeAt(i);
}

