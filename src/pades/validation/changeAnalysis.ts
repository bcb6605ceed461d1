/**
 * Analysis of one incremental update (ISO 32000-1 §7.5.6) after a signed revision: every object the
 * update defines is compared with the previous revision and classified. Allowed are: DSS data
 * (EN 319 142-1 §5.4.2), document timestamps and further signatures (new field, widget, signature
 * dictionary, their appearance streams, the /Fields and /Annots appends), form filling and simple
 * comment annotations as the DocMDP permission allows (ISO 32000-1 §12.8.2.2 Table 254), subject to
 * FieldMDP locks (§12.8.2.4). Everything else — page content, resources, page tree, overlaying
 * annotations, redefined objects — is not allowed, and anything not understood is not allowed.
 */
import {
  BufferSource,
  Lexer,
  PdfDict,
  PdfDocument,
  PdfError,
  PdfName,
  PdfRef,
  PdfStream,
  PdfString,
  decodeStreamFully,
  numberValue,
  type PageInfo,
  type PdfValue,
} from '../../pdf/index.ts';
import { annotNumbers, formFields, type FormField } from './formFields.ts';
import { GraphLimitError, SHARED_OWNER, changedKeys, reachable, reachableByOwner, sameValue } from './objectGraph.ts';
import type { ChangeFlag, ChangeKind, ChangeReport } from './report.ts';

export interface FieldLock {
  action: 'All' | 'Include' | 'Exclude';
  fields: string[];
}

export interface ChangeContext {
  /** DocMDP permission of a certification signature that covers the previous revision, else null. */
  docMdp: 1 | 2 | 3 | null;
  /** FieldMDP locks of signatures that cover the previous revision. */
  locks: readonly FieldLock[];
  /** Epoch ms after which the analysis stops: the revision is then reported as not allowed (kind `time-limit`). */
  deadline?: number;
}

/** The validation's time limit passed during the analysis. */
export class AnalysisTimeout extends Error {}

const TIME_LIMIT_REASON = 'the analysis stopped at the validation time limit (VALIDATION_TIMEOUT_MS): the update is not known to be allowed';

/** Annotation subtypes that draw an icon, not content over the page (ISO 32000-1 §12.5.6.4, §12.5.6.14). */
const COMMENT_SUBTYPES = new Set(['Text', 'Popup']);
/** Keys of a field or widget that filling or signing may change. */
const FILL_KEYS = new Set(['V', 'AP', 'AS']);
/** Keys that point back up the tree; not followed when collecting an object's own subtree. */
const UP_KEYS = new Set(['P', 'Parent', 'Data', 'Popup', 'IRT']);
const CATALOG_ALLOWED: Record<string, ChangeKind> = { DSS: 'dss', Extensions: 'metadata', Metadata: 'metadata', Version: 'metadata' };
const ACROFORM_ALLOWED = new Set(['Fields', 'SigFlags', 'DR', 'DA']);

/** Private or bookkeeping keys that no renderer uses (ISO 32000-1 §14.5 PieceInfo, §14.11.2 LastModified; iText /ITXT). */
const PRIVATE_KEYS = new Set(['ITXT', 'PieceInfo', 'LastModified']);
/**
 * Keys not followed when collecting what pages draw: links up the tree or to other pages (/Parent,
 * /P, /Dest, beads), actions, metadata, and /Annots (annotations are walked one by one, to know whose
 * they are).
 */
const NOT_DRAWN_KEYS = new Set(['Parent', 'P', 'Annots', 'B', 'A', 'AA', 'PA', 'Dest', 'Popup', 'IRT', 'Data', 'Metadata', 'PieceInfo']);
/** The same walk with the annotations in it. */
const NOT_DRAWN_KEYS_BUT_ANNOTS = new Set([...NOT_DRAWN_KEYS].filter((k) => k !== 'Annots'));
/** ISO 32000-1 Table 165 annotation flags: Hidden (2), Print (4), NoView (32). */
const F_HIDDEN = 2;
const F_PRINT = 4;
const F_NOVIEW = 32;
/** ISO 32000-1 Table 165: NoView inverted on mouse-over or selection, so the widget shows then. */
const F_TOGGLE_NOVIEW = 256;

/** ISO 32000-1 Table 165 annotation flags 128 (Locked) and 512 (LockedContents), set by signers. */
function onlyLockBits(o: PdfDict, n: PdfDict): boolean {
  const a = o.getNumber('F') ?? 0;
  const b = n.getNumber('F') ?? 0;
  return ((a ^ b) & ~(128 | 512)) === 0;
}

/**
 * Same content once references are followed on both sides (a writer may copy a resource dictionary
 * to a new object). Bounded; cycles compare equal on the second visit.
 */
export function equivalent(oldDoc: PdfDocument, a: PdfValue | undefined, newDoc: PdfDocument, b: PdfValue | undefined): boolean {
  let budget = 20_000;
  const pairs = new Set<string>();
  const eq = (x: PdfValue | undefined, y: PdfValue | undefined, depth: number): boolean => {
    if (--budget < 0 || depth > 50) return false;
    if (x instanceof PdfRef || y instanceof PdfRef) {
      const key = `${x instanceof PdfRef ? x.num : 'd'}:${y instanceof PdfRef ? y.num : 'd'}`;
      if (pairs.has(key)) return true;
      pairs.add(key);
      return eq(x instanceof PdfRef ? oldDoc.resolve(x) : x, y instanceof PdfRef ? newDoc.resolve(y) : y, depth + 1);
    }
    if (Array.isArray(x)) return Array.isArray(y) && x.length === y.length && x.every((e, i) => eq(e, y[i], depth + 1));
    if (x instanceof PdfStream) return y instanceof PdfStream && sameValue(x, y);
    if (x instanceof PdfDict) {
      if (!(y instanceof PdfDict) || x.size !== y.size) return false;
      for (const [k, e] of x.entries()) if (!y.has(k) || !eq(e, y.get(k), depth + 1)) return false;
      return true;
    }
    return sameValue(x, y);
  };
  return eq(a, b, 0);
}

