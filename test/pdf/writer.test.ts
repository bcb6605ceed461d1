import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_DIR, type FixtureSet, generateFixtures } from '../../scripts/gen-fixtures.ts';
import {
  IncrementalUpdate,
  PdfByteRangeHole,
  PdfContentsHole,
  PdfDict,
  PdfDocument,
  PdfError,
  PdfName,
  PdfRef,
  PdfStream,
  PdfString,
  contentsHexFor,
  decodeStream,
  writeContents,
} from '../../src/pdf/index.ts';
import { qpdfCheck, run } from './helpers.ts';

let fx: FixtureSet;
const OUT = path.join(FIXTURE_DIR, 'out');
beforeAll(() => {
  fx = generateFixtures();
  mkdirSync(OUT, { recursive: true });
});

/** One update: a new annotation-free signature dictionary + field, and a changed catalog. */
function signLikeUpdate(file: string) {
  const original = readFileSync(file);
  const doc = PdfDocument.open(file);
  const up = new IncrementalUpdate(doc);
  const sigRef = up.add(
    new PdfDict([
      ['Type', PdfName.of('Sig')],
      ['Filter', PdfName.of('Adobe.PPKLite')],
      ['SubFilter', PdfName.of('ETSI.CAdES.detached')],
      ['ByteRange', new PdfByteRangeHole()],
      ['Contents', new PdfContentsHole(64)],
      ['M', PdfString.fromText('D:20250101120000Z')],
    ]),
  );
  const note = up.add(new PdfStream(new PdfDict([['Type', PdfName.of('Note')]]), Buffer.from('extra data')));
  const catalogNum = doc.catalogRef!.num;
  const cat = up.edit(catalogNum);
  cat.set('ChungthucTest', sigRef);
  cat.set('ChungthucNote', note);
  const built = up.build();
  doc.close();
  const out = path.join(OUT, `updated-${path.basename(file)}`);
  const full = Buffer.concat([original, built.bytes]);
  writeFileSync(out, full);
  return { original, built, full, out, sigRef, catalogNum, kind: doc.xrefKind };
}

