/**
 * Structure of a signature's ByteRange and /Contents (ISO 32000-1 §12.8.1; ISO 32000-2 §12.8.1):
 * four integers [0 a b c], the hole [a, b) is exactly the hexadecimal /Contents string of this very
 * signature dictionary (found by lexing the dictionary where the xref puts it, not by searching), and
 * the signed bytes end where a revision ends. This is what defeats USF and signature wrapping.
 */
import { BufferSource, Lexer, PdfError, PdfString, numberValue, parseValue, type PdfDocument, type PdfDict, type Revision } from '../../pdf/index.ts';
import type { CheckResult } from './report.ts';

export interface ByteRangeAnalysis {
  checks: CheckResult[];
  /** Null when the ByteRange is not four non-negative integers. */
  byteRange: [number, number, number, number] | null;
  /** The decoded /Contents (CMS bytes), null when absent or not a string. */
  contents: Uint8Array | null;
  signedRevision: number | null;
  coversWholeDocument: boolean;
  /** True when every structural check passed: the ranges can be hashed meaningfully. */
  ok: boolean;
}

const fail = (name: CheckResult['name'], detail: string): CheckResult => ({
  name,
  status: 'failed',
  detail,
  indication: 'TOTAL-FAILED',
  subIndication: 'FORMAT_FAILURE',
});

export function analyseByteRange(
  bytes: Uint8Array,
  doc: PdfDocument,
  sigNum: number | null,
  sig: PdfDict,
  revisions: readonly Revision[],
): ByteRangeAnalysis {
  const checks: CheckResult[] = [];
  const out: ByteRangeAnalysis = { checks, byteRange: null, contents: null, signedRevision: null, coversWholeDocument: false, ok: false };

  // /Contents: a string, not empty, not an unfilled (all-zero) placeholder.
  const cv = sig.get('Contents');
  if (!(cv instanceof PdfString)) {
    checks.push(fail('contents', cv === undefined ? '/Contents is missing' : '/Contents is not a string'));
  } else {
    let end = cv.bytes.length;
    while (end > 0 && cv.bytes[end - 1] === 0) end--;
    if (end === 0) checks.push(fail('contents', '/Contents is empty or an unfilled zero placeholder'));
    else {
      out.contents = cv.bytes;
      if (!cv.hex) checks.push(fail('contents', '/Contents is a literal string; §12.8.1 requires a hexadecimal string'));
    }
  }

  const brv = doc.resolve(sig.get('ByteRange'));
  const nums = Array.isArray(brv) ? brv.map((v) => numberValue(v)) : [];
  if (!Array.isArray(brv)) {
    checks.push(fail('byte-range', brv === null ? '/ByteRange is missing or null' : '/ByteRange is not an array'));
    return out;
  }
  if (nums.length !== 4 || nums.some((n) => n === undefined || !Number.isInteger(n) || n < 0)) {
    checks.push(fail('byte-range', `/ByteRange must be four non-negative integers, found [${brv.length} entries]`));
    return out;
  }
  const [a0, a1, b0, b1] = nums as [number, number, number, number];
  out.byteRange = [a0, a1, b0, b1];
  const end = b0 + b1;
  const problems: string[] = [];
  if (a0 !== 0) problems.push(`the first range starts at ${a0}, not 0`);
  if (a1 <= 0 || b0 <= a1) problems.push('the ranges overlap or are out of order');
  if (end > bytes.length) problems.push(`the second range ends at ${end}, past the end of the file (${bytes.length})`);
  if (problems.length === 0) {
    // The hole is exactly one hex string: '<' at a1, '>' at b0-1, hex digits (and white space) between.
    if (bytes[a1] !== 0x3c || bytes[b0 - 1] !== 0x3e) problems.push(`the hole [${a1}, ${b0}) is not delimited by < and >`);
    else {
      for (let i = a1 + 1; i < b0 - 1; i++) {
        const c = bytes[i] as number;
        const hex = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
        const ws = c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x0c;
        if (!hex && !ws) {
          problems.push(`the hole holds a non-hexadecimal byte at ${i}`);
          break;
        }
      }
    }
  }
  if (problems.length === 0 && sigNum !== null) {
    const located = locateContents(bytes, doc, sigNum);
    if (typeof located === 'string') problems.push(located);
    else if (located.start !== a1 || located.end !== b0) {
      problems.push(`the hole [${a1}, ${b0}) is not this dictionary's /Contents, which lies at [${located.start}, ${located.end})`);
    }
  } else if (problems.length === 0 && sigNum === null) {
    problems.push('the signature dictionary is a direct object; its /Contents cannot be located in the file');
  }
  if (problems.length > 0) {
    checks.push(fail('byte-range', problems.join('; ')));
    return out;
  }
  checks.push({ name: 'byte-range', status: 'passed', detail: `[${a0} ${a1} ${b0} ${b1}]` });

  // §12.8.1 / EN 319 142-1 §5.4: the signature covers a whole revision; identify which one.
  const rev = revisions.find((r) => r.endOffset === end || r.endOffsetWithEol === end);
  if (!rev) {
    checks.push(fail('signed-revision', `the signed bytes end at ${end}, which is not the end of any revision (%%EOF)`));
    return out;
  }
  out.signedRevision = rev.index;
  const last = revisions[revisions.length - 1] as Revision;
  out.coversWholeDocument = end === bytes.length || (rev.index === last.index && onlyWhitespace(bytes, end));
  checks.push({ name: 'signed-revision', status: 'passed', detail: `revision ${rev.index} (bytes 0..${end})` });
  out.ok = out.contents !== null && checks.every((c) => c.status !== 'failed');
  return out;
}