interface Verdict {
  kind: ChangeKind;
  allowed: boolean;
  reason: string;
  /** Permitted, but what a reader should be told about (ChangeReport.flag). */
  flag?: ChangeFlag;
}

/** Operators that put marks on the page (ISO 32000-1 Table 51, §8.2): painting, shading, text showing, inline images. */
const PAINTING_OPERATORS = new Set(['S', 's', 'f', 'F', 'f*', 'B', 'B*', 'b', 'b*', 'sh', 'Tj', 'TJ', "'", '"', 'BI', 'EI', 'ID']);

/** Width and height of a /Rect or /BBox, or undefined when it is not a four-number array. */
function boxSize(v: PdfValue): { w: number; h: number } | undefined {
  if (!Array.isArray(v) || v.length !== 4) return undefined;
  const [x1, y1, x2, y2] = v.map(numberValue);
  if (x1 === undefined || y1 === undefined || x2 === undefined || y2 === undefined) return undefined;
  return { w: Math.abs(x2 - x1), h: Math.abs(y2 - y1) };
}

/** A /Rect or /BBox with no area (a valid four-number array only; anything else may draw). */
function zeroArea(v: PdfValue): boolean {
  const size = boxSize(v);
  return size !== undefined && size.w * size.h === 0;
}

/**
 * The largest box a sticky note (Text annotation) may take and still count as a comment: its icon
 * (Acrobat's are about 20×24 pt). A larger one with an appearance could paint over signed content.
 */
const NOTE_ICON_MAX = 48;

/** True when a /Rect is a four-number array no wider and no taller than `max`. */
function fitsBox(v: PdfValue, max: number): boolean {
  const size = boxSize(v);
  return size !== undefined && size.w <= max && size.h <= max;
}

/**
 * Object numbers of the real DSS items (EN 319 142-1 §5.4.2.2, §5.4.2.3): the DSS dictionary, its
 * /Certs, /OCSPs and /CRLs arrays and their streams, /VRI and its dictionaries with their /Cert,
 * /OCSP, /CRL arrays, /TS stream and /TU date. Whatever else hangs below /DSS is not DSS data.
 */
function dssItems(doc: PdfDocument): Set<number> {
  const out = new Set<number>();
  const stream = (v: PdfValue | undefined): void => {
    if (!(v instanceof PdfRef)) return;
    const s = doc.resolve(v);
    if (!(s instanceof PdfStream)) return;
    out.add(v.num);
    const len = s.dict.get('Length'); // an indirect /Length belongs to its stream (§7.3.8.2)
    if (len instanceof PdfRef && typeof doc.resolve(len) === 'number') out.add(len.num);
  };
  const streams = (v: PdfValue | undefined): void => {
    const arr = doc.resolve(v);
    if (!Array.isArray(arr)) return;
    if (v instanceof PdfRef) out.add(v.num);
    for (const x of arr) stream(x);
  };
  const dict = (v: PdfValue | undefined): PdfDict | undefined => {
    const d = doc.resolve(v);
    if (!(d instanceof PdfDict)) return undefined;
    if (v instanceof PdfRef) out.add(v.num);
    return d;
  };
  const dss = dict(doc.catalog.get('DSS'));
  if (!dss) return out;
  for (const key of ['Certs', 'OCSPs', 'CRLs']) streams(dss.get(key));
  const vri = dict(dss.get('VRI'));
  for (const [, e] of vri?.entries() ?? []) {
    const entry = dict(e);
    if (!entry) continue;
    for (const key of ['Cert', 'OCSP', 'CRL']) streams(entry.get(key));
    stream(entry.get('TS'));
    const tu = entry.get('TU');
    if (tu instanceof PdfRef && doc.resolve(tu) instanceof PdfString) out.add(tu.num);
  }
  return out;
}

export function isLocked(name: string, locks: readonly FieldLock[]): boolean {
  return locks.some((l) =>
    l.action === 'All' ? true : l.action === 'Include' ? l.fields.includes(name) : !l.fields.includes(name),
  );
}

/** Classifies every object defined by revision `k` (k >= 1) against revision k-1. */
export function analyseRevision(source: Uint8Array, k: number, ctx: ChangeContext): ChangeReport[] {
  let oldDoc: PdfDocument;
  let newDoc: PdfDocument;
  try {
    oldDoc = PdfDocument.openRevision(source, k - 1);
    newDoc = PdfDocument.openRevision(source, k);
  } catch (e) {
    if (!(e instanceof PdfError)) throw e;
    return [{ object: `revision ${k}`, kind: 'structure', allowed: false, reason: `the revision cannot be read: ${e.message}` }];
  }
  try {
    return new RevisionDiff(oldDoc, newDoc, k, ctx).run();
  } catch (e) {
    if (e instanceof PdfError || e instanceof GraphLimitError) {
      return [{ object: `revision ${k}`, kind: 'structure', allowed: false, reason: `the update cannot be analysed: ${e.message}` }];
    }
    if (e instanceof AnalysisTimeout) return [timeLimitChange(k)];
    throw e;
  }
}

