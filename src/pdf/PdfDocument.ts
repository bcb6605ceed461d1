import { type ByteSource, BufferSource, FileSource } from './ByteSource.ts';
import { Lexer, ascii } from './Lexer.ts';
import { PdfError } from './PdfError.ts';
import { decodeStreamFully } from './filters.ts';
import { PdfDict, PdfRef, PdfStream, type PdfValue } from './objects.ts';
import { DEFAULT_PARSER_LIMITS, ValueBudget, parseIndirectObject, parseValue, type ParserLimits } from './parser.ts';
import { type PageInfo, findPage, walkPages } from './pageTree.ts';
import { type SignatureField, collectFieldNames, collectSignatureFields } from './signatureFields.ts';
import { type XrefEntry, type XrefSection, findStartXref, readXrefSection } from './xref.ts';

export interface OpenOptions {
  /** Most xref sections followed through /Prev (each incremental update adds one). */
  maxRevisions?: number;
  /** Largest object number accepted. */
  maxObjects?: number;
  /** Largest decoded object stream. */
  maxObjectStreamBytes?: number;
  /**
   * Most values (numbers, names, strings, arrays, dictionaries…) parsed from the document's objects,
   * and again from its trailers and xref stream dictionaries: bounds the memory and time a hostile
   * file can cost (`pdf-limit-exceeded` beyond).
   */
  maxParsedValues?: number;
}

/** One revision: the state of the file after an original save or an incremental update (§7.5.6). */
export interface Revision {
  index: number;
  /** The startxref value that points at this revision's (first) xref section. */
  startxref: number;
  xrefKind: 'table' | 'stream';
  /** The revision's trailer (for a linearized file: the first-page trailer merged over the main one). */
  trailer: PdfDict;
  /** Object numbers this revision's xref section(s) define (in use or freed). */
  objectNumbers: ReadonlySet<number>;
  /** Byte after this revision's `%%EOF`. */
  endOffset: number;
  /** Byte after the `%%EOF` and the single EOL following it, when present. */
  endOffsetWithEol: number;
  /** True when the trailer has /XRefStm (hybrid-reference file, §7.5.8.4). */
  hybrid: boolean;
  /** Offsets of the xref sections merged into this revision (1 normally, 2 when linearized, Annex F). */
  sectionOffsets: number[];
  entries: ReadonlyMap<number, XrefEntry>;
}

interface ObjStmCache {
  data: Uint8Array;
  first: number;
  /** Pairs [objnum, offset] from the stream header. */
  index: Array<[number, number]>;
}

// maxParsedValues: about 200 MB of heap at worst (millions of empty arrays); real documents parse far
// fewer, as signing and validation read only the objects they need and stream data stays bytes.
const DEFAULTS = { maxRevisions: 4096, maxObjects: 8_388_607, maxObjectStreamBytes: 64 * 1024 * 1024, maxParsedValues: 4_000_000 };

/** Parsed xref chains shared by `PdfDocument.openShared` while their holder works on the bytes. */
interface SharedParse {
  length: number;
  limits: typeof DEFAULTS;
  version: string;
  revisions: Revision[];
  holders: number;
}
const shared = new WeakMap<Uint8Array, SharedParse>();

function sameLimits(a: typeof DEFAULTS, b: typeof DEFAULTS): boolean {
  return a.maxRevisions === b.maxRevisions && a.maxObjects === b.maxObjects && a.maxObjectStreamBytes === b.maxObjectStreamBytes && a.maxParsedValues === b.maxParsedValues;
}

function sharedParse(bytes: Uint8Array, o: typeof DEFAULTS): SharedParse | undefined {
  const h = shared.get(bytes);
  return h && h.length === bytes.length && sameLimits(h.limits, o) ? h : undefined;
}

/**
 * Read-only view of a PDF, reading lazily from a `ByteSource`: the tail for `startxref`, the xref
 * sections through /Prev, and the objects asked for. Never loads the whole file.
 */
