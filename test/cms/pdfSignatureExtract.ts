/**
 * Test-only extraction of signatures from a PDF: finds every /ByteRange array with a regex and takes
 * the hex string in the hole it describes. Deliberately naive (the real reader lives in src/pdf); it
 * only needs to work on the corpus files used here.
 */
import { readFileSync } from 'node:fs';

export interface ExtractedSignature {
  readonly byteRange: readonly [number, number, number, number];
  /** The two signed segments, in order. */
  readonly signedBytes: readonly [Uint8Array, Uint8Array];
  /** Decoded /Contents (zero padding included). */
  readonly contents: Uint8Array;
}

export function extractSignatures(file: string): ExtractedSignature[] {
  const pdf = new Uint8Array(readFileSync(file));
  const text = Buffer.from(pdf).toString('latin1');
  const seen = new Set<string>();
  const out: ExtractedSignature[] = [];
  for (const match of text.matchAll(/\/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]/g)) {
    const [a, b, c, d] = [match[1], match[2], match[3], match[4]].map(Number) as [number, number, number, number];
    const key = `${a} ${b} ${c} ${d}`;
    if (seen.has(key) || a !== 0 || c + d > pdf.length) continue;
    seen.add(key);
    const hole = text.slice(a + b, c);
    const hex = /^<([0-9A-Fa-f\s]*)>$/.exec(hole.trim());
    if (hex === null) continue;
    out.push({
      byteRange: [a, b, c, d],
      signedBytes: [pdf.subarray(a, a + b), pdf.subarray(c, c + d)],
      contents: new Uint8Array(Buffer.from(hex[1]!.replace(/\s+/g, ''), 'hex')),
    });
  }
  return out;
}