function onlyWhitespace(bytes: Uint8Array, from: number): boolean {
  for (let i = from; i < bytes.length; i++) {
    const c = bytes[i] as number;
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09 && c !== 0x0c && c !== 0x00) return false;
  }
  return true;
}

/**
 * Offsets of the /Contents value inside the signature dictionary object as stored in the file, by
 * lexing `N G obj << … >>`. Refuses duplicate /Contents or /ByteRange keys (a wrapping trick: two
 * readers may pick different ones) and dictionaries inside object streams (their bytes are
 * compressed, so no ByteRange can designate them).
 */
export function locateContents(bytes: Uint8Array, doc: PdfDocument, num: number): { start: number; end: number } | string {
  const e = doc.entry(num);
  if (!e || e.type === 'free') return `signature dictionary ${num} is not in the cross-reference table`;
  if (e.type === 'compressed') return `signature dictionary ${num} is inside an object stream`;
  try {
    const lx = new Lexer(new BufferSource(bytes), e.offset);
    const n = lx.next();
    const g = lx.next();
    const o = lx.next();
    if (n.kind !== 'int' || n.value !== num || g.kind !== 'int' || o.kind !== 'kw' || o.value !== 'obj') {
      return `no "${num} G obj" header at offset ${e.offset}`;
    }
    if (lx.next().kind !== '<<') return `object ${num} is not a dictionary`;
    let contents: { start: number; end: number } | null = null;
    let seenContents = 0;
    let seenRange = 0;
    for (let i = 0; i < 10_000; i++) {
      const k = lx.next();
      if (k.kind === '>>') break;
      if (k.kind !== 'name') return `object ${num}: dictionary key is not a name`;
      lx.skipWhite();
      const start = lx.pos;
      parseValue(lx);
      if (k.value === 'Contents') {
        seenContents++;
        contents = { start, end: lx.pos };
      } else if (k.value === 'ByteRange') seenRange++;
    }
    if (seenContents > 1 || seenRange > 1) return `signature dictionary ${num} has duplicate /Contents or /ByteRange keys`;
    if (!contents) return `signature dictionary ${num} has no /Contents in the file`;
    return contents;
  } catch (err) {
    if (err instanceof PdfError) return `signature dictionary ${num} cannot be lexed: ${err.message}`;
    throw err;
  }
}