/** The change a revision left unanalysed at the time limit is reported as. */
export function timeLimitChange(k: number): ChangeReport {
  return { object: `revision ${k}`, kind: 'time-limit', allowed: false, reason: TIME_LIMIT_REASON };
}

class RevisionDiff {
  private readonly verdicts = new Map<number, Verdict>();
  private readonly extra: ChangeReport[] = [];
  private reach: Set<number> | null = null;
  private drawing: { drawn: Set<number>; owners: Map<number, number> } | null = null;
  private drawnAfter: Set<number> | null = null;

  constructor(
    private readonly oldDoc: PdfDocument,
    private readonly newDoc: PdfDocument,
    private readonly k: number,
    private readonly ctx: ChangeContext,
  ) {}

  private existedBefore(num: number): boolean {
    const e = this.oldDoc.entry(num);
    if (!e || e.type === 'free') return false;
    try {
      return this.oldDoc.getObject(num) !== null;
    } catch {
      return false;
    }
  }

  private set(num: number, v: Verdict): void {
    if (!this.verdicts.has(num)) this.verdicts.set(num, v);
  }

  /**
   * Marks `roots` and the new objects of their subtrees (existing objects keep their own verdict). A
   * "new" object the signed pages already refer to (a dangling reference filled in now) is content.
   */
  private claimSubtree(roots: readonly PdfValue[], v: Verdict): void {
    for (const num of reachable(this.newDoc, roots, { skipKeys: UP_KEYS, limit: 50_000 })) {
      if (!this.existedBefore(num) && !this.drawnBySignedPages(num)) this.set(num, v);
    }
  }

  /**
   * What the previous revision's pages draw: `drawn` from the page tree itself (contents, resources,
   * XObjects, fonts, ...), and `owners`, for objects reached from annotations, the field that owns
   * the widget (else the annotation), or SHARED_OWNER. Side-structure rules (DSS, metadata, /Info,
   * regenerated appearances) must never approve a change to these: a decoy role does not make page
   * content harmless.
   */
  private signedDrawing(): { drawn: Set<number>; owners: Map<number, number> } {
    if (this.drawing) return this.drawing;
    const pagesVal = this.oldDoc.catalog.get('Pages') ?? null;
    let pages: readonly PageInfo[];
    try {
      pages = this.oldDoc.pages;
    } catch {
      // The page tree cannot be walked page by page: count every annotation as drawn by its page.
      this.drawing = { drawn: reachable(this.oldDoc, [pagesVal], { skipKeys: UP_KEYS, limit: 200_000 }), owners: new Map() };
      return this.drawing;
    }
    const fieldOf = new Map<number, number>();
    for (const f of formFields(this.oldDoc)) if (f.num !== null) for (const w of f.widgets) fieldOf.set(w, f.num);
    const direct: PdfValue[] = [pagesVal];
    const lists: number[] = [];
    const annots: Array<[number, PdfValue]> = [];
    for (const p of pages) {
      const list = p.dict.get('Annots');
      if (list instanceof PdfRef) lists.push(list.num); // the array object itself, not walked (its items are below)
      const arr = this.oldDoc.resolve(list);
      for (const a of Array.isArray(arr) ? arr : []) {
        if (a instanceof PdfRef) annots.push([fieldOf.get(a.num) ?? a.num, a]);
        else direct.push(a); // a direct annotation dictionary: drawn, owned by no field
      }
    }
    const drawn = reachable(this.oldDoc, direct, { skipKeys: NOT_DRAWN_KEYS, limit: 200_000 });
    for (const num of lists) drawn.add(num);
    this.drawing = { drawn, owners: reachableByOwner(this.oldDoc, annots, { skipKeys: NOT_DRAWN_KEYS, limit: 200_000 }) };
    return this.drawing;
  }

  /** True when the signed revision's pages draw `num`, other than through the widgets of field `field`. */
  private drawnBySignedPages(num: number, field: number | null = null): boolean {
    const { drawn, owners } = this.signedDrawing();
    if (drawn.has(num)) return true;
    const owner = owners.get(num);
    return owner !== undefined && (owner === SHARED_OWNER || owner !== field);
  }

  /**
   * Whether a side-structure rule (DSS, XMP metadata, /Info) may approve a change to `num`: only when
   * no page draws it, neither as signed nor after the update (say, through a new annotation).
   */
  private sideDataAllowed(num: number): boolean {
    if (this.drawnBySignedPages(num)) return false;
    if (!this.drawnAfter) {
      this.drawnAfter = reachable(this.newDoc, [this.newDoc.catalog.get('Pages') ?? null], { skipKeys: NOT_DRAWN_KEYS_BUT_ANNOTS, limit: 200_000 });
    }
    return !this.drawnAfter.has(num);
  }

  /**
   * The object numbers revision k redefines: those its xref lists, plus every object stored in an
   * object stream it (re)defines. Such an object keeps its older type-2 xref entry, yet its value now
   * comes from the new stream data (§7.5.7), so it changed as much as if the update had listed it.
   */
  private definedObjects(): Set<number> {
    const own = this.newDoc.revisions[this.k]?.objectNumbers ?? new Set<number>();
    const out = new Set(own);
    for (const num of this.newDoc.objectNumbers()) {
      const e = this.newDoc.entry(num);
      if (e?.type === 'compressed' && own.has(e.stream)) out.add(num);
    }
    return out;
  }