describe('IncrementalUpdate round trip', () => {
  for (const kind of ['classic', 'pdf13', 'pdf20', 'forms', 'incremental', 'hybrid', 'objstm', 'linearized'] as const) {
    it(`appends a valid update to the ${kind} fixture`, () => {
      const { original, built, full, out, sigRef, kind: xrefKind } = signLikeUpdate(fx[kind]);
      // Earlier bytes untouched; the update is appended.
      expect(full.subarray(0, original.length).equals(original)).toBe(true);
      expect(built.totalLength).toBe(full.length);
      const check = qpdfCheck(out);
      expect(check.ok, check.out).toBe(true);
      expect(run('pdfinfo', [out]).status).toBe(0);

      const doc = PdfDocument.open(out);
      const before = PdfDocument.open(fx[kind]);
      expect(doc.revisions).toHaveLength(before.revisions.length + 1);
      const last = doc.revisions[doc.revisions.length - 1]!;
      expect(last.xrefKind).toBe(xrefKind);
      expect(last.trailer.getNumber('Prev')).toBe(before.revisions[before.revisions.length - 1]!.startxref);
      expect(last.endOffsetWithEol).toBe(full.length);
      expect(doc.pageCount).toBe(before.pageCount);
      const cat = doc.catalog;
      expect(cat.get('ChungthucTest')).toEqual(sigRef);
      expect(doc.resolveDict(cat.get('ChungthucTest'))?.getName('SubFilter')).toBe('ETSI.CAdES.detached');
      const note = doc.resolve(cat.get('ChungthucNote')) as PdfStream;
      expect(Buffer.from(decodeStream(note).data).toString()).toBe('extra data');
      // §14.4: the first ID is kept, the second changes.
      const ids = (d: PdfDocument) => (d.trailer.get('ID') as PdfString[]).map((s) => Buffer.from(s.bytes).toString('hex'));
      expect(ids(doc)[0]).toBe(ids(before)[0]);
      expect(ids(doc)[1]).not.toBe(ids(before)[1]);

      // Placeholder offsets were recorded while writing: they point exactly at <…> and [ … ].
      const [ph] = built.placeholders;
      expect(ph).toBeDefined();
      expect(full[ph!.contentsStart]).toBe(0x3c);
      expect(full[ph!.contentsEnd - 1]).toBe(0x3e);
      expect(ph!.contentsEnd - ph!.contentsStart).toBe(2 + 64 * 2);
      expect(full.subarray(ph!.contentsStart + 1, ph!.contentsEnd - 1).toString()).toMatch(/^0{128}$/);
      const brText = full.subarray(ph!.byteRangeStart, ph!.byteRangeEnd).toString();
      const nums = brText.slice(1, -1).trim().split(/\s+/).map(Number);
      expect(nums).toEqual([0, ph!.contentsStart, ph!.contentsEnd, full.length - ph!.contentsEnd]);
      expect(ph!.byteRange).toEqual(nums);
      // The reader sees the same ByteRange.
      const sig = doc.resolveDict(sigRef)!;
      expect(sig.get('ByteRange')).toEqual(nums);
    });
  }

  it('fills /Contents with the CMS hex and keeps the file valid', () => {
    const { built, original } = signLikeUpdate(fx.objstm);
    const der = Uint8Array.from([0x30, 0x03, 0x02, 0x01, 0x05]);
    const bytes = built.bytes.slice();
    writeContents(bytes, built.placeholders[0]!, der);
    const out = path.join(OUT, 'filled.pdf');
    writeFileSync(out, Buffer.concat([original, bytes]));
    expect(qpdfCheck(out).ok).toBe(true);
    const doc = PdfDocument.open(out);
    const sigNum = built.placeholders[0]!.objectNumber;
    const contents = (doc.getObject(sigNum) as PdfDict).get('Contents') as PdfString;
    expect(Buffer.from(contents.bytes.subarray(0, 5)).toString('hex')).toBe('3003020105');
    expect(contents.bytes.length).toBe(64);
  });

  it('contentsHexFor pads upper-case hex and refuses oversize signatures', () => {
    expect(contentsHexFor(Uint8Array.from([0xab, 0x01]), 4)).toBe('AB01000000'.slice(0, 8));
    try {
      contentsHexFor(new Uint8Array(5), 4);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(PdfError);
      expect((e as PdfError).code).toBe('pdf-placeholder-too-small');
    }
  });

  it('writes classic xref subsections with 20-byte entries', () => {
    const doc = PdfDocument.open(fx.forms);
    const up = new IncrementalUpdate(doc);
    up.edit(3).set('Foo', 1);
    up.edit(5).set('Foo', 2);
    up.edit(4).set('Foo', 3);
    up.add(new PdfDict([['X', 1]]));
    const text = Buffer.from(up.build().bytes).toString('latin1');
    const xref = text.slice(text.indexOf('xref\n') + 5, text.indexOf('trailer'));
    const lines = xref.split('\n');
    expect(lines[0]).toBe('3 3');
    expect(lines[4]).toBe('14 1');
    expect(xref).toMatch(/^3 3\n(\d{10} \d{5} n\r\n){3}14 1\n\d{10} \d{5} n\r\n$/);
  });

  it('refuses object numbers that were neither allocated nor present', () => {
    const up = new IncrementalUpdate(PdfDocument.open(fx.classic));
    expect(() => up.setObject(99, 1)).toThrowError(PdfError);
    expect(() => up.setObject(0, 1)).toThrowError(PdfError);
    expect(up.allocate()).toBe(7);
    expect(up.refTo(3)).toEqual(new PdfRef(3, 0));
  });

  it('adds raw objects (appearance streams built elsewhere) verbatim', () => {
    const original = readFileSync(fx.classic);
    const doc = PdfDocument.open(fx.classic);
    const up = new IncrementalUpdate(doc);
    const n = up.allocate();
    up.setRawObject(n, Buffer.from('<< /Type /XObject /Subtype /Form /BBox [0 0 10 10] /Length 3 >>\nstream\n0 g\nendstream'));
    up.edit(doc.catalogRef!.num).set('AP', new PdfRef(n, 0));
    const out = path.join(OUT, 'raw.pdf');
    writeFileSync(out, Buffer.concat([original, up.build().bytes]));
    expect(qpdfCheck(out).ok).toBe(true);
    const s = PdfDocument.open(out).getObject(n) as PdfStream;
    expect(Buffer.from(s.raw).toString()).toBe('0 g');
  });

  it('starts the update on a new line when the original lacks a final EOL', () => {
    const bytes = readFileSync(fx.classic).subarray(0, -1); // drop the final "\n"
    const doc = PdfDocument.open(bytes);
    const up = new IncrementalUpdate(doc);
    up.add(1);
    const add = up.build().bytes;
    expect(add[0]).toBe(0x0a);
    const out = path.join(OUT, 'no-eol.pdf');
    writeFileSync(out, Buffer.concat([bytes, add]));
    expect(qpdfCheck(out).ok).toBe(true);
  });
});
