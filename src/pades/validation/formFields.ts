/**
 * Every terminal form field (ISO 32000-1 §12.7.3) with its widgets, for the change analysis (the PDF
 * layer's signatureFields() only returns /FT /Sig). Loops and shared nodes are tolerated: a node is
 * visited once, and the walk is bounded.
 */
import { PdfDict, PdfRef, PdfString, type PdfDocument, type PdfValue } from '../../pdf/index.ts';

export interface FormField {
  num: number | null;
  name: string;
  ft: string | undefined;
  dict: PdfDict;
  /** Object numbers of the widget annotations (the field itself when merged). */
  widgets: number[];
}

export function formFields(doc: PdfDocument, limit = 50_000): FormField[] {
  const form = doc.acroForm;
  if (!form) return [];
  const top = doc.resolve(form.get('Fields'));
  if (!Array.isArray(top)) return [];
  const out: FormField[] = [];
  const seen = new Set<number>();
  type Frame = { node: PdfValue; parent: string; ft: string | undefined; depth: number };
  const stack: Frame[] = top.map((node) => ({ node, parent: '', ft: undefined, depth: 0 })).reverse();
  let count = 0;
  while (stack.length > 0 && count++ < limit) {
    const { node, parent, ft: inherited, depth } = stack.pop() as Frame;
    if (depth > 64) continue;
    const num = node instanceof PdfRef ? node.num : null;
    if (num !== null) {
      if (seen.has(num)) continue;
      seen.add(num);
    }
    const dict = doc.resolveDict(node);
    if (!dict) continue;
    const t = dict.get('T');
    const partial = t instanceof PdfString ? t.toText() : '';
    const name = partial === '' ? parent : parent === '' ? partial : `${parent}.${partial}`;
    const ft = dict.getName('FT') ?? inherited;
    const kidsVal = doc.resolve(dict.get('Kids'));
    const kids = Array.isArray(kidsVal) ? kidsVal : [];
    const widgets: number[] = [];
    let childFields = 0;
    for (const k of kids) {
      const kd = doc.resolveDict(k);
      if (!kd) continue;
      if (kd.has('T') || (kd.has('Kids') && kd.getName('Subtype') !== 'Widget')) {
        childFields++;
        stack.push({ node: k, parent: name, ft, depth: depth + 1 });
      } else if (k instanceof PdfRef && !seen.has(k.num)) {
        seen.add(k.num);
        widgets.push(k.num);
      }
    }
    if (kids.length === 0 && num !== null && (dict.getName('Subtype') === 'Widget' || dict.has('Rect'))) widgets.push(num);
    if (childFields === 0) out.push({ num, name, ft, dict, widgets });
  }
  return out;
}

/** The /Annots of a page as object numbers (direct annotation dictionaries are ignored). */
export function annotNumbers(doc: PdfDocument, page: PdfDict): number[] {
  const a = doc.resolve(page.get('Annots'));
  if (!Array.isArray(a)) return [];
  return a.filter((x): x is PdfRef => x instanceof PdfRef).map((x) => x.num);
}
