/**
 * In-memory stages append to one growing buffer (extendInPlace, src/pdf/growable.ts): the newest revision
 * is extended in place, and a second stage started from the same input copies instead of writing over
 * the first one's bytes.
 */
import { describe, expect, it } from 'vitest';
import { appendUpdate } from '../../src/pades/SigningSession.ts';

const bytes = (text: string) => new Uint8Array(Buffer.from(text, 'latin1'));
const text = (b: Uint8Array | undefined) => Buffer.from(b!).toString('latin1');

describe('in-memory stages', () => {
  it('extend the newest revision in place and copy when a revision is extended twice', async () => {
    const base = await appendUpdate({ bytes: bytes('%PDF-1.7 original') }, { memory: true }, bytes(' +A'));
    const first = await appendUpdate({ bytes: base.bytes! }, { memory: true }, bytes(' +B'));
    expect(first.bytes!.buffer).toBe(base.bytes!.buffer); // in place: no copy of the document
    const branch = await appendUpdate({ bytes: base.bytes! }, { memory: true }, bytes(' +C'));
    expect(branch.bytes!.buffer).not.toBe(base.bytes!.buffer);
    const next = await appendUpdate({ bytes: first.bytes! }, { memory: true }, bytes(' +D'));

    expect(text(base.bytes)).toBe('%PDF-1.7 original +A');
    expect(text(first.bytes)).toBe('%PDF-1.7 original +A +B');
    expect(text(branch.bytes)).toBe('%PDF-1.7 original +A +C');
    expect(text(next.bytes)).toBe('%PDF-1.7 original +A +B +D');
  });

  it('never writes into a caller-owned buffer', async () => {
    const input = bytes('%PDF-1.7 caller');
    const out = await appendUpdate({ bytes: input }, { memory: true }, bytes(' +A'));
    expect(out.bytes!.buffer).not.toBe(input.buffer);
    expect(text(input)).toBe('%PDF-1.7 caller');
  });
});