  /**
   * An xref or object stream is a container: its members are compared one by one instead. Only when
   * it was no other object before and nothing in the document refers to it (a page drawing a stream
   * that calls itself /ObjStm would otherwise escape the analysis).
   */
  private isContainer(num: number, value: PdfValue, existed: boolean): boolean {
    const type = (v: PdfValue) => (v instanceof PdfStream ? v.dict.getName('Type') : undefined);
    const t = type(value);
    if (t !== 'XRef' && t !== 'ObjStm') return false;
    if (existed && type(this.oldDoc.getObject(num)) !== t) return false;
    return !this.isReachable(num);
  }

  run(): ChangeReport[] {
    const defined = this.definedObjects();
    this.classifyDss();
    this.classifyFields();
    this.classifyPages();
    this.classifyCatalogAndForm();
    this.classifyInfo();

    const out: ChangeReport[] = [];
    let unchanged = 0;
    const deadline = this.ctx.deadline;
    let seen = 0;
    for (const num of [...defined].sort((a, b) => a - b)) {
      if (num === 0) continue; // the head of the free list, not an object
      if (deadline !== undefined && (++seen & 63) === 0 && Date.now() > deadline) throw new AnalysisTimeout();
      let newVal: PdfValue;
      try {
        newVal = this.newDoc.getObject(num);
      } catch (e) {
        if (!(e instanceof PdfError)) throw e;
        out.push({ object: `${num} 0 R`, kind: 'structure', allowed: false, reason: `cannot be read: ${e.message}` });
        continue;
      }
      const existed = this.existedBefore(num);
      if (this.isContainer(num, newVal, existed)) continue;
      if (existed && sameValue(this.oldDoc.getObject(num), newVal)) {
        unchanged++;
        continue;
      }
      const ref = `${num} ${this.newDoc.generationOf(num)} R`;
      const v = this.verdicts.get(num);
      if (v) {
        out.push({ object: ref, ...v });
        continue;
      }
      if (!this.isReachable(num)) {
        out.push({
          object: ref,
          kind: 'unreferenced',
          allowed: true,
          reason: newVal === null ? 'freed; no longer referenced' : 'not referenced from the document: no effect on what is shown',
        });
        continue;
      }
      out.push({
        object: ref,
        kind: 'other',
        allowed: false,
        reason: existed
          ? newVal === null
            ? 'object deleted while still referenced'
            : 'object redefined in a way that is not an allowed change'
          : 'new object referenced from the document outside any allowed structure',
      });
    }
    if (unchanged > 0) out.push({ object: `${unchanged} object(s)`, kind: 'unchanged-rewrite', allowed: true, reason: 'rewritten identically' });
    return [...this.extra, ...out];
  }

  private isReachable(num: number): boolean {
    if (!this.reach) {
      const t = this.newDoc.trailer;
      this.reach = reachable(this.newDoc, [t.get('Root') ?? null, t.get('Info') ?? null], { limit: 200_000 });
    }
    return this.reach.has(num);
  }

  /** EN 319 142-1 §5.4.2: the DSS and its arrays, certificates, OCSP responses, CRLs and VRI. */
  private classifyDss(): void {
    const items = dssItems(this.newDoc);
    if (items.size === 0) return;
    const before = dssItems(this.oldDoc);
    const v: Verdict = { kind: 'dss', allowed: true, reason: 'validation data in the document security store' };
    for (const num of items) {
      // An existing object may only change as DSS data if it already was DSS data, and nothing the
      // signed pages draw is DSS data, whatever list it was also put in.
      if ((!this.existedBefore(num) || before.has(num)) && this.sideDataAllowed(num)) this.set(num, v);
    }
  }

  private classifyFields(): void {
    const oldFields = new Map<number, FormField>();
    for (const f of formFields(this.oldDoc)) if (f.num !== null) oldFields.set(f.num, f);
    for (const f of formFields(this.newDoc)) {
      if (f.num === null) continue;
      const before = oldFields.get(f.num);
      if (f.ft === 'Sig') this.classifySignatureField(f, before);
      else this.classifyFormFill(f, before);
    }
  }

  private classifySignatureField(f: FormField, before: FormField | undefined): void {
    const v = f.dict.get('V');
    const hadValue = before !== undefined && this.oldDoc.resolve(before.dict.get('V')) !== null;
    const value = this.newDoc.resolveDict(v);
    if (!value) {
      if (!before) {
        // An empty signature field added: under DocMDP it is a form change. Without a signature behind
        // it, its widget is an annotation like any other: harmless only while it draws nothing.
        const shown = f.widgets.filter((w) => this.widgetDraws(w));
        this.claimField(
          f,
          before,
          this.ctx.docMdp !== null
            ? { kind: 'signature', allowed: false, reason: `empty signature field added to a certified document (DocMDP P=${this.ctx.docMdp})` }
            : shown.length > 0
              ? {
                  kind: 'annotation',
                  allowed: false,
                  reason: `empty signature field "${f.name}" added with a visible appearance (widget ${shown.join(', ')}): it can overlay signed content`,
                }
              : { kind: 'signature', allowed: true, reason: 'empty signature field added (draws nothing)' },
        );
      }
      return;
    }
    if (hadValue) return; // an already signed field: any change to it stays unclassified (not allowed)
    const docTs = value.getName('Type') === 'DocTimeStamp' || value.getName('SubFilter') === 'ETSI.RFC3161';
    const kind: ChangeKind = docTs ? 'document-timestamp' : 'signature';
    let allowed = true;
    let reason = docTs ? 'document timestamp added' : `signature added in field "${f.name}"`;
    const mdp = this.ctx.docMdp;
    if (mdp === 1 && !docTs) {
      allowed = false;
      reason = `signature added to a document certified with DocMDP P=1 (no changes permitted)`;
    } else if (before && isLocked(f.name, this.ctx.locks)) {
      allowed = false;
      reason = `signature field "${f.name}" is locked by a FieldMDP lock of an earlier signature`;
    }
    // Sneaky signature (SSA, Mainka et al. 2021): signing is permitted on a certified document, but a
    // field added after the certification draws whatever its signer likes over the certified pages.
    // Permitted (EU DSS and pdfsig accept it; a second signer often adds a visible field), but flagged:
    // a certified document signed visibly in the fields it was certified with is not.
    const shown = allowed && !before && mdp !== null ? f.widgets.filter((w) => this.widgetDraws(w)) : [];
    if (shown.length > 0) {
      const what = docTs ? 'document timestamp' : 'signature';
      this.claimField(f, before, {
        kind,
        allowed,
        reason: `${what} field "${f.name}" added after the certification (DocMDP P=${mdp}) draws on the page (widget ${shown.join(', ')}): what it shows there was not certified (sneaky signature)`,
        flag: 'overlay-after-certification',
      });
      return;
    }
    this.claimField(f, before, { kind, allowed, reason });
  }

