/**
 * Object-graph helpers for the change analysis: structural equality of two PDF values, and the set
 * of object numbers reachable from given roots (bounded, so hostile files end quickly).
 */
import { PdfDict, PdfName, PdfReal, PdfRef, PdfStream, PdfString, type PdfDocument, type PdfValue } from '../../pdf/index.ts';

export class GraphLimitError extends Error {}

/** Deep equality of two direct values; references compare by number and generation; streams by dict and raw bytes. */
export function sameValue(a: PdfValue | undefined, b: PdfValue | undefined, depth = 0): boolean {
  if (depth > 100) return false;
  if (a === b) return true;
  if (a === undefined || b === undefined || a === null || b === null) return false;
  const na = typeof a === 'number' ? a : a instanceof PdfReal ? a.value : undefined;
  const nb = typeof b === 'number' ? b : b instanceof PdfReal ? b.value : undefined;
  if (na !== undefined || nb !== undefined) return na === nb;
  if (typeof a === 'boolean' || typeof b === 'boolean') return a === b;
  if (a instanceof PdfName) return b instanceof PdfName && a.name === b.name;
  if (a instanceof PdfString) return b instanceof PdfString && bytesEqual(a.bytes, b.bytes);
  if (a instanceof PdfRef) return b instanceof PdfRef && a.num === b.num && a.gen === b.gen;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => sameValue(x, b[i], depth + 1));
  if (a instanceof PdfDict) return b instanceof PdfDict && sameDict(a, b, depth);
  if (a instanceof PdfStream) {
    return b instanceof PdfStream && sameDict(a.dict, b.dict, depth, true) && a.rawLength === b.rawLength && bytesEqual(a.raw, b.raw);
  }
  return false;
}

function sameDict(a: PdfDict, b: PdfDict, depth: number, ignoreLength = false): boolean {
  const keys = (d: PdfDict) => [...d.keys()].filter((k) => !(ignoreLength && k === 'Length'));
  const ka = keys(a);
  if (ka.length !== keys(b).length) return false;
  return ka.every((k) => b.has(k) && sameValue(a.get(k), b.get(k), depth + 1));
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Keys whose values differ between two dictionaries (present in either). */
export function changedKeys(a: PdfDict, b: PdfDict): string[] {
  const keys = new Set([...a.keys(), ...b.keys()]);
  return [...keys].filter((k) => !sameValue(a.get(k), b.get(k)));
}

/** Direct references found in a value (not following them). */
export function refsIn(v: PdfValue | undefined, out: PdfRef[] = [], depth = 0): PdfRef[] {
  if (depth > 100 || v === undefined || v === null) return out;
  if (v instanceof PdfRef) out.push(v);
  else if (Array.isArray(v)) for (const x of v) refsIn(x, out, depth + 1);
  else if (v instanceof PdfDict) for (const [, x] of v.entries()) refsIn(x, out, depth + 1);
  else if (v instanceof PdfStream) refsIn(v.dict, out, depth + 1);
  return out;
}

/**
 * Object numbers reachable from `roots` by following references, optionally not entering some
 * dictionary keys (e.g. /Parent, /P, which point back up the tree). Throws GraphLimitError past
 * `limit` objects.
 */
export function reachable(
  doc: PdfDocument,
  roots: readonly PdfValue[],
  opts: { skipKeys?: ReadonlySet<string>; limit?: number } = {},
): Set<number> {
  const limit = opts.limit ?? 200_000;
  const seen = new Set<number>();
  const stack: PdfValue[] = [...roots];
  while (stack.length > 0) {
    const v = stack.pop() as PdfValue;
    for (const r of refsSkipping(v, opts.skipKeys)) {
      if (seen.has(r.num)) continue;
      seen.add(r.num);
      if (seen.size > limit) throw new GraphLimitError(`more than ${limit} reachable objects`);
      let obj: PdfValue;
      try {
        obj = doc.getObject(r.num);
      } catch {
        continue; // unreadable objects are reported where they change, not here
      }
      stack.push(obj);
    }
  }
  return seen;
}

function refsSkipping(v: PdfValue, skip: ReadonlySet<string> | undefined): PdfRef[] {
  if (!skip) return refsIn(v);
  const out: PdfRef[] = [];
  const visit = (x: PdfValue | undefined, depth: number): void => {
    if (depth > 100 || x === undefined || x === null) return;
    if (x instanceof PdfRef) out.push(x);
    else if (Array.isArray(x)) for (const y of x) visit(y, depth + 1);
    else if (x instanceof PdfDict || x instanceof PdfStream) {
      const d = x instanceof PdfStream ? x.dict : x;
      for (const [k, y] of d.entries()) if (!skip.has(k)) visit(y, depth + 1);
    }
  };
  visit(v, 0);
  return out;
}

/** Owner label of an object that more than one owner reaches. */
export const SHARED_OWNER = -1;

/**
 * For every object reachable from the owners' roots, the owner that reaches it, or SHARED_OWNER when
 * several do. An object is entered at most twice (first owner, then shared), so the walk is bounded
 * like `reachable`. Throws GraphLimitError past `limit` objects.
 */
export function reachableByOwner(
  doc: PdfDocument,
  roots: ReadonlyArray<readonly [owner: number, root: PdfValue]>,
  opts: { skipKeys?: ReadonlySet<string>; limit?: number } = {},
): Map<number, number> {
  const limit = opts.limit ?? 200_000;
  const owners = new Map<number, number>();
  const stack: Array<[PdfValue, number]> = roots.map(([owner, root]) => [root, owner]);
  let entered = 0;
  while (stack.length > 0) {
    const [v, label] = stack.pop() as [PdfValue, number];
    for (const r of refsSkipping(v, opts.skipKeys)) {
      const cur = owners.get(r.num);
      if (cur === label || cur === SHARED_OWNER) continue;
      const next = cur === undefined ? label : SHARED_OWNER;
      owners.set(r.num, next);
      if (owners.size > limit || ++entered > 2 * limit) throw new GraphLimitError(`more than ${limit} reachable objects`);
      let obj: PdfValue;
      try {
        obj = doc.getObject(r.num);
      } catch {
        continue; // unreadable objects are reported where they change, not here
      }
      stack.push([obj, next]);
    }
  }
  return owners;
}