export class PdfDocument {
  readonly revisions: readonly Revision[];
  /** Merged trailer: newer trailers' keys override older ones (/Prev and /XRefStm dropped). */
  readonly trailer: PdfDict;
  readonly catalog: PdfDict;
  readonly catalogRef: PdfRef | null;
  /** `%PDF-x.y` version from the header. */
  readonly headerVersion: string;
  private readonly table = new Map<number, XrefEntry>();
  private readonly cache = new Map<number, PdfValue>();
  private readonly inProgress = new Set<number>();
  private readonly objStms = new Map<number, ObjStmCache>();
  private pagesCache: PageInfo[] | null = null;
  private readonly opts: typeof DEFAULTS;
  /** One value budget for every object read from this document. */
  private readonly parseLimits: ParserLimits;

  private constructor(
    readonly source: ByteSource,
    allRevisions: Revision[],
    uptoIndex: number,
    headerVersion: string,
    opts: OpenOptions,
  ) {
    this.opts = { ...DEFAULTS, ...opts };
    this.parseLimits = { ...DEFAULT_PARSER_LIMITS, budget: new ValueBudget(this.opts.maxParsedValues) };
    this.headerVersion = headerVersion;
    this.revisions = allRevisions.slice(0, uptoIndex + 1);
    const trailer = new PdfDict();
    for (const rev of this.revisions) {
      for (const [num, e] of rev.entries) this.table.set(num, e);
      for (const [k, v] of rev.trailer.entries()) {
        if (k === 'Prev' || k === 'XRefStm') continue;
        trailer.set(k, v);
      }
    }
    this.trailer = trailer;
    if (trailer.has('Encrypt')) {
      throw new PdfError('pdf-encrypted', 'the PDF is encrypted (/Encrypt in the trailer); decrypt it before signing or validating');
    }
    const root = trailer.get('Root');
    this.catalogRef = root instanceof PdfRef ? root : null;
    const cat = this.resolve(root ?? null);
    if (!(cat instanceof PdfDict)) throw new PdfError('pdf-malformed', 'the trailer has no valid /Root catalog dictionary');
    this.catalog = cat;
  }

  /** Opens the latest revision. `source` may be a path, bytes or a ByteSource. */
  static open(source: ByteSource | Uint8Array | string, opts: OpenOptions = {}): PdfDocument {
    return PdfDocument.openRevision(source, -1, opts);
  }

  /**
   * Opens the document as it was at revision `revisionIndex` (0 = original; negative counts from the
   * end, -1 = latest). Later sections are simply not consulted.
   */
  static openRevision(source: ByteSource | Uint8Array | string, revisionIndex: number, opts: OpenOptions = {}): PdfDocument {
    const src = typeof source === 'string' ? new FileSource(source) : source instanceof Uint8Array ? new BufferSource(source) : source;
    try {
      const o = { ...DEFAULTS, ...opts };
      const parsed = source instanceof Uint8Array ? sharedParse(source, o) : undefined;
      const version = parsed ? parsed.version : readHeader(src);
      const revisions = parsed ? parsed.revisions : readRevisions(src, o);
      const idx = revisionIndex < 0 ? revisions.length + revisionIndex : revisionIndex;
      if (idx < 0 || idx >= revisions.length) {
        throw new PdfError('pdf-unsupported', `revision ${revisionIndex} does not exist (the file has ${revisions.length})`);
      }
      return new PdfDocument(src, revisions, idx, version, opts);
    } catch (e) {
      if (typeof source === 'string') src.close();
      if (e instanceof PdfError) throw e;
      // Anything else escaping the parser is still the input's fault as far as the caller is concerned.
      throw new PdfError('pdf-malformed', `cannot parse PDF: ${(e as Error).message}`, { cause: e });
    }
  }