  /** The field, its widgets (only the fill keys may change when they existed) and their new subtrees. */
  private claimField(f: FormField, before: FormField | undefined, v: Verdict): void {
    const own = [f.num as number, ...f.widgets];
    for (const num of own) {
      if (this.existedBefore(num)) {
        const o = this.oldDoc.resolveDict(new PdfRef(num, this.oldDoc.generationOf(num)));
        const n = this.newDoc.resolveDict(new PdfRef(num, this.newDoc.generationOf(num)));
        const keys = o && n ? changedKeys(o, n) : ['(type)'];
        const bad = keys.filter((key) => !FILL_KEYS.has(key) && !(key === 'F' && o && n && onlyLockBits(o, n)));
        if (bad.length > 0) {
          this.set(num, { kind: v.kind, allowed: false, reason: `field/widget entries ${bad.map((b) => `/${b}`).join(', ')} changed` });
          continue;
        }
      }
      this.set(num, v);
    }
    void before;
    const roots: PdfValue[] = [f.dict.get('V') ?? null, f.dict.get('Lock') ?? null, f.dict.get('AP') ?? null];
    for (const w of f.widgets) {
      const d = this.newDoc.resolveDict(new PdfRef(w, this.newDoc.generationOf(w)));
      if (d) roots.push(d.get('AP') ?? null, d.get('MK') ?? null);
    }
    const vv = f.dict.get('V');
    if (vv instanceof PdfRef && !this.drawnBySignedPages(vv.num, f.num)) this.set(vv.num, v);
    const kids = f.dict.get('Kids');
    if (kids instanceof PdfRef && !this.existedBefore(kids.num)) this.set(kids.num, v);
    // Appearance streams that already were this widget's own (§12.5.5) may be regenerated by filling,
    // unless the page or another field's widget also draws them.
    for (const w of f.widgets) {
      const before = this.apStreams(this.oldDoc, w);
      for (const num of this.apStreams(this.newDoc, w)) if (before.has(num) && !this.drawnBySignedPages(num, f.num)) this.set(num, v);
    }
    this.claimSubtree(roots, v);
  }

  /** Object numbers of a widget's appearance streams: /AP /N, /R, /D, directly or per state. */
  private apStreams(doc: PdfDocument, widget: number): Set<number> {
    const out = new Set<number>();
    const d = doc.resolveDict(new PdfRef(widget, doc.generationOf(widget)));
    const ap = d ? doc.resolveDict(d.get('AP')) : undefined;
    if (!ap) return out;
    for (const key of ['N', 'R', 'D']) {
      const e = ap.get(key);
      if (e instanceof PdfRef) {
        const val = doc.resolve(e);
        if (val instanceof PdfStream) out.add(e.num);
        else if (val instanceof PdfDict) for (const [, x] of val.entries()) if (x instanceof PdfRef) out.add(x.num);
      } else if (e instanceof PdfDict) for (const [, x] of e.entries()) if (x instanceof PdfRef) out.add(x.num);
    }
    return out;
  }

  /**
   * Whether a widget of the new revision can show anything (§12.5.5): not when Hidden, or NoView and
   * not printed (Table 165), when its /Rect has no area, or when every appearance has a zero-area
   * /BBox or no content. Without an appearance, a viewer may still build one from /MK colours (§12.5.6.19).
   */
  private widgetDraws(num: number): boolean {
    const d = this.newDoc.resolveDict(new PdfRef(num, this.newDoc.generationOf(num)));
    if (!d) return false;
    const flags = d.getNumber('F') ?? 0;
    if (flags & F_HIDDEN || (flags & F_NOVIEW && !(flags & F_PRINT) && !(flags & F_TOGGLE_NOVIEW))) return false;
    if (zeroArea(this.newDoc.resolve(d.get('Rect')))) return false;
    const streams = this.apStreams(this.newDoc, num);
    if (streams.size === 0) {
      const mk = this.newDoc.resolveDict(d.get('MK'));
      return ['BG', 'BC'].some((key) => {
        const c = this.newDoc.resolve(mk?.get(key));
        return Array.isArray(c) && c.length > 0;
      });
    }
    return [...streams].some((s) => this.appearanceDraws(s));
  }

