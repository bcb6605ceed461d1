/**
 * Moves objects built in a scratch pdf-lib context into the incremental writer's numbering: every
 * object reachable from the roots gets a fresh number from `allocate`, and is serialized with its
 * references rewritten. Nothing unreachable is emitted, so scratch leftovers never leak into the file.
 */
import {
  PDFArray,
  PDFBool,
  PDFContext,
  PDFDict,
  PDFHexString,
  PDFName,
  PDFNull,
  PDFNumber,
  PDFObject,
  PDFRef,
  PDFStream,
  PDFString,
} from 'pdf-lib';

export interface EmittedObject {
  num: number;
  /** Exactly the bytes between `N 0 obj` and `endobj`. */
  body: Uint8Array;
}

/**
 * Allocates numbers breadth-first from `roots` (so the first root gets the first number) and returns
 * the numbers of the roots plus the serialized objects.
 */
export function emitReachable(
  context: PDFContext,
  roots: readonly PDFRef[],
  allocate: () => number,
): { rootNumbers: number[]; objects: EmittedObject[] } {
  const numbers = new Map<PDFRef, number>();
  const order: PDFRef[] = [];
  const queue: PDFRef[] = [];
  const visit = (ref: PDFRef): void => {
    if (numbers.has(ref)) return;
    numbers.set(ref, allocate());
    order.push(ref);
    queue.push(ref);
  };
  roots.forEach(visit);
  while (queue.length > 0) {
    const ref = queue.shift() as PDFRef;
    forEachRef(resolve(context, ref), visit);
  }

  const rename = (ref: PDFRef): number => {
    const n = numbers.get(ref);
    if (n === undefined) throw new Error(`internal: unnumbered reference ${ref.toString()}`);
    return n;
  };
  const objects = order.map((ref) => ({ num: rename(ref), body: serializeIndirect(resolve(context, ref), rename) }));
  return { rootNumbers: roots.map(rename), objects };
}

function resolve(context: PDFContext, ref: PDFRef): PDFObject {
  const obj = context.lookup(ref);
  if (obj === undefined) throw new Error(`internal: dangling reference ${ref.toString()}`);
  return obj;
}

function forEachRef(obj: PDFObject, visit: (ref: PDFRef) => void): void {
  if (obj instanceof PDFRef) visit(obj);
  else if (obj instanceof PDFArray) for (const item of obj.asArray()) forEachRef(item, visit);
  else if (obj instanceof PDFDict) for (const [, value] of obj.entries()) forEachRef(value, visit);
  else if (obj instanceof PDFStream) forEachRef(obj.dict, visit);
}

function serializeIndirect(obj: PDFObject, rename: (ref: PDFRef) => number): Uint8Array {
  if (obj instanceof PDFStream) {
    const contents = obj.getContents();
    // §7.3.8.1: /Length counts the bytes between the EOL after `stream` and the EOL before
    // `endstream`; it is written last so it always matches what we emit.
    const dict = `<<${obj.dict
      .entries()
      .filter(([key]) => key !== PDFName.of('Length'))
      .map(([key, value]) => `${key.toString()} ${serializeDirect(value, rename)}`)
      .join(' ')} /Length ${contents.length}>>`;
    return Buffer.concat([
      Buffer.from(`${dict}\nstream\n`, 'latin1'),
      contents,
      Buffer.from('\nendstream', 'latin1'),
    ]);
  }
  return Buffer.from(serializeDirect(obj, rename), 'latin1');
}

function serializeDirect(obj: PDFObject, rename: (ref: PDFRef) => number): string {
  if (obj instanceof PDFRef) return `${rename(obj)} 0 R`;
  if (obj instanceof PDFArray) return `[${obj.asArray().map((o) => serializeDirect(o, rename)).join(' ')}]`;
  if (obj instanceof PDFDict) {
    return `<<${obj
      .entries()
      .map(([key, value]) => `${key.toString()} ${serializeDirect(value, rename)}`)
      .join(' ')}>>`;
  }
  if (
    obj instanceof PDFName ||
    obj instanceof PDFNumber ||
    obj instanceof PDFString ||
    obj instanceof PDFHexString ||
    obj instanceof PDFBool ||
    obj === PDFNull
  ) {
    return obj.toString();
  }
  // Streams cannot be direct objects (§7.3.8.1); anything else is not produced by our builders.
  throw new Error(`internal: cannot serialize ${obj.constructor.name} as a direct object`);
}