  /**
   * Opens the latest revision of `bytes` and keeps its parsed xref chain for reuse: until `release()`
   * is called, every `open`/`openRevision` of this same array (same object and length, default
   * limits) builds its view from the sections parsed here instead of reading the /Prev chain again,
   * which made analysing every revision of an N-revision file cost N² section reads. The caller
   * guarantees the bytes are not modified in between. Nested shares of the same array are counted.
   */
  static openShared(bytes: Uint8Array, opts: OpenOptions = {}): { doc: PdfDocument; release: () => void } {
    const o = { ...DEFAULTS, ...opts };
    let entry = sharedParse(bytes, o);
    if (entry) {
      entry.holders++;
    } else {
      const src = new BufferSource(bytes);
      try {
        entry = { length: bytes.length, limits: o, version: readHeader(src), revisions: readRevisions(src, o), holders: 1 };
      } catch (e) {
        if (e instanceof PdfError) throw e;
        throw new PdfError('pdf-malformed', `cannot parse PDF: ${(e as Error).message}`, { cause: e });
      }
      shared.set(bytes, entry);
    }
    const held = entry;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      if (--held.holders <= 0 && shared.get(bytes) === held) shared.delete(bytes);
    };
    try {
      return { doc: PdfDocument.openRevision(bytes, -1, opts), release };
    } catch (e) {
      release();
      throw e;
    }
  }

  close(): void {
    this.source.close();
  }

  /** Kind of the last revision's xref (the writer keeps it, EN 319 142-1 practice / §7.5.6). */
  get xrefKind(): 'table' | 'stream' {
    return (this.revisions[this.revisions.length - 1] as Revision).xrefKind;
  }

  /** /Size of the latest trailer: one more than the highest object number in use. */
  get size(): number {
    if (this.sizeCache === null) {
      // A /Size smaller than the highest number in use is a common writer bug; never reuse a number.
      const s = this.trailer.getNumber('Size') ?? 0;
      let max = 0;
      for (const n of this.table.keys()) if (n > max) max = n;
      this.sizeCache = Math.max(Number.isInteger(s) ? s : 0, max + 1);
    }
    return this.sizeCache;
  }
  private sizeCache: number | null = null;

  /** Latest xref entry for an object number. */
  entry(num: number): XrefEntry | undefined {
    return this.table.get(num);
  }

  /** Object numbers defined by the xref of this (possibly truncated) document. */
  objectNumbers(): IterableIterator<number> {
    return this.table.keys();
  }

  resolve(value: PdfValue | undefined): PdfValue {
    if (value === undefined) return null;
    if (value instanceof PdfRef) {
      const e = this.table.get(value.num);
      if (e && e.type === 'offset' && e.gen !== value.gen) return null; // §7.3.10: undefined object
      return this.getObject(value.num);
    }
    return value;
  }

  /** Resolves and returns a dictionary (or a stream's dictionary), else undefined. */
  resolveDict(value: PdfValue | undefined): PdfDict | undefined {
    const v = this.resolve(value);
    if (v instanceof PdfDict) return v;
    if (v instanceof PdfStream) return v.dict;
    return undefined;
  }

  /** Generation number the latest revision gives object `num` (0 for compressed objects). */
  generationOf(num: number): number {
    const e = this.table.get(num);
    return e && e.type === 'offset' ? e.gen : 0;
  }

  /** The object as defined by the latest revision; null when free or undefined (§7.3.10). */
  getObject(num: number): PdfValue {
    if (this.cache.has(num)) return this.cache.get(num) as PdfValue;
    const e = this.table.get(num);
    if (!e || e.type === 'free') return null;
    if (this.inProgress.has(num)) throw new PdfError('pdf-malformed', `object ${num} refers to itself while being read`);
    this.inProgress.add(num);
    try {
      const v = e.type === 'offset' ? this.readAt(num, e.offset) : this.readCompressed(num, e.stream, e.index);
      // Parsed objects are small (stream data stays lazy); the bound only guards pathological files.
      if (this.cache.size >= 500_000) this.cache.clear();
      this.cache.set(num, v);
      return v;
    } finally {
      this.inProgress.delete(num);
    }
  }

  private readAt(num: number, offset: number): PdfValue {
    if (offset < 0 || offset >= this.source.length) throw new PdfError('pdf-malformed', `object ${num} offset ${offset} is outside the file`);
    const obj = parseIndirectObject(this.source, offset, (ref) => {
      try {
        const v = this.resolve(ref);
        return typeof v === 'number' ? v : undefined;
      } catch (err) {
        if (err instanceof PdfError) return undefined; // fall back to scanning for endstream
        throw err;
      }
    }, this.parseLimits);
    if (obj.num !== num) throw new PdfError('pdf-malformed', `xref points object ${num} at offset ${offset}, which holds object ${obj.num}`);
    return obj.value;
  }

  private readCompressed(num: number, stmNum: number, index: number): PdfValue {
    const stm = this.loadObjStm(stmNum);
    const pair = stm.index[index];
    // §7.5.7: the index is a hint; fall back to looking the number up in the header.
    const hit = pair && pair[0] === num ? pair : stm.index.find((p) => p[0] === num);
    if (!hit) return null;
    const start = stm.first + hit[1];
    if (start >= stm.data.length) throw new PdfError('pdf-malformed', `object ${num} lies outside object stream ${stmNum}`);
    const lx = new Lexer(new BufferSource(stm.data), start);
    const v = parseValue(lx, this.parseLimits);
    if (v instanceof PdfStream) throw new PdfError('pdf-malformed', 'stream inside an object stream');
    return v;
  }

  private loadObjStm(stmNum: number): ObjStmCache {
    const cached = this.objStms.get(stmNum);
    if (cached) return cached;
    const e = this.table.get(stmNum);
    // §7.5.7: object streams are not themselves compressed, and cannot contain themselves.
    if (!e || e.type !== 'offset') throw new PdfError('pdf-malformed', `object stream ${stmNum} is missing, nested or self-referencing`);
    if (this.inProgress.has(stmNum)) throw new PdfError('pdf-malformed', `object stream ${stmNum} references itself`);
    const s = this.getObject(stmNum);
    if (!(s instanceof PdfStream) || s.dict.getName('Type') !== 'ObjStm') throw new PdfError('pdf-malformed', `object ${stmNum} is not an object stream`);
    const n = s.dict.getNumber('N') ?? -1;
    const first = s.dict.getNumber('First') ?? -1;
    if (!Number.isInteger(n) || n < 0 || n > 1_000_000 || !Number.isInteger(first) || first < 0) {
      throw new PdfError('pdf-malformed', `object stream ${stmNum} has invalid /N or /First`);
    }
    const data = decodeStreamFully(s, this.opts.maxObjectStreamBytes);
    const lx = new Lexer(new BufferSource(data.subarray(0, Math.min(first, data.length))), 0);
    const index: Array<[number, number]> = [];
    for (let i = 0; i < n; i++) {
      const a = lx.next();
      const b = lx.next();
      if (a.kind !== 'int' || b.kind !== 'int') break;
      index.push([a.value, b.value]);
    }
    const entry: ObjStmCache = { data, first, index };
    // Keep a handful decoded; each is bounded by maxObjectStreamBytes.
    if (this.objStms.size >= 8) this.objStms.delete(this.objStms.keys().next().value as number);
    this.objStms.set(stmNum, entry);
    return entry;
  }

  /** Pages in document order (§7.7.3), with inherited attributes resolved. */
  get pages(): readonly PageInfo[] {
    if (!this.pagesCache) this.pagesCache = walkPages(this);
    return this.pagesCache;
  }

  get pageCount(): number {
    return this.pages.length;
  }

  /**
   * Page `i` without walking the whole tree when the /Count entries allow it (signing a 500-page
   * scan must not parse 500 page objects); falls back to the full walk otherwise.
   */
  findPage(i: number): PageInfo | undefined {
    if (this.pagesCache) return this.pagesCache[i];
    return findPage(this, i) ?? this.pages[i];
  }

  getPage(i: number): PageInfo {
    const p = this.pages[i];
    if (!p) throw new PdfError('pdf-unsupported', `page ${i} does not exist (the document has ${this.pageCount})`);
    return p;
  }

  /** The interactive form dictionary (§12.7.2), if any. */
  get acroForm(): PdfDict | undefined {
    return this.resolveDict(this.catalog.get('AcroForm'));
  }

  /** Signature fields (FT /Sig, §12.7.4.5), walking /Fields and /Kids. */
  signatureFields(): SignatureField[] {
    return collectSignatureFields(this);
  }

  /** Fully qualified names of all form fields, of any type, terminal or not (§12.7.3.2). */
  fieldNames(): Set<string> {
    return collectFieldNames(this);
  }
}