  /**
   * A form XObject draws nothing when its /BBox has no area or its content has no operator that
   * paints (§8.2 Table 51: path painting, shading, text showing, inline images, XObjects). Blank
   * appearances as producers write them ("% DSBlank", "q Q", a call of another blank form) draw
   * nothing; a called form is looked into, two levels deep at most.
   */
  private appearanceDraws(num: number, depth = 0): boolean {
    const s = this.newDoc.resolve(new PdfRef(num, this.newDoc.generationOf(num)));
    if (!(s instanceof PdfStream)) return false;
    if (zeroArea(this.newDoc.resolve(s.dict.get('BBox')))) return false;
    const f = s.dict.get('Filter');
    const filter = Array.isArray(f) && f.length === 1 ? f[0] : f;
    // Only plain or Flate data (whose decoder is bounded) is looked into; anything else counts as drawing.
    if (filter !== undefined && !(filter instanceof PdfName && filter.name === 'FlateDecode')) return true;
    let data: Uint8Array;
    try {
      data = decodeStreamFully(s, 64 * 1024);
    } catch {
      return true;
    }
    const lx = new Lexer(new BufferSource(data), 0);
    let lastName: string | undefined;
    try {
      for (let t = lx.next(), n = 0; t.kind !== 'eof'; t = lx.next(), n++) {
        if (n > 20_000) return true;
        if (t.kind === 'name') lastName = t.value;
        if (t.kind !== 'kw') continue;
        if (t.value === 'Do') {
          // A named XObject: blank only if it is a blank form of this appearance's own resources (an
          // image always draws; its bytes are not content to read for operators).
          const xobjects = this.newDoc.resolveDict(this.newDoc.resolveDict(s.dict.get('Resources'))?.get('XObject'));
          const ref = lastName === undefined ? undefined : xobjects?.get(lastName);
          const called = ref instanceof PdfRef ? this.newDoc.resolve(ref) : undefined;
          const isForm = called instanceof PdfStream && called.dict.getName('Subtype') === 'Form';
          if (depth >= 2 || !(ref instanceof PdfRef) || !isForm || this.appearanceDraws(ref.num, depth + 1)) return true;
        } else if (PAINTING_OPERATORS.has(t.value)) return true;
      }
    } catch {
      return true; // content that cannot be read is not known to be blank
    }
    return false;
  }

  private classifyFormFill(f: FormField, before: FormField | undefined): void {
    if (!before) {
      this.claimField(f, before, { kind: 'form-fill', allowed: false, reason: `new form field "${f.name}" added (adding fields is not form filling)` });
      return;
    }
    const fieldChanged = !sameValue(before.dict.get('V'), f.dict.get('V'));
    const widgetChanged = f.widgets.some((w) => {
      const o = this.oldDoc.resolveDict(new PdfRef(w, this.oldDoc.generationOf(w)));
      const n = this.newDoc.resolveDict(new PdfRef(w, this.newDoc.generationOf(w)));
      return !o || !n || !sameValue(o.get('AP'), n.get('AP')) || !sameValue(o.get('AS'), n.get('AS'));
    });
    if (!fieldChanged && !widgetChanged) return;
    let allowed = true;
    let reason = `form field "${f.name}" filled`;
    if (!fieldChanged) {
      // Shadow "replace": the value signed stays, only what is shown changes. Not form filling.
      allowed = false;
      reason = `appearance of form field "${f.name}" replaced without a change of its value`;
    } else if (this.ctx.docMdp === 1) {
      allowed = false;
      reason = `form field "${f.name}" changed in a document certified with DocMDP P=1`;
    } else if (isLocked(f.name, this.ctx.locks)) {
      allowed = false;
      reason = `form field "${f.name}" is locked by a FieldMDP lock of an earlier signature`;
    }
    this.claimField(f, before, { kind: 'form-fill', allowed, reason });
  }

