import { PdfError } from './PdfError.ts';
import { PdfDict, PdfRef, dictOf, type PdfValue } from './objects.ts';

/** What the page walk needs from a document (kept narrow so it is testable on its own). */
export interface ObjectResolver {
  readonly catalog: PdfDict;
  resolve(value: PdfValue | undefined): PdfValue;
}

/** A page with the attributes it inherits from its ancestors (§7.7.3.4). */
export interface PageInfo {
  index: number;
  /** Null only for a (non-conforming) direct page dictionary in /Kids. */
  ref: PdfRef | null;
  dict: PdfDict;
  resources: PdfDict | undefined;
  mediaBox: PdfValue | undefined;
  cropBox: PdfValue | undefined;
  rotate: number;
}

const INHERITABLE = ['Resources', 'MediaBox', 'CropBox', 'Rotate'] as const;
const MAX_DEPTH = 256;
const MAX_PAGES = 1_000_000;

/** A leaf with its inherited attributes resolved (§7.7.3.4); Rotate normalised to 0–359. */
function pageInfo(doc: ObjectResolver, index: number, ref: PdfRef | null, dict: PdfDict, inherited: ReadonlyMap<string, PdfValue>): PageInfo {
  const res = doc.resolve(inherited.get('Resources'));
  const rot = doc.resolve(inherited.get('Rotate'));
  return {
    index,
    ref,
    dict,
    resources: res instanceof PdfDict ? res : undefined,
    mediaBox: inherited.has('MediaBox') ? doc.resolve(inherited.get('MediaBox')) : undefined,
    cropBox: inherited.has('CropBox') ? doc.resolve(inherited.get('CropBox')) : undefined,
    rotate: typeof rot === 'number' ? ((rot % 360) + 360) % 360 : 0,
  };
}

/**
 * Walks the page tree from /Root /Pages in order. A node reached twice (a loop or a shared subtree)
 * makes the tree ambiguous, so it is rejected rather than guessed at.
 */
export function walkPages(doc: ObjectResolver): PageInfo[] {
  const pages: PageInfo[] = [];
  const seen = new Set<number>();
  const rootVal = doc.catalog.get('Pages');
  type Frame = { node: PdfValue; inherited: Map<string, PdfValue>; depth: number };
  const stack: Frame[] = [{ node: rootVal ?? null, inherited: new Map(), depth: 0 }];
  while (stack.length > 0) {
    const { node, inherited, depth } = stack.pop() as Frame;
    if (depth > MAX_DEPTH) throw new PdfError('pdf-limit-exceeded', `page tree deeper than ${MAX_DEPTH}`);
    let ref: PdfRef | null = null;
    if (node instanceof PdfRef) {
      if (seen.has(node.num)) throw new PdfError('pdf-malformed', `page tree reaches object ${node.num} twice (loop or shared node)`);
      seen.add(node.num);
      ref = node;
    }
    // dictOf: some writers store a page as a stream object; its dictionary is what matters here.
    const dict = dictOf(doc.resolve(node));
    if (!dict) {
      if (depth === 0) throw new PdfError('pdf-malformed', 'the catalog has no /Pages dictionary');
      continue; // §7.3.10: a reference to a missing object is null; such a kid contributes no page
    }
    const here = new Map(inherited);
    for (const k of INHERITABLE) {
      const v = dict.get(k);
      if (v !== undefined) here.set(k, v);
    }
    const kids = doc.resolve(dict.get('Kids'));
    const type = dict.getName('Type');
    if (type === 'Pages' || (type !== 'Page' && Array.isArray(kids))) {
      if (!Array.isArray(kids)) continue;
      for (let i = kids.length - 1; i >= 0; i--) stack.push({ node: kids[i] as PdfValue, inherited: here, depth: depth + 1 });
      continue;
    }
    if (pages.length >= MAX_PAGES) throw new PdfError('pdf-limit-exceeded', `more than ${MAX_PAGES} pages`);
    pages.push(pageInfo(doc, pages.length, ref, dict, here));
  }
  return pages;
}

/**
 * Page `index` found by descending the tree with each node's /Count (§7.7.3.2), reading only the
 * nodes on the way: O(depth × fan-out) instead of parsing every page. Returns undefined when the
 * tree's counts are missing or inconsistent on that path, so the caller can fall back to walkPages.
 */
export function findPage(doc: ObjectResolver, index: number): PageInfo | undefined {
  if (!Number.isInteger(index) || index < 0) return undefined;
  let node: PdfValue = doc.catalog.get('Pages') ?? null;
  let remaining = index;
  const inherited = new Map<string, PdfValue>();
  const seen = new Set<number>();
  for (let depth = 0; depth <= MAX_DEPTH; depth++) {
    let ref: PdfRef | null = null;
    if (node instanceof PdfRef) {
      if (seen.has(node.num)) return undefined;
      seen.add(node.num);
      ref = node;
    }
    const dict = dictOf(doc.resolve(node));
    if (!dict) return undefined;
    for (const k of INHERITABLE) {
      const v = dict.get(k);
      if (v !== undefined) inherited.set(k, v);
    }
    const kids = doc.resolve(dict.get('Kids'));
    const type = dict.getName('Type');
    if (type === 'Page' || (type !== 'Pages' && !Array.isArray(kids))) {
      return remaining === 0 ? pageInfo(doc, index, ref, dict, inherited) : undefined;
    }
    if (!Array.isArray(kids)) return undefined;
    let next: PdfValue | undefined;
    for (const kid of kids) {
      const kd = dictOf(doc.resolve(kid as PdfValue));
      if (!kd) return undefined;
      const isLeaf = kd.getName('Type') === 'Page' || (kd.getName('Type') !== 'Pages' && !Array.isArray(doc.resolve(kd.get('Kids'))));
      const count = isLeaf ? 1 : doc.resolve(kd.get('Count'));
      if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) return undefined;
      if (remaining < count) {
        next = kid as PdfValue;
        break;
      }
      remaining -= count;
    }
    if (next === undefined) return undefined;
    node = next;
  }
  return undefined;
}