function readHeader(src: ByteSource): string {
  const head = src.read(0, 1024);
  const idx = Buffer.from(head.buffer, head.byteOffset, head.length).indexOf(ascii('%PDF-'));
  if (idx < 0) throw new PdfError('pdf-not-a-pdf', 'no %PDF- header in the first 1024 bytes');
  const m = /^%PDF-(\d+\.\d+)/.exec(Buffer.from(head.subarray(idx, idx + 16)).toString('latin1'));
  return m?.[1] ?? '';
}

/** Follows startxref and /Prev (with loop protection), grouping sections into revisions, oldest first. */
function readRevisions(src: ByteSource, o: typeof DEFAULTS): Revision[] {
  const limits = { maxObjects: o.maxObjects, budget: new ValueBudget(o.maxParsedValues) };
  const sections: XrefSection[] = [];
  const visited = new Set<number>();
  let offset: number | undefined = findStartXref(src);
  while (offset !== undefined) {
    if (visited.has(offset)) throw new PdfError('pdf-malformed', `xref /Prev chain loops back to offset ${offset}`);
    if (visited.size >= o.maxRevisions) throw new PdfError('pdf-limit-exceeded', `more than ${o.maxRevisions} xref sections`);
    visited.add(offset);
    const sec = readXrefSection(src, offset, limits);
    // §7.5.8.4 hybrid file: the table's trailer points at an xref stream with the compressed objects;
    // its entries apply where the table itself has none (or only a free one).
    const stm = sec.trailer.getNumber('XRefStm');
    if (sec.kind === 'table' && stm !== undefined && Number.isInteger(stm) && stm >= 0 && stm < src.length && !visited.has(stm)) {
      const hidden = readXrefSection(src, stm, limits);
      for (const [num, e] of hidden.entries) {
        const cur = sec.entries.get(num);
        if (!cur || cur.type === 'free') sec.entries.set(num, e);
      }
    }
    sections.push(sec);
    const prev = sec.trailer.getNumber('Prev');
    offset = prev !== undefined && Number.isInteger(prev) && prev >= 0 ? prev : undefined;
    if (offset !== undefined && offset >= src.length) throw new PdfError('pdf-malformed', `/Prev ${offset} is outside the file`);
  }
  // Newest first now. An update always follows what it updates, so its section lies after the end of
  // the revision it points to. The one exception is a linearized file (Annex F): its first-page
  // section, right after the linearization dictionary, has a /Prev pointing forward to the main
  // section at the end; the two make up the original file, revision 0. Any other forward /Prev would
  // let an update fold a section hidden inside signed bytes into a signed revision: refused.
  const firstPageAt = linearizedFirstSectionStart(src);
  const groups: XrefSection[][] = [];
  for (let i = 0; i < sections.length; i++) {
    const sec = sections[i] as XrefSection;
    const last = groups[groups.length - 1];
    const lastSec = last?.[last.length - 1];
    if (last && lastSec && sec.offset > lastSec.offset) {
      const linearizedPair = firstPageAt >= 0 && i === sections.length - 1 && last.length === 1 && tokenStart(src, lastSec.offset) === firstPageAt;
      if (!linearizedPair) {
        throw new PdfError(
          'pdf-malformed',
          `the xref section at ${lastSec.offset} has /Prev ${sec.offset}, pointing forward: only the first-page section of a linearized file may do that`,
        );
      }
      last.push(sec);
    } else {
      groups.push([sec]);
    }
  }
  groups.reverse();
  const revisions = groups.map((g, index): Revision => {
    const entries = new Map<number, XrefEntry>();
    const trailer = new PdfDict();
    // Within a group the first section (the one startxref points at) takes precedence.
    for (let i = g.length - 1; i >= 0; i--) {
      const s = g[i] as XrefSection;
      for (const [n, e] of s.entries) entries.set(n, e);
      for (const [k, v] of s.trailer.entries()) trailer.set(k, v);
    }
    const head = g[0] as XrefSection;
    if (head.trailer.has('Prev')) trailer.set('Prev', head.trailer.get('Prev') as PdfValue);
    else trailer.delete('Prev');
    // The revision ends at the `%%EOF` after its last section, provided the `startxref` before it
    // points at this revision (§7.5.5; for a linearized file, at the first-page section). Else that
    // marker ends some other revision (a missing %%EOF, or a section hidden inside another update
    // borrowing that update's end to pass for it) and this revision ends with its own bytes.
    const tailSec = g.reduce((a, b) => (b.eofEnd > a.eofEnd ? b : a));
    const ownEof = tailSec.startxrefAtEof !== null && tokenStart(src, tailSec.startxrefAtEof) === tokenStart(src, head.offset);
    const endOffset = ownEof ? tailSec.eofEnd : Math.max(...g.map((s) => s.sectionEnd));
    const endOffsetWithEol = ownEof ? tailSec.eofEndWithEol : endOffset;
    return {
      index,
      startxref: head.offset,
      xrefKind: head.kind,
      trailer,
      objectNumbers: new Set(entries.keys()),
      endOffset,
      endOffsetWithEol,
      hybrid: head.trailer.has('XRefStm'),
      sectionOffsets: g.map((s) => s.offset),
      entries,
    };
  });
  // §7.5.6: every update is appended after the end of the revision it updates. A section starting
  // earlier lies inside an older revision, possibly inside its signed bytes, and is no update of it.
  // (A hybrid update's /XRefStm may point back at the original's xref stream: writers copy the key.
  // Its entries count as defined by the update, so the change analysis still compares them.)
  for (let k = 1; k < revisions.length; k++) {
    const prevEnd = (revisions[k - 1] as Revision).endOffset;
    const at = (revisions[k] as Revision).startxref;
    if (at < prevEnd) {
      throw new PdfError(
        'pdf-malformed',
        `revision ${k} has its xref section at ${at}, inside revision ${k - 1} (which ends at ${prevEnd}): an update must follow what it updates`,
      );
    }
  }
  return revisions;
}

