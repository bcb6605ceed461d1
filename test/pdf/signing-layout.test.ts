import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FixtureSet, generateFixtures } from '../../scripts/gen-fixtures.ts';
import {
  IncrementalUpdate,
  PdfByteRangeHole,
  PdfContentsHole,
  PdfDict,
  PdfDocument,
  PdfName,
  PdfString,
  type PdfValue,
  writeContents,
} from '../../src/pdf/index.ts';
import { qpdfCheck, run } from './helpers.ts';

/**
 * Proves the placeholder layout against independent verifiers: the CMS comes from the openssl CLI
 * (the crypto layer is not under test here) and poppler's pdfsig checks digest and coverage.
 */
let fx: FixtureSet;
let work: string;
beforeAll(() => {
  fx = generateFixtures();
  work = mkdtempSync(path.join(tmpdir(), 'pdf-sign-'));
  const r = run('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=pdf layer test', '-days', '2',
    '-keyout', path.join(work, 'key.pem'), '-out', path.join(work, 'cert.pem'),
  ]);
  if (r.status !== 0) throw new Error(r.out);
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

function signWithPlaceholder(file: string): string {
  const original = readFileSync(file);
  const doc = PdfDocument.open(file);
  const up = new IncrementalUpdate(doc);
  const sig = up.add(
    new PdfDict([
      ['Type', PdfName.of('Sig')],
      ['Filter', PdfName.of('Adobe.PPKLite')],
      ['SubFilter', PdfName.of('ETSI.CAdES.detached')],
      ['ByteRange', new PdfByteRangeHole()],
      ['Contents', new PdfContentsHole(8192)],
      ['M', new PdfString(Buffer.from('D:20260101000000Z'))],
    ]),
  );
  const page = doc.getPage(0);
  const fieldNum = up.allocate();
  const field = up.refTo(fieldNum);
  up.setObject(
    fieldNum,
    new PdfDict([
      ['FT', PdfName.of('Sig')],
      ['T', PdfString.fromText('Signature-test')],
      ['V', sig],
      ['Type', PdfName.of('Annot')],
      ['Subtype', PdfName.of('Widget')],
      ['Rect', [0, 0, 0, 0]],
      ['F', 132],
      ['P', page.ref!],
    ]),
  );
  const pageDict = up.edit(page.ref!.num);
  const annots = doc.resolve(pageDict.get('Annots'));
  pageDict.set('Annots', [...(Array.isArray(annots) ? annots : []), field]);
  const cat = up.edit(doc.catalogRef!.num);
  const existing = doc.acroForm;
  const form = existing ? new PdfDict(existing.entries()) : new PdfDict();
  const fields = doc.resolve(form.get('Fields'));
  form.set('Fields', [...(Array.isArray(fields) ? (fields as PdfValue[]) : []), field]);
  form.set('SigFlags', 3);
  cat.set('AcroForm', form);
  const built = up.build();
  const ph = built.placeholders[0]!;
  const full = Buffer.concat([original, built.bytes]);
  // The signed data: both ranges, exactly as ByteRange says.
  const [a, b, c, d] = ph.byteRange;
  writeFileSync(path.join(work, 'ranges.bin'), Buffer.concat([full.subarray(a, a + b), full.subarray(c, c + d)]));
  const cms = path.join(work, 'sig.der');
  const r = run('openssl', [
    'cms', '-sign', '-binary', '-outform', 'DER', '-md', 'sha256', '-nosmimecap', '-noattr',
    '-in', path.join(work, 'ranges.bin'), '-signer', path.join(work, 'cert.pem'), '-inkey', path.join(work, 'key.pem'), '-out', cms,
  ]);
  if (r.status !== 0) throw new Error(r.out);
  const bytes = Buffer.from(built.bytes);
  writeContents(bytes, ph, readFileSync(cms));
  const out = path.join(work, `signed-${path.basename(file)}`);
  mkdirSync(work, { recursive: true });
  writeFileSync(out, Buffer.concat([original, bytes]));
  return out;
}

describe('placeholder layout against pdfsig', () => {
  for (const kind of ['classic', 'objstm', 'forms', 'linearized', 'hybrid'] as const) {
    it(`a ${kind} file signed through the placeholder verifies and is totally signed`, () => {
      const out = signWithPlaceholder(fx[kind]);
      expect(qpdfCheck(out).ok).toBe(true);
      const r = run('pdfsig', ['-nocert', '-no-ocsp', out]);
      expect(r.out).toContain('Signature Validation: Signature is Valid.');
      expect(r.out).toContain('Total document signed');
      const doc = PdfDocument.open(out);
      expect(doc.signatureFields().some((f) => f.name === 'Signature-test' && f.value?.getName('Type') === 'Sig')).toBe(true);
    });
  }
});
