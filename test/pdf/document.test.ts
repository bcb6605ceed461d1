import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { type FixtureSet, generateFixtures } from '../../scripts/gen-fixtures.ts';
import { BufferSource, PdfDict, PdfDocument, PdfError, PdfRef, PdfStream, decodeStream, numberValue } from '../../src/pdf/index.ts';
import { run } from './helpers.ts';

let fx: FixtureSet;
beforeAll(() => {
  fx = generateFixtures();
});

describe('PdfDocument on generated fixtures', () => {
  it('reads a classic-xref file: one revision, catalog, page, stream data', () => {
    const doc = PdfDocument.open(fx.classic);
    expect(doc.revisions).toHaveLength(1);
    expect(doc.xrefKind).toBe('table');
    expect(doc.size).toBe(7);
    expect(doc.catalog.getName('Type')).toBe('Catalog');
    expect(doc.pageCount).toBe(1);
    const page = doc.getPage(0);
    expect(page.ref).toEqual(new PdfRef(3, 0));
    expect((page.mediaBox as unknown[]).map((x) => numberValue(x as number))).toEqual([0, 0, 612, 792]);
    const contents = doc.resolve(page.dict.get('Contents'));
    expect(contents).toBeInstanceOf(PdfStream);
    expect(Buffer.from(decodeStream(contents as PdfStream).data).toString()).toContain('Hello chungthuc');
    const rev = doc.revisions[0]!;
    const bytes = readFileSync(fx.classic);
    expect(rev.endOffset).toBe(bytes.length - 1); // the file ends "%%EOF\n"
    expect(rev.endOffsetWithEol).toBe(bytes.length);
    expect(bytes.subarray(rev.endOffset - 5, rev.endOffset).toString()).toBe('%%EOF');
    doc.close();
  });

  it('reports header versions 1.3 and 2.0', () => {
    expect(PdfDocument.open(fx.pdf13).headerVersion).toBe('1.3');
    expect(PdfDocument.open(fx.pdf20).headerVersion).toBe('2.0');
  });

  it('walks a nested page tree with inherited attributes (§7.7.3.4)', () => {
    const doc = PdfDocument.open(fx.forms);
    expect(doc.pageCount).toBe(3);
    const [p0, p1, p2] = [doc.getPage(0), doc.getPage(1), doc.getPage(2)];
    expect(p0.ref?.num).toBe(3);
    expect(p1.ref?.num).toBe(5);
    expect(p2.ref?.num).toBe(11);
    expect((p0.mediaBox as number[])[2]).toBe(595);
    expect((p1.mediaBox as number[])[3]).toBe(200);
    expect([p0.rotate, p1.rotate, p2.rotate]).toEqual([0, 90, 180]);
    expect(p2.resources?.has('Font')).toBe(true);
    expect(() => doc.getPage(3)).toThrowError(PdfError);
  });

  it('lists signature fields with qualified names, widgets, pages and locks', () => {
    const doc = PdfDocument.open(fx.forms);
    const fields = doc.signatureFields();
    expect(fields.map((f) => f.name)).toEqual(['Sig1', 'grp.inner']);
    const [sig1, inner] = fields as [(typeof fields)[0], (typeof fields)[0]];
    expect(sig1.ref?.num).toBe(7);
    expect(sig1.valueRef).toBeNull();
    expect(sig1.widgets.map((w) => [w.ref?.num, w.pageIndex])).toEqual([[8, 0]]);
    expect(inner.widgets.map((w) => [w.ref?.num, w.pageIndex])).toEqual([[10, 1]]);
    expect(inner.lock?.getName('Action')).toBe('All');
    expect(inner.lockRef?.num).toBe(13);
  });

  it('reads an incrementally updated file as two revisions, and the earlier revision on demand', () => {
    const doc = PdfDocument.open(fx.incremental);
    expect(doc.revisions).toHaveLength(2);
    expect([...doc.revisions[1]!.objectNumbers]).toEqual([6]);
    const info = doc.resolveDict(doc.trailer.get('Info'));
    expect(info?.get('Producer')).toBeDefined();
    const producer = (d: PdfDocument) => (d.resolveDict(d.trailer.get('Info'))?.get('Producer') as { toText(): string }).toText();
    expect(producer(doc)).toBe('chungthuc fixtures, updated');
    const old = PdfDocument.openRevision(fx.incremental, 0);
    expect(old.revisions).toHaveLength(1);
    expect(producer(old)).toBe('chungthuc fixtures');
    expect(doc.revisions[0]!.endOffsetWithEol).toBe(readFileSync(fx.classic).length);
  });

  it('reads xref streams with object streams (qpdf --object-streams=generate)', () => {
    const doc = PdfDocument.open(fx.objstm);
    expect(doc.xrefKind).toBe('stream');
    expect(doc.revisions).toHaveLength(1);
    const compressed = [...doc.objectNumbers()].filter((n) => doc.entry(n)?.type === 'compressed');
    expect(compressed.length).toBeGreaterThan(3);
    expect(doc.pageCount).toBe(3);
    expect(doc.signatureFields().map((f) => f.name)).toEqual(['Sig1', 'grp.inner']);
  });

  it('reads a hybrid-reference file through /XRefStm (§7.5.8.4)', () => {
    const doc = PdfDocument.open(fx.hybrid);
    expect(doc.revisions).toHaveLength(1);
    expect(doc.revisions[0]!.hybrid).toBe(true);
    expect(doc.xrefKind).toBe('table');
    expect(doc.entry(4)).toEqual({ type: 'compressed', stream: 6, index: 0 });
    const page = doc.getPage(0);
    expect(page.dict.getName('Type')).toBe('Page');
    const font = doc.resolveDict((page.resources?.get('Font') as PdfDict).get('F1'));
    expect(font?.getName('BaseFont')).toBe('Helvetica');
  });

  it('treats a linearized file (first-page + main xref) as one revision', () => {
    const doc = PdfDocument.open(fx.linearized);
    expect(doc.revisions).toHaveLength(1);
    expect(doc.revisions[0]!.sectionOffsets).toHaveLength(2);
    expect(doc.pageCount).toBe(3);
    const len = readFileSync(fx.linearized).length;
    expect(doc.revisions[0]!.endOffsetWithEol).toBe(len);
  });

  it('refuses encrypted files with pdf-encrypted', () => {
    try {
      PdfDocument.open(fx.encrypted);
      expect.unreachable();
    } catch (e) {
      expect((e as PdfError).code).toBe('pdf-encrypted');
      expect((e as PdfError).status).toBe(422);
    }
  });

  it('page counts equal qpdf --show-npages on every fixture', () => {
    for (const f of [fx.classic, fx.forms, fx.objstm, fx.linearized, fx.hybrid, fx.incremental]) {
      const q = run('qpdf', ['--show-npages', f]);
      expect(PdfDocument.open(new BufferSource(readFileSync(f))).pageCount, f).toBe(Number(q.out.trim()));
    }
  });
});