/**
 * When the file is linearized (Annex F: the first object is a linearization parameter dictionary,
 * within the first 1024 bytes), the offset of the first token after that object, where the
 * first-page xref section must start; else -1.
 */
function linearizedFirstSectionStart(src: ByteSource): number {
  try {
    const head = src.read(0, 1024 + 4096);
    const at = Buffer.from(head.buffer, head.byteOffset, head.length).indexOf(ascii('%PDF-'));
    if (at < 0 || at >= 1024) return -1;
    const lx = new Lexer(new BufferSource(head), at);
    lx.skipWhite(); // the header and binary-marker lines are comments
    const n = lx.next();
    const g = lx.next();
    const o = lx.next();
    if (n.kind !== 'int' || g.kind !== 'int' || o.kind !== 'kw' || o.value !== 'obj') return -1;
    const v = parseValue(lx);
    if (!(v instanceof PdfDict) || !v.has('Linearized')) return -1;
    const e = lx.next();
    if (e.kind !== 'kw' || e.value !== 'endobj') return -1;
    lx.skipWhite();
    return lx.pos;
  } catch (e) {
    if (e instanceof PdfError) return -1;
    throw e;
  }
}

/** Position of the first token at or after `offset` (the xref reader skips white space the same way). */
function tokenStart(src: ByteSource, offset: number): number {
  const lx = new Lexer(src, offset);
  lx.skipWhite();
  return lx.pos;
}
