import { PdfError } from './PdfError.ts';
import { PdfDict, PdfRef, PdfString, type PdfValue } from './objects.ts';
import type { PageInfo } from './pageTree.ts';

export interface FieldResolver {
  readonly catalog: PdfDict;
  readonly pages: readonly PageInfo[];
  resolve(value: PdfValue | undefined): PdfValue;
}

export interface SignatureWidget {
  ref: PdfRef | null;
  dict: PdfDict;
  /** Page index found through the pages' /Annots (authoritative) or the widget's /P; null if none. */
  pageIndex: number | null;
  /** The widget's /P entry, when it is a reference. */
  pageRef: PdfRef | null;
}

/** A signature field (§12.7.4.5) with its value and widgets. */
export interface SignatureField {
  ref: PdfRef | null;
  /** Fully qualified name: ancestors' /T joined with '.' (§12.7.3.2). */
  name: string;
  dict: PdfDict;
  /** /V as an indirect reference (the usual, required-by-PAdES form) or null. */
  valueRef: PdfRef | null;
  /** /V resolved, when it is a dictionary (signed field). */
  value: PdfDict | null;
  widgets: SignatureWidget[];
  /** /Lock field-lock dictionary (§12.7.4.5, Table 233), resolved. */
  lock: PdfDict | null;
  lockRef: PdfRef | null;
}

const MAX_DEPTH = 64;
const MAX_NODES = 200_000;

/** One node of the field tree (§12.7.3.1): a field, with its child fields and its widget annotations. */
interface FieldNode {
  ref: PdfRef | null;
  dict: PdfDict;
  /** Fully qualified name (§12.7.3.2). */
  name: string;
  /** /FT, inherited from the ancestors when absent. */
  ft: string | undefined;
  childFields: readonly PdfValue[];
  widgetNodes: ReadonlyArray<{ ref: PdfRef | null; dict: PdfDict }>;
}

/** Walks /AcroForm /Fields and /Kids, calling `visit` for every field; a node reached twice is a loop and is rejected. */
function walkFields(doc: FieldResolver, visit: (node: FieldNode) => void): void {
  const form = doc.resolve(doc.catalog.get('AcroForm'));
  if (!(form instanceof PdfDict)) return;
  const fields = doc.resolve(form.get('Fields'));
  if (!Array.isArray(fields)) return;
  const seen = new Set<number>();
  type Frame = { node: PdfValue; parentName: string; ft: string | undefined; depth: number };
  const stack: Frame[] = [];
  for (let i = fields.length - 1; i >= 0; i--) stack.push({ node: fields[i] as PdfValue, parentName: '', ft: undefined, depth: 0 });
  let visited = 0;
  while (stack.length > 0) {
    const { node, parentName, ft: inheritedFt, depth } = stack.pop() as Frame;
    if (depth > MAX_DEPTH) throw new PdfError('pdf-limit-exceeded', `form field tree deeper than ${MAX_DEPTH}`);
    if (++visited > MAX_NODES) throw new PdfError('pdf-limit-exceeded', `more than ${MAX_NODES} form fields`);
    const ref = node instanceof PdfRef ? node : null;
    if (ref) {
      if (seen.has(ref.num)) throw new PdfError('pdf-malformed', `form field tree reaches object ${ref.num} twice`);
      seen.add(ref.num);
    }
    const dict = doc.resolve(node);
    if (!(dict instanceof PdfDict)) continue;
    const t = dict.get('T');
    const partial = t instanceof PdfString ? t.toText() : '';
    const name = partial === '' ? parentName : parentName === '' ? partial : `${parentName}.${partial}`;
    const ft = dict.getName('FT') ?? inheritedFt;
    const kidsVal = doc.resolve(dict.get('Kids'));
    const kids = Array.isArray(kidsVal) ? kidsVal : [];
    // Kids without /T are this field's widget annotations; kids with /T are child fields (§12.7.3.1).
    const childFields: PdfValue[] = [];
    const widgetNodes: Array<{ ref: PdfRef | null; dict: PdfDict }> = [];
    for (const k of kids) {
      const kd = doc.resolve(k);
      if (!(kd instanceof PdfDict)) continue;
      if (kd.has('T') || (kd.has('Kids') && kd.getName('Subtype') !== 'Widget')) childFields.push(k);
      else {
        if (k instanceof PdfRef) {
          if (seen.has(k.num)) throw new PdfError('pdf-malformed', `form field tree reaches object ${k.num} twice`);
          seen.add(k.num);
        }
        widgetNodes.push({ ref: k instanceof PdfRef ? k : null, dict: kd });
      }
    }
    if (kids.length === 0 && (dict.getName('Subtype') === 'Widget' || dict.has('Rect'))) widgetNodes.push({ ref, dict });
    for (let i = childFields.length - 1; i >= 0; i--) {
      stack.push({ node: childFields[i] as PdfValue, parentName: name, ft, depth: depth + 1 });
    }
    visit({ ref, dict, name, ft, childFields, widgetNodes });
  }
}

/**
 * The fully qualified names of every field of the form, terminal or not and of any type: a new field
 * must take none of them (§12.7.3.2: fields sharing a name are one field).
 */
export function collectFieldNames(doc: FieldResolver): Set<string> {
  const names = new Set<string>();
  walkFields(doc, (f) => {
    if (f.name !== '') names.add(f.name);
  });
  return names;
}

/** The terminal signature fields (FT /Sig, §12.7.4.5) of the form, with their values and widgets. */
export function collectSignatureFields(doc: FieldResolver): SignatureField[] {
  const out: SignatureField[] = [];
  let annotPages: Map<number, number> | null = null;
  const pageOfAnnot = (num: number): number | undefined => {
    if (!annotPages) {
      annotPages = new Map();
      let pages: readonly PageInfo[] = [];
      try {
        pages = doc.pages;
      } catch (e) {
        // A broken page tree must not hide the fields; widgets then get no page index.
        if (!(e instanceof PdfError)) throw e;
      }
      for (const p of pages) {
        const annots = doc.resolve(p.dict.get('Annots'));
        if (!Array.isArray(annots)) continue;
        for (const a of annots) if (a instanceof PdfRef && !annotPages.has(a.num)) annotPages.set(a.num, p.index);
      }
    }
    return annotPages.get(num);
  };
  const pageIndexOfRef = (r: PdfRef): number | null => {
    try {
      const p = doc.pages.find((x) => x.ref?.num === r.num);
      return p ? p.index : null;
    } catch (e) {
      if (e instanceof PdfError) return null;
      throw e;
    }
  };

  walkFields(doc, ({ ref, dict, name, ft, childFields, widgetNodes }) => {
    if (ft !== 'Sig' || childFields.length > 0) return;
    const v = dict.get('V');
    const value = doc.resolve(v);
    const lockVal = dict.get('Lock');
    const lock = doc.resolve(lockVal);
    out.push({
      ref,
      name,
      dict,
      valueRef: v instanceof PdfRef ? v : null,
      value: value instanceof PdfDict ? value : null,
      widgets: widgetNodes.map((w) => {
        let pageIndex: number | null = w.ref ? (pageOfAnnot(w.ref.num) ?? null) : null;
        const p = w.dict.get('P');
        if (pageIndex === null && p instanceof PdfRef) pageIndex = pageIndexOfRef(p);
        const pageRef = p instanceof PdfRef ? p : null;
        return { ref: w.ref, dict: w.dict, pageIndex, pageRef };
      }),
      lock: lock instanceof PdfDict ? lock : null,
      lockRef: lockVal instanceof PdfRef ? lockVal : null,
    });
  });
  return out;
}