  /** Page dictionaries: only /Annots may grow; annotations added are classified by subtype. */
  private classifyPages(): void {
    let oldPages: readonly PageInfo[];
    let newPages: readonly PageInfo[];
    try {
      oldPages = this.oldDoc.pages;
    } catch {
      oldPages = [];
    }
    try {
      newPages = this.newDoc.pages;
    } catch (e) {
      this.extra.push({ object: 'page tree', kind: 'page-tree', allowed: false, reason: `the page tree cannot be read after the update: ${(e as Error).message}` });
      return;
    }
    const oldByNum = new Map<number, PageInfo>();
    for (const p of oldPages) if (p.ref) oldByNum.set(p.ref.num, p);
    const sameOrder =
      oldPages.length === newPages.length && oldPages.every((p, i) => p.ref?.num === newPages[i]?.ref?.num);
    if (!sameOrder) {
      this.extra.push({
        object: 'page tree',
        kind: 'page-tree',
        allowed: false,
        reason: `pages changed: ${oldPages.length} page(s) before, ${newPages.length} after`,
      });
    }
    // Intermediate /Pages nodes of the old tree: any redefinition changes the page tree.
    const pageNums = new Set(newPages.map((p) => p.ref?.num));
    const rootPages = this.oldDoc.catalog.get('Pages');
    if (rootPages instanceof PdfRef) {
      for (const num of reachable(this.oldDoc, [rootPages], { skipKeys: new Set(['Parent', 'Annots', 'Contents', 'Resources', 'B', 'Thumb', 'StructParents', 'AA', 'Metadata', 'PieceInfo', 'Group', 'VP']), limit: 200_000 })) {
        const d = this.oldDoc.resolveDict(new PdfRef(num, this.oldDoc.generationOf(num)));
        if (d && d.getName('Type') === 'Pages' && !pageNums.has(num)) this.set(num, this.pagesNodeVerdict(num));
      }
      this.set(rootPages.num, this.pagesNodeVerdict(rootPages.num));
    }
    for (const p of newPages) {
      if (!p.ref) continue;
      const before = oldByNum.get(p.ref.num);
      if (!before) continue; // a new page: reported with the page tree, its objects stay unclassified
      const keys = changedKeys(before.dict, p.dict);
      const oldAnnots = annotNumbers(this.oldDoc, before.dict);
      const newAnnots = annotNumbers(this.newDoc, p.dict);
      const removed = oldAnnots.filter((a) => !newAnnots.includes(a));
      const added = newAnnots.filter((a) => !oldAnnots.includes(a));
      for (const a of added) this.classifyAnnotation(a, p.index);
      const annotsProblem = removed.length > 0 ? `annotation(s) ${removed.join(', ')} removed from page ${p.index + 1}` : null;
      const annotsVal = p.dict.get('Annots');
      const annotsArrayVerdict: Verdict = annotsProblem
        ? { kind: 'page', allowed: false, reason: annotsProblem }
        : { kind: 'page', allowed: true, reason: `page ${p.index + 1}: annotation list extended` };
      if (annotsVal instanceof PdfRef) {
        const oldAnnotsVal = before.dict.get('Annots');
        if (!(oldAnnotsVal instanceof PdfRef) || oldAnnotsVal.num === annotsVal.num || !this.existedBefore(annotsVal.num)) {
          this.set(annotsVal.num, annotsArrayVerdict);
        }
      }
      const bad = keys.filter((key) => key !== 'Annots' && !PRIVATE_KEYS.has(key) && !equivalent(this.oldDoc, before.dict.get(key), this.newDoc, p.dict.get(key)));
      for (const key of keys) {
        if (key !== 'Annots' && !bad.includes(key)) {
          this.claimSubtree([p.dict.get(key) ?? null], { kind: 'page', allowed: true, reason: `page ${p.index + 1}: /${key} rewritten with equivalent content` });
        }
      }
      this.set(
        p.ref.num,
        bad.length > 0
          ? { kind: 'page', allowed: false, reason: `page ${p.index + 1}: ${bad.map((b) => `/${b}`).join(', ')} changed` }
          : annotsProblem
            ? { kind: 'page', allowed: false, reason: annotsProblem }
            : { kind: 'page', allowed: true, reason: `page ${p.index + 1}: annotation list extended` },
      );
    }
  }

  /** A /Pages node may only change in private, non-rendering keys (e.g. iText's /ITXT). */
  private pagesNodeVerdict(num: number): Verdict {
    const o = this.oldDoc.resolveDict(new PdfRef(num, this.oldDoc.generationOf(num)));
    const n = this.newDoc.resolveDict(new PdfRef(num, this.newDoc.generationOf(num)));
    const keys = o && n ? changedKeys(o, n) : ['(removed)'];
    const bad = keys.filter((k) => !PRIVATE_KEYS.has(k));
    return bad.length === 0
      ? { kind: 'page-tree', allowed: true, reason: `page tree node: only ${keys.map((k) => `/${k}`).join(', ')} changed (not rendered)` }
      : { kind: 'page-tree', allowed: false, reason: `page tree node: ${bad.map((k) => `/${k}`).join(', ')} changed` };
  }

  private classifyAnnotation(num: number, pageIndex: number): void {
    if (this.verdicts.has(num)) return; // a widget of a new signature field, already classified
    const d = this.newDoc.resolveDict(new PdfRef(num, this.newDoc.generationOf(num)));
    const subtype = d?.getName('Subtype') ?? 'unknown';
    const existed = this.existedBefore(num);
    let v: Verdict;
    if (subtype === 'Widget') {
      v = { kind: 'annotation', allowed: false, reason: `widget annotation added to page ${pageIndex + 1} outside a new signature field` };
    } else if (!COMMENT_SUBTYPES.has(subtype)) {
      v = { kind: 'annotation', allowed: false, reason: `${subtype} annotation added to page ${pageIndex + 1}: it can overlay signed content` };
    } else if (this.ctx.docMdp !== null && this.ctx.docMdp !== 3) {
      v = { kind: 'annotation', allowed: false, reason: `${subtype} annotation added under DocMDP P=${this.ctx.docMdp} (annotations need P=3)` };
    } else if (subtype === 'Text' && d?.has('AP') && !fitsBox(this.newDoc.resolve(d.get('Rect')), NOTE_ICON_MAX)) {
      v = { kind: 'annotation', allowed: false, reason: `Text annotation added to page ${pageIndex + 1} with an appearance larger than a note icon: it can overlay signed content` };
    } else {
      v = { kind: 'annotation', allowed: true, reason: `${subtype} comment annotation added to page ${pageIndex + 1}` };
    }
    if (existed) {
      // An object that existed (e.g. hidden, unreferenced, when signed) now shown: shadow attack shape.
      v = { kind: 'annotation', allowed: false, reason: `existing object ${num} placed on page ${pageIndex + 1} as a ${subtype} annotation` };
    }
    this.set(num, v);
    if (d) this.claimSubtree([d.get('AP') ?? null, d.get('Popup') ?? null], v);
  }

