/**
 * How xref sections are grouped into revisions when the /Prev chain is hostile (review findings:
 * an xref section hidden inside signed bytes and activated by a later update; quadratic cost of
 * many revisions). Every input is written here, byte by byte.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { type FixtureSet, generateFixtures } from '../../scripts/gen-fixtures.ts';
import { PdfDocument, PdfError } from '../../src/pdf/index.ts';
import { validatePdf } from '../../src/pades/validation/index.ts';
import { MAX_VALIDATED_REVISIONS } from '../../src/pades/validation/validatePdf.ts';

let fx: FixtureSet;
beforeAll(() => {
  fx = generateFixtures();
});

/** A file written piece by piece; `at` is where the next piece starts. */
class Writer {
  private readonly parts: Buffer[] = [];
  at = 0;

  add(s: string): number {
    const start = this.at;
    const b = Buffer.from(s, 'latin1');
    this.parts.push(b);
    this.at += b.length;
    return start;
  }

  obj(num: number, body: string): number {
    return this.add(`${num} 0 obj\n${body}\nendobj\n`);
  }

  /** An xref table (one subsection per entry, object 0 free when `withFree`), trailer, startxref, %%EOF. */
  section(entries: ReadonlyArray<[number, number]>, trailer: string, withFree = false): { xref: number; end: number } {
    const rows = entries.map(([n, off]) => `${n} 1\n${String(off).padStart(10, '0')} 00000 n \n`).join('');
    const start = this.at;
    this.add(`xref\n${withFree ? '0 1\n0000000000 65535 f \n' : ''}${rows}trailer\n<< ${trailer} >>\nstartxref\n${start}\n%%EOF`);
    const end = this.at;
    this.add('\n');
    return { xref: start, end };
  }

  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** Fixed-width placeholder patched once the offset it names is known (same length, so nothing moves). */
const SLOT = 'PPPPPPPPPP';
function patch(bytes: Buffer, value: number): Buffer {
  const at = bytes.indexOf(SLOT);
  if (at < 0) throw new Error('no placeholder');
  bytes.write(String(value).padStart(10, '0'), at, 'latin1');
  return bytes;
}

/** Body of a stream whose data is an xref section (and trailer) for object 4, with /Prev to patch. */
const HIDDEN = `xref\n4 1\n0000000009 00000 n \ntrailer\n<< /Size 9 /Root 1 0 R /Prev ${SLOT} >>\n`;
const hiddenStream = () => `<< /Length ${HIDDEN.length} >>\nstream\n${HIDDEN}\nendstream`;

/** Objects 1–4 of a one-page document (object 4 the page content), then `extra` as object 5. */
function original(w: Writer, extra?: string, header = true): Array<[number, number]> {
  if (header) w.add('%PDF-1.7\n');
  const offs: Array<[number, number]> = [];
  offs.push([1, w.obj(1, '<< /Type /Catalog /Pages 2 0 R >>')]);
  offs.push([2, w.obj(2, '<< /Type /Pages /Kids [3 0 R] /Count 1 >>')]);
  offs.push([3, w.obj(3, '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>')]);
  offs.push([4, w.obj(4, '<< /Length 9 >>\nstream\n0 0 m S q\nendstream')]);
  if (extra !== undefined) offs.push([5, w.obj(5, extra)]);
  return offs;
}

/** An empty update (no object) whose /Prev is `prev`. */
function emptyUpdate(w: Writer, prev: number): { xref: number; end: number } {
  return w.section([], `/Size 9 /Root 1 0 R /Prev ${prev}`, true);
}

function openError(bytes: Uint8Array): PdfError {
  try {
    PdfDocument.open(bytes);
  } catch (e) {
    if (e instanceof PdfError) return e;
    throw e;
  }
  throw new Error('the file opened');
}

describe('revisions of a hostile /Prev chain', () => {
  it('refuses an update whose /Prev reaches an xref section hidden inside a signed revision (review finding)', async () => {
    // Revision 0 hides a section in a stream; revision 1 is the "signer's" update; the attacker's
    // update points /Prev at the hidden section, whose /Prev points at the signer's section. The
    // hidden section used to be merged into revision 1 as if it were a linearized first-page section.
    const w = new Writer();
    const offs = original(w, hiddenStream());
    const hidden = w.at - HIDDEN.length - '\nendstream\nendobj\n'.length;
    const rev0 = w.section(offs, '/Size 6 /Root 1 0 R', true);
    const sig = w.obj(6, '<< /Signed true >>');
    const rev1 = w.section([[6, sig]], `/Size 7 /Root 1 0 R /Prev ${rev0.xref}`);
    emptyUpdate(w, hidden);
    const bytes = patch(w.bytes(), rev1.xref);
    expect(bytes.subarray(hidden, hidden + 4).toString()).toBe('xref');
    const e = openError(bytes);
    expect(e.code).toBe('pdf-malformed');
    expect(e.message).toMatch(/pointing forward/);
    // The validator reports the structure error instead of analysing a forged revision.
    const report = await validatePdf({ bytes: new Uint8Array(bytes) });
    expect(report.document.error?.code).toBe('pdf-malformed');
    expect(report.documentIndication).not.toBe('TOTAL-PASSED');
    // The same file without the attacker's update reads normally: two revisions.
    const honest = PdfDocument.open(bytes.subarray(0, rev1.end + 1));
    expect(honest.revisions.map((r) => r.sectionOffsets)).toEqual([[rev0.xref], [rev1.xref]]);
  });

  it('does not merge a forward /Prev into revision 0 when the file is not linearized', () => {
    // The hidden section points at the original's own xref: it used to become part of revision 0.
    const w = new Writer();
    const offs = original(w, hiddenStream());
    const hidden = w.at - HIDDEN.length - '\nendstream\nendobj\n'.length;
    const rev0 = w.section(offs, '/Size 6 /Root 1 0 R', true);
    emptyUpdate(w, hidden);
    expect(openError(patch(w.bytes(), rev0.xref)).code).toBe('pdf-malformed');
  });

  it('merges the first-page section of a linearized file into revision 0 only, and only the one after the linearization dictionary', () => {
    // The generated linearized fixture, then an update pointing at its first-page section (§7.5.6).
    const lin = readFileSync(fx.linearized);
    const doc = PdfDocument.open(lin);
    const first = doc.revisions[0]!.startxref;
    const upd = `xref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size ${doc.size} /Root ${doc.catalogRef!.num} 0 R /Prev ${first} >>\nstartxref\n${lin.length}\n%%EOF\n`;
    const updated = PdfDocument.open(Buffer.concat([lin, Buffer.from(upd)]));
    expect(updated.revisions).toHaveLength(2);
    expect(updated.revisions[0]!.sectionOffsets).toHaveLength(2);
    expect(updated.revisions[0]!.endOffsetWithEol).toBe(lin.length);
    expect(updated.pageCount).toBe(3);

    // A small linearized file written by hand: linearization dictionary, first-page section, the
    // objects (one stream hiding a section), main section; startxref names the first-page section.
    const build = (hiddenPrev: 'main' | 'update') => {
      const w = new Writer();
      w.add('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n');
      const linDict = w.obj(9, '<< /Linearized 1 /L 0 /H [0 0] /O 3 /E 0 /N 1 /T 0 >>');
      const fp = w.at;
      w.add(`xref\n9 1\n${String(linDict).padStart(10, '0')} 00000 n \ntrailer\n<< /Size 10 /Root 1 0 R /Prev QQQQQQQQQQ >>\nstartxref\n0\n%%EOF\n`);
      const offs = original(w, hiddenStream(), false);
      const hidden = w.at - HIDDEN.length - '\nendstream\nendobj\n'.length;
      const main = w.at;
      const rows = offs.map(([n, off]) => `${n} 1\n${String(off).padStart(10, '0')} 00000 n \n`).join('');
      w.add(`xref\n0 1\n0000000000 65535 f \n${rows}trailer\n<< /Size 10 /Root 1 0 R >>\nstartxref\n${fp}\n%%EOF\n`);
      const end = w.at;
      let bytes = w.bytes();
      bytes.write(String(main).padStart(10, '0'), bytes.indexOf('QQQQQQQQQQ'), 'latin1');
      const honest = Buffer.from(bytes);
      // An update on the first-page section (what a signer writes), then the attacker's.
      const w2 = new Writer();
      w2.at = end;
      const sig = emptyUpdate(w2, fp);
      emptyUpdate(w2, hidden);
      bytes = Buffer.concat([bytes, w2.bytes()]);
      patch(bytes, hiddenPrev === 'main' ? main : sig.xref);
      return { honest, bytes, fp, main };
    };
    const a = build('main');
    const ok = PdfDocument.open(a.honest);
    expect(ok.revisions).toHaveLength(1);
    expect(ok.revisions[0]!.sectionOffsets).toEqual([a.fp, a.main]);
    // The chain update → hidden → main: the hidden section is no first-page section (it does not
    // follow the linearization dictionary), so revision 0 cannot absorb it.
    expect(openError(a.bytes).code).toBe('pdf-malformed');
    // The chain update → hidden → signer's update → first page → main: a forward /Prev outside
    // revision 0 is never a linearized file's.
    const b = build('update');
    expect(openError(b.bytes).message).toMatch(/pointing forward/);
  });

  it('a section hidden inside an update cannot take over that update\'s %%EOF (so no signature can cover it)', () => {
    // Revision 1 (the "signer's") carries, inside a stream, a section whose /Prev is revision 0's;
    // the attacker's update points at it, leaving the signer's real section out of the chain.
    const w = new Writer();
    const rev0 = w.section(original(w), '/Size 5 /Root 1 0 R', true);
    const obj6 = w.obj(6, hiddenStream());
    const hidden = obj6 + '6 0 obj\n'.length + `<< /Length ${HIDDEN.length} >>\nstream\n`.length;
    const rev1 = w.section([[6, obj6]], `/Size 7 /Root 1 0 R /Prev ${rev0.xref}`);
    emptyUpdate(w, hidden);
    const bytes = patch(w.bytes(), rev0.xref);
    expect(bytes.subarray(hidden, hidden + 4).toString()).toBe('xref');
    // Honest chain: revision 1 ends at its own %%EOF.
    expect(PdfDocument.open(bytes.subarray(0, rev1.end + 1)).revisions[1]!.endOffset).toBe(rev1.end);
    const doc = PdfDocument.open(bytes);
    expect(doc.revisions.map((r) => r.startxref)).toEqual([rev0.xref, hidden, rev1.end + 1]);
    // The hidden section's revision does not end where the signer's update ends (the startxref
    // before that %%EOF names the signer's section), so a signature over it matches no revision.
    expect(doc.revisions.map((r) => r.endOffset)).not.toContain(rev1.end);
    expect(doc.revisions[1]!.endOffset).toBeLessThan(rev1.xref);
  });

  it('refuses a revision whose xref section starts inside the previous revision', () => {
    // Revision 0's trailer carries a string holding a section whose /Prev is revision 0's own.
    const w = new Writer();
    const offs = original(w);
    const rev0 = w.at;
    const inner = `xref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size 5 /Root 1 0 R /Prev ${SLOT} >>`;
    const rows = offs.map(([n, off]) => `${n} 1\n${String(off).padStart(10, '0')} 00000 n \n`).join('');
    const head = `xref\n0 1\n0000000000 65535 f \n${rows}trailer\n<< /Size 5 /Root 1 0 R /Note (`;
    w.add(`${head}${inner}) >>\nstartxref\n${rev0}\n%%EOF\n`);
    emptyUpdate(w, rev0 + head.length);
    const bytes = patch(w.bytes(), rev0);
    const e = openError(bytes);
    expect(e.code).toBe('pdf-malformed');
    expect(e.message).toMatch(/inside revision 0/);
  });
});

describe('many revisions', () => {
  /** The generated classic fixture followed by `n` empty updates, and a /ByteRange to be found. */
  function withUpdates(n: number): Uint8Array {
    const base = readFileSync(fx.classic);
    const doc = PdfDocument.open(base);
    const w = new Writer();
    w.at = base.length;
    let prev = doc.revisions[0]!.startxref;
    const sig = w.obj(doc.size, '<< /Type /Sig /ByteRange [0 10 20 30] /Contents <00> >>');
    prev = w.section([[doc.size, sig]], `/Size ${doc.size + 1} /Root ${doc.catalogRef!.num} 0 R /Prev ${prev}`).xref;
    for (let i = 0; i < n; i++) prev = w.section([], `/Size ${doc.size + 1} /Root ${doc.catalogRef!.num} 0 R /Prev ${prev}`, true).xref;
    return new Uint8Array(Buffer.concat([base, w.bytes()]));
  }

  it(`validation refuses a file with more than ${MAX_VALIDATED_REVISIONS} revisions with pdf-limit-exceeded, quickly (review finding)`, async () => {
    const bytes = withUpdates(400);
    const t0 = performance.now();
    const report = await validatePdf({ bytes });
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(report.document.revisions).toBe(402);
    expect(report.document.error?.code).toBe('pdf-limit-exceeded');
    expect(report.document.error?.message).toMatch(/402 revisions/);
    expect(report.documentIndication).toBe('TOTAL-FAILED');
    expect(report.signatures.every((s) => s.indication === 'TOTAL-FAILED')).toBe(true);
    // At the limit the file is analysed as usual.
    const atLimit = await validatePdf({ bytes: withUpdates(MAX_VALIDATED_REVISIONS - 2) });
    expect(atLimit.document.revisions).toBe(MAX_VALIDATED_REVISIONS);
    expect(atLimit.document.error).toBeUndefined();
  });

  it('openShared parses the xref chain once: revisions opened meanwhile reuse it, until release', () => {
    const bytes = withUpdates(30);
    const { doc, release } = PdfDocument.openShared(bytes);
    expect(doc.revisions).toHaveLength(32);
    const again = PdfDocument.openRevision(bytes, 5);
    expect(again.revisions).toHaveLength(6);
    expect(again.revisions[5]).toBe(doc.revisions[5]); // the same parsed revision, not a re-read
    expect(PdfDocument.open(bytes).revisions[31]).toBe(doc.revisions[31]);
    // A different array with the same bytes, or other limits, parses on its own.
    expect(PdfDocument.open(new Uint8Array(bytes)).revisions[31]).not.toBe(doc.revisions[31]);
    expect(PdfDocument.open(bytes, { maxObjects: 1000 }).revisions[31]).not.toBe(doc.revisions[31]);
    release();
    release(); // idempotent
    expect(PdfDocument.open(bytes).revisions[31]).not.toBe(doc.revisions[31]);
    // A hostile file fails to share as it fails to open.
    expect(() => PdfDocument.openShared(new Uint8Array(Buffer.from('%PDF-1.7\nnothing')))).toThrowError(PdfError);
  });
});
