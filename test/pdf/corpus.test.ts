import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PdfDocument, PdfError, decodeStream, PdfStream } from '../../src/pdf/index.ts';
import { corpusFiles, run } from './helpers.ts';

const files = corpusFiles();

/** Runs `f`; returns 'ok' or the PdfError code. Any other exception fails the test. */
function pdfOutcome(f: () => void): string {
  try {
    f();
    return 'ok';
  } catch (e) {
    if (e instanceof PdfError) return e.code;
    throw e;
  }
}

// Files we are expected to refuse: not a PDF after corruption, a broken startxref, encryption.
const EXPECTED_REFUSALS = new Map([
  ['corrupted/dss-malformed-pades.pdf', 'pdf-not-a-pdf'],
  ['corrupted/dss-pdf-signed-corrupted.pdf', 'pdf-malformed'],
  ['docmdp/qpdf-minimal-signed-restricted.pdf', 'pdf-encrypted'],
  ['loop/qpdf-append-xref-loop.pdf', 'pdf-malformed'],
]);

describe('shared corpus', () => {
  it('has files to read', () => {
    expect(files.length).toBeGreaterThan(90);
  });

  for (const [name, file] of files) {
    it(`${name}: opens or fails with a PdfError, every object read likewise`, () => {
      let doc: PdfDocument | undefined;
      const opened = pdfOutcome(() => {
        doc = PdfDocument.open(file);
      });
      const refusal = EXPECTED_REFUSALS.get(name);
      if (refusal) expect(opened).toBe(refusal);
      if (!name.startsWith('malformed/') && !name.startsWith('loop/') && !refusal) expect(opened).toBe('ok');
      if (!doc) return;
      const d = doc;
      pdfOutcome(() => void d.pageCount);
      pdfOutcome(() => void d.signatureFields());
      for (const num of [...d.objectNumbers()].slice(0, 5000)) {
        pdfOutcome(() => {
          const v = d.getObject(num);
          if (v instanceof PdfStream) decodeStream(v);
        });
      }
      for (let i = 0; i < d.revisions.length; i++) pdfOutcome(() => void PdfDocument.openRevision(file, i).catalog);
      d.close();
    });
  }

  // Independent oracle for revisions: each revision ends with its own startxref; a linearized file
  // has one extra (first-page) startxref. Checked on every well-formed file that opens.
  const wellFormed = files.filter(([n]) => !/^(malformed|loop)\//.test(n) && !EXPECTED_REFUSALS.has(n));
  it('revision counts match the startxref count on every well-formed corpus file', () => {
    let multi = 0;
    for (const [name, file] of wellFormed) {
      const text = readFileSync(file).toString('latin1');
      const linearized = /\/Linearized/.test(text.slice(0, 1024));
      const expected = (text.match(/startxref/g) ?? []).length - (linearized ? 1 : 0);
      const doc = PdfDocument.open(file);
      expect(doc.revisions.length, name).toBe(expected);
      if (expected > 1) multi++;
      // Revisions are in file order and each ends with %%EOF.
      let prevEnd = 0;
      for (const r of doc.revisions) {
        expect(r.endOffset, name).toBeGreaterThan(prevEnd);
        expect(text.slice(r.endOffset - 5, r.endOffset), name).toBe('%%EOF');
        prevEnd = r.endOffset;
      }
      doc.close();
    }
    expect(multi).toBeGreaterThan(20);
  });

  it('page counts equal qpdf --show-npages where qpdf reads the file cleanly', () => {
    let compared = 0;
    for (const [name, file] of wellFormed) {
      const q = run('qpdf', ['--show-npages', file]);
      // Exit 3 = warnings (e.g. a wrong /Size); qpdf's page count is still meaningful.
      if (q.status !== 0 && q.status !== 3) continue;
      const doc = PdfDocument.open(file);
      expect(doc.pageCount, name).toBe(Number(q.stdout.trim()));
      compared++;
      doc.close();
    }
    expect(compared).toBeGreaterThan(45);
  });

  it('the loop files end with a PdfError or a result', () => {
    const loops = files.filter(([n]) => n.startsWith('loop/'));
    expect(loops.length).toBeGreaterThan(5);
    const outcomes = loops.map(([, f]) =>
      pdfOutcome(() => {
        const d = PdfDocument.open(f);
        void d.pageCount;
        void d.signatureFields();
      }),
    );
    // The /Prev cycle, the page-tree cycles and the field-tree cycle are all caught.
    expect(outcomes.filter((o) => o !== 'ok').length).toBeGreaterThanOrEqual(5);
  });
});