  private classifyCatalogAndForm(): void {
    const oldRoot = this.oldDoc.catalogRef;
    const newRoot = this.newDoc.catalogRef;
    if (!newRoot || !oldRoot || oldRoot.num !== newRoot.num) {
      this.extra.push({ object: 'trailer /Root', kind: 'catalog', allowed: false, reason: 'the document catalog was replaced by another object' });
      return;
    }
    const oldCat = this.oldDoc.catalog;
    const newCat = this.newDoc.catalog;
    const keys = changedKeys(oldCat, newCat);
    const problems: string[] = [];
    const allowedNotes: string[] = [];
    for (const key of keys) {
      const kind = CATALOG_ALLOWED[key];
      if (kind) {
        allowedNotes.push(`/${key}`);
        if (kind === 'metadata') this.claimSubtree([newCat.get(key) ?? null], { kind, allowed: true, reason: `catalog /${key} updated (not rendered)` });
      } else if (key === 'AcroForm') {
        const ov = oldCat.get('AcroForm');
        const nv = newCat.get('AcroForm');
        if (nv instanceof PdfRef && ov instanceof PdfRef && ov.num === nv.num) continue;
        if (ov === undefined && nv !== undefined) {
          // A form created by the update (first signature field): checked like an existing one, from empty.
          allowedNotes.push('/AcroForm (created)');
          this.classifyAcroForm(new PdfDict(), this.newDoc.resolveDict(nv), nv instanceof PdfRef ? nv.num : null, problems, allowedNotes);
        } else {
          this.classifyAcroForm(this.oldDoc.resolveDict(ov), this.newDoc.resolveDict(nv), nv instanceof PdfRef ? nv.num : null, problems, allowedNotes);
        }
      } else problems.push(`/${key} changed`);
    }
    const ov = oldCat.get('AcroForm');
    const nv = newCat.get('AcroForm');
    if (ov instanceof PdfRef && nv instanceof PdfRef && ov.num === nv.num) {
      const fp: string[] = [];
      const fa: string[] = [];
      this.classifyAcroForm(this.oldDoc.resolveDict(ov), this.newDoc.resolveDict(nv), nv.num, fp, fa);
    }
    // The XMP metadata stream (§14.3.2) is not rendered; writers refresh it on every save.
    const md = newCat.get('Metadata');
    if (md instanceof PdfRef) {
      const mv = this.newDoc.resolve(md);
      // Only when no page draws it: calling a content stream /Subtype /XML changes nothing for a viewer.
      if (mv instanceof PdfStream && mv.dict.getName('Subtype') === 'XML' && this.sideDataAllowed(md.num)) {
        this.set(md.num, { kind: 'metadata', allowed: true, reason: 'XMP metadata stream updated (not rendered)' });
      }
    }
    if (keys.length > 0) {
      this.set(
        newRoot.num,
        problems.length > 0
          ? { kind: 'catalog', allowed: false, reason: `catalog: ${problems.join(', ')}` }
          : { kind: 'catalog', allowed: true, reason: `catalog: ${allowedNotes.join(', ')} updated` },
      );
    }
  }

  /** §12.7.2: /Fields may only grow by new fields already classified; /SigFlags, /DR, /DA may change. */
  private classifyAcroForm(before: PdfDict | undefined, after: PdfDict | undefined, num: number | null, problems: string[], notes: string[]): void {
    if (!after) {
      problems.push('/AcroForm removed');
      return;
    }
    const old = before ?? new PdfDict();
    const local: string[] = [];
    for (const key of changedKeys(old, after)) {
      if (!ACROFORM_ALLOWED.has(key)) local.push(`/AcroForm /${key} changed`);
      if (key === 'DR') this.claimSubtree([after.get('DR') ?? null], { kind: 'acroform', allowed: true, reason: 'form default resources for new appearances' });
    }
    const oldFields = this.oldDoc.resolve(old.get('Fields'));
    const newFields = this.newDoc.resolve(after.get('Fields'));
    const oldNums = Array.isArray(oldFields) ? oldFields.filter((x): x is PdfRef => x instanceof PdfRef).map((x) => x.num) : [];
    const newNums = Array.isArray(newFields) ? newFields.filter((x): x is PdfRef => x instanceof PdfRef).map((x) => x.num) : [];
    const missing = oldNums.filter((n) => !newNums.includes(n));
    if (missing.length > 0) local.push(`form field(s) ${missing.join(', ')} removed from /Fields`);
    const fieldsVal = after.get('Fields');
    const fieldsVerdict: Verdict = missing.length > 0
      ? { kind: 'acroform', allowed: false, reason: `form field(s) ${missing.join(', ')} removed` }
      : { kind: 'acroform', allowed: true, reason: '/Fields extended' };
    if (fieldsVal instanceof PdfRef) this.set(fieldsVal.num, fieldsVerdict);
    problems.push(...local);
    if (num !== null) {
      this.set(
        num,
        local.length > 0
          ? { kind: 'acroform', allowed: false, reason: local.join(', ') }
          : { kind: 'acroform', allowed: true, reason: 'interactive form updated (/Fields, /SigFlags, /DR)' },
      );
    }
    notes.push('/AcroForm');
  }

  /** The document information dictionary (§14.3.3) is metadata, never rendered. */
  private classifyInfo(): void {
    const info = this.newDoc.trailer.get('Info');
    if (info === undefined) return;
    const v: Verdict = { kind: 'metadata', allowed: true, reason: 'document information dictionary updated' };
    if (info instanceof PdfRef) {
      // Only a dictionary that nothing rendered uses: /Info pointed at, say, a resource dictionary
      // must not make that object's change "metadata".
      const fromRoot = reachable(this.newDoc, [this.newDoc.trailer.get('Root') ?? null], { limit: 200_000 });
      if (fromRoot.has(info.num) || !this.sideDataAllowed(info.num) || !(this.newDoc.resolve(info) instanceof PdfDict)) return;
      this.set(info.num, v);
    }
    this.claimSubtree([info], v);
  }
}
