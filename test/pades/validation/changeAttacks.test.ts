/**
 * Attacks on the change analysis (review findings 1, 5 and 6): an incremental update after a
 * signature that changes what the signed pages show must never be an allowed change, whatever
 * container (object stream) or side role (empty signature field, DSS, XMP metadata, /Info, a
 * widget's own appearance) it hides behind. Every attack file is built here from a small hand-written
 * PDF, signed with the dev HSM, and validated against the dev root; each comes with the honest case
 * that must stay allowed.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateFixtures, type FixtureSet } from '../../../scripts/gen-fixtures.ts';
import { CertificatePool, loadCertificates } from '../../../src/pki/index.ts';
import {
  IncrementalUpdate,
  PdfDict,
  PdfDocument,
  PdfRef,
  PdfStream,
  PdfString,
  name,
  serialize,
  type BuildOptions,
  type PdfValue,
} from '../../../src/pdf/index.ts';
import { addToDss } from '../../../src/pades/dss.ts';
import { analyseRevision } from '../../../src/pades/validation/changeAnalysis.ts';
import { signPdf, type SignPdfOptions } from '../../../src/pades/index.ts';
import { chainFor } from '../../../src/services/signDocument.ts';
import type { Pkcs11Token } from '../../../src/signers/index.ts';
import { parsePolicy, validatePdf, type ChangeReport, type ValidationPolicy, type ValidationReport } from '../../../src/pades/validation/index.ts';
import { DEV_PATHS, openDevToken, readPemDer } from '../../support/hsm.ts';
import { run } from '../../pdf/helpers.ts';

let token: Pkcs11Token;
let fixtures: FixtureSet;
let pool: CertificatePool;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'chungthuc-change-attacks-'));
const anchors = loadCertificates(DEV_PATHS.rootCaPem);
const policy: ValidationPolicy = parsePolicy({ name: 'test-no-revocation', revocation: { required: false } });
const enc = (s: string) => new TextEncoder().encode(s);

beforeAll(async () => {
  fixtures = generateFixtures(path.join(tmp, 'fixtures'));
  token = await openDevToken({ poolSize: 2 });
  pool = new CertificatePool([...loadCertificates(DEV_PATHS.chainPem)]);
});
afterAll(async () => {
  await token?.close();
  rmSync(tmp, { recursive: true, force: true });
});

async function sign(bytes: Uint8Array, extra: Partial<SignPdfOptions> = {}): Promise<Uint8Array> {
  const signer = await token.getSigner('officer1');
  const r = await signPdf({ bytes }, { memory: true }, { signer, chain: chainFor(signer.certificate!, pool), ...extra });
  return r.bytes!;
}

const validate = (bytes: Uint8Array): Promise<ValidationReport> => validatePdf({ bytes }, { policy, trustAnchors: anchors });

/** Appends one incremental update made by `edit`. */
function update(bytes: Uint8Array, edit: (u: IncrementalUpdate, doc: PdfDocument) => BuildOptions | void): Uint8Array {
  const doc = PdfDocument.open(bytes);
  const u = new IncrementalUpdate(doc);
  const r = u.build(edit(u, doc) ?? {});
  const out = new Uint8Array(bytes.length + r.bytes.length);
  out.set(bytes);
  out.set(r.bytes, bytes.length);
  return out;
}

/** A small PDF written by hand: numbered object bodies (1 = catalog), classic xref. */
function handMade(bodies: string[], trailerExtra = ''): Uint8Array {
  let out = '%PDF-1.7\n%\xe2\xe3\xcf\xd3\n';
  const offsets: number[] = [];
  bodies.forEach((b, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${b}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${bodies.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  out += `trailer\n<< /Size ${bodies.length + 1} /Root 1 0 R ${trailerExtra}>>\nstartxref\n${xref}\n%%EOF\n`;
  return new Uint8Array(Buffer.from(out, 'latin1'));
}

const streamBody = (dict: string, data: string) => `<< ${dict} /Length ${data.length} >>\nstream\n${data}\nendstream`;
const SIGNED_TEXT = 'BT /F1 24 Tf 72 700 Td (Pay 100 VND) Tj ET';

/** Objects 1–5: catalog, pages, page (content 4, font 5), content, font; `opts` adds to them. */
function onePage(opts: { catalog?: string; page?: string; contents?: string; contentDict?: string; more?: string[] } = {}, trailerExtra = ''): Uint8Array {
  return handMade(
    [
      `<< /Type /Catalog /Pages 2 0 R ${opts.catalog ?? ''}>>`,
      '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents ${opts.contents ?? '4 0 R'} ${opts.page ?? ''}>>`,
      streamBody(opts.contentDict ?? '', SIGNED_TEXT),
      '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
      ...(opts.more ?? []),
    ],
    trailerExtra,
  );
}

const analysed = (r: ValidationReport) => r.revisions.filter((x) => x.analysed);
const changeOf = (r: ValidationReport, num: number): ChangeReport | undefined =>
  r.revisions.flatMap((x) => x.changes).find((c) => c.object === `${num} 0 R`);
const describeChanges = (r: ValidationReport) => JSON.stringify(analysed(r).map((x) => x.changes));

function expectFlagged(r: ValidationReport, num: number): void {
  const c = changeOf(r, num);
  expect(c, describeChanges(r)).toBeDefined();
  expect(c?.allowed, describeChanges(r)).toBe(false);
  expect(analysed(r).at(-1)?.verdict).toBe('not-allowed');
  expect(r.signatures[0]?.checks.find((x) => x.name === 'modifications')?.status).toBe('failed');
  expect(r.documentIndication).not.toBe('TOTAL-PASSED');
}

function expectAllowed(r: ValidationReport): void {
  for (const x of analysed(r)) expect(x.verdict, describeChanges(r)).toBe('allowed');
  for (const s of r.signatures) expect(s.indication, JSON.stringify(s.checks.filter((c) => c.status !== 'passed'))).toBe('TOTAL-PASSED');
  expect(r.documentIndication).toBe('TOTAL-PASSED');
}

const copyDict = (d: PdfDict, set: Record<string, PdfValue>): PdfDict => {
  const out = new PdfDict();
  for (const [k, v] of d.entries()) out.set(k, v);
  for (const [k, v] of Object.entries(set)) out.set(k, v);
  return out;
};

describe('change analysis: object streams (finding 1)', () => {
  /** The classic one-page fixture with its non-stream objects moved into an object stream by qpdf, signed. */
  async function signedWithObjectStreams(): Promise<Uint8Array> {
    const packed = path.join(tmp, `packed-${Math.random().toString(36).slice(2)}.pdf`);
    const r = run('qpdf', ['--object-streams=generate', fixtures.classic, packed]);
    expect([0, 3]).toContain(r.status);
    return sign(new Uint8Array(readFileSync(packed)));
  }

  /** An update that only redefines object stream `stm`, re-writing its members through `change`. */
  function rewriteObjectStream(signed: Uint8Array, stm: number, change: (num: number, v: PdfValue) => PdfValue): Uint8Array {
    return update(signed, (u, doc) => {
      const members: Array<[number, number]> = [];
      for (const num of doc.objectNumbers()) {
        const e = doc.entry(num);
        if (e?.type === 'compressed' && e.stream === stm) members.push([e.index, num]);
      }
      members.sort((a, b) => a[0] - b[0]);
      let header = '';
      let body = '';
      for (const [, num] of members) {
        header += `${num} ${body.length} `;
        body += `${Buffer.from(serialize(change(num, doc.getObject(num)))).toString('latin1')}\n`;
      }
      const data = `${header}\n${body}`;
      u.setObject(stm, new PdfStream(new PdfDict({ Type: name('ObjStm'), N: members.length, First: header.length + 1 }), enc(data)));
    });
  }

  /** Object number of the page's font and of the object stream holding it. */
  function fontInStream(signed: Uint8Array): { font: number; stm: number; pages: number } {
    const doc = PdfDocument.open(signed);
    const font = doc.resolveDict(doc.getPage(0).resources?.get('Font'))?.get('F1') as PdfRef;
    const e = doc.entry(font.num);
    if (e?.type !== 'compressed') throw new Error('the font is not in an object stream');
    return { font: font.num, stm: e.stream, pages: (doc.catalog.get('Pages') as PdfRef).num };
  }

  it('a font changed only inside a redefined object stream is a disallowed change', async () => {
    const signed = await signedWithObjectStreams();
    expectAllowed(await validate(signed));
    const { font, stm } = fontInStream(signed);
    // Glyph remapping: every "1" of the signed text is drawn as "9".
    const attacked = rewriteObjectStream(signed, stm, (num, v) =>
      num === font && v instanceof PdfDict
        ? copyDict(v, { Encoding: new PdfDict({ Type: name('Encoding'), BaseEncoding: name('WinAnsiEncoding'), Differences: [49, name('nine')] }) })
        : v,
    );
    expect(PdfDocument.open(attacked).revisions.at(-1)?.objectNumbers.has(font)).toBe(false); // only the stream is listed
    expectFlagged(await validate(attacked), font);
  });

  it('a page-tree node changed only inside a redefined object stream is a disallowed change', async () => {
    const signed = await signedWithObjectStreams();
    const { stm, pages } = fontInStream(signed);
    const doc = PdfDocument.open(signed);
    if (doc.entry(pages)?.type !== 'compressed') throw new Error('the /Pages node is not in an object stream');
    const attacked = rewriteObjectStream(signed, stm, (num, v) => (num === pages && v instanceof PdfDict ? copyDict(v, { Rotate: 180 }) : v));
    const r = await validate(attacked);
    expectFlagged(r, pages);
    expect(changeOf(r, pages)?.kind).toBe('page-tree');
  });

  it('an object stream rewritten with identical members stays allowed', async () => {
    const signed = await signedWithObjectStreams();
    const { stm } = fontInStream(signed);
    const r = await validate(rewriteObjectStream(signed, stm, (_num, v) => v));
    expectAllowed(r);
    expect(analysed(r).at(-1)?.changes.some((c) => c.kind === 'unchanged-rewrite')).toBe(true);
  });

  it('a page content stream redefined as an "/ObjStm" is still compared', async () => {
    const signed = await sign(onePage());
    const attacked = update(signed, (u) => {
      u.setObject(4, new PdfStream(new PdfDict({ Type: name('ObjStm'), N: 0, First: 0 }), enc('BT /F1 24 Tf 72 700 Td (Pay 900 VND) Tj ET')));
    });
    expectFlagged(await validate(attacked), 4);
  });
});

describe('change analysis: new empty signature fields (finding 5)', () => {
  /** Adds an unsigned signature field `fieldName` on page 1, with the widget entries in `widget`. */
  function addEmptyField(signed: Uint8Array, fieldName: string, widget: (u: IncrementalUpdate) => Record<string, PdfValue>): { bytes: Uint8Array; widgetNum: () => number } {
    let num = -1;
    const bytes = update(signed, (u, doc) => {
      const page = doc.getPage(0);
      const w = u.add(new PdfDict({ Type: name('Annot'), Subtype: name('Widget'), FT: name('Sig'), T: PdfString.fromText(fieldName), P: page.ref!, ...widget(u) }));
      num = w.num;
      const p = u.edit(page.ref!.num);
      const annots = doc.resolve(p.get('Annots'));
      p.set('Annots', [...(Array.isArray(annots) ? annots : []), w]);
      const form = doc.resolveDict(doc.catalog.get('AcroForm'));
      const fields = doc.resolve(form?.get('Fields'));
      const newForm = new PdfDict({ Fields: [...(Array.isArray(fields) ? fields : []), w], SigFlags: 3 });
      const formRef = doc.catalog.get('AcroForm');
      if (formRef instanceof PdfRef) u.setObject(formRef.num, newForm);
      else u.edit(doc.catalogRef!.num).set('AcroForm', newForm);
    });
    return { bytes, widgetNum: () => num };
  }

  const opaqueCover = (u: IncrementalUpdate): PdfRef =>
    u.add(
      new PdfStream(
        new PdfDict({ Type: name('XObject'), Subtype: name('Form'), BBox: [0, 0, 612, 792] }),
        enc('q 1 1 1 rg 0 0 612 792 re f Q BT /Helvetica 24 Tf 0 g 72 700 Td (Pay 900 VND) Tj ET'),
      ),
    );

  it('an unsigned signature field whose widget paints over the page is an overlay, not allowed', async () => {
    const signed = await sign(onePage());
    const { bytes, widgetNum } = addEmptyField(signed, 'Cover', (u) => ({ Rect: [0, 0, 612, 792], F: 4, AP: new PdfDict({ N: opaqueCover(u) }) }));
    const r = await validate(bytes);
    expectFlagged(r, widgetNum());
    expect(changeOf(r, widgetNum())?.kind).toBe('annotation');
    expect(changeOf(r, widgetNum())?.reason).toContain('overlay');
  });

  it('an unsigned signature field without appearance but with /MK colours is an overlay too', async () => {
    const signed = await sign(onePage());
    const { bytes, widgetNum } = addEmptyField(signed, 'Colour', () => ({ Rect: [0, 0, 612, 792], MK: new PdfDict({ BG: [1, 1, 1] }) }));
    expectFlagged(await validate(bytes), widgetNum());
  });

  it('a NoView widget that shows on mouse-over (ToggleNoView, ISO 32000-1 Table 165) is an overlay too', async () => {
    const signed = await sign(onePage());
    const { bytes, widgetNum } = addEmptyField(signed, 'Hover', (u) => ({ Rect: [0, 0, 612, 792], F: 32 | 256, AP: new PdfDict({ N: opaqueCover(u) }) }));
    expectFlagged(await validate(bytes), widgetNum());
    // NoView alone (not printed either) draws nothing anyone sees.
    const hidden = addEmptyField(signed, 'NoView', (u) => ({ Rect: [0, 0, 612, 792], F: 32, AP: new PdfDict({ N: opaqueCover(u) }) }));
    expect(changeOf(await validate(hidden.bytes), hidden.widgetNum())).toMatchObject({ allowed: true });
  });

  it('unsigned signature fields that draw nothing stay allowed, and signing one later too', async () => {
    const signed = await sign(onePage());
    // Invisible (zero-area /Rect, no /AP), then hidden (flag 2) however large, then an empty appearance.
    const one = addEmptyField(signed, 'Later', () => ({ Rect: [0, 0, 0, 0], F: 132 }));
    const two = addEmptyField(one.bytes, 'Hidden', (u) => ({ Rect: [0, 0, 612, 792], F: 2, AP: new PdfDict({ N: opaqueCover(u) }) }));
    const three = addEmptyField(two.bytes, 'Blank', (u) => ({
      Rect: [72, 72, 272, 122],
      F: 4,
      AP: new PdfDict({ N: u.add(new PdfStream(new PdfDict({ Type: name('XObject'), Subtype: name('Form'), BBox: [0, 0, 200, 50] }), enc(' \n'))) }),
    }));
    const r = await validate(three.bytes);
    expectAllowed(r);
    for (const f of [one, two, three]) expect(changeOf(r, f.widgetNum())).toMatchObject({ kind: 'signature', allowed: true });

    const resigned = await sign(three.bytes, { field: { fieldName: 'Later' } });
    const r2 = await validate(resigned);
    expect(r2.signatures.map((s) => s.fieldName)).toEqual(['Signature1', 'Later']);
    expectAllowed(r2);
  });

  it('blank appearances as producers write them draw nothing ("% DSBlank", "q Q", a call of a blank form); a call of a painting form draws', async () => {
    const signed = await sign(onePage());
    const form = (u: IncrementalUpdate, content: string, resources?: PdfDict) =>
      u.add(new PdfStream(new PdfDict({ Type: name('XObject'), Subtype: name('Form'), BBox: [0, 0, 200, 50], ...(resources ? { Resources: resources } : {}) }), enc(content)));
    const blanks: Array<(u: IncrementalUpdate) => PdfRef> = [
      (u) => form(u, '% DSBlank\n'),
      (u) => form(u, 'q Q'),
      (u) => form(u, 'q /Inner Do Q', new PdfDict({ XObject: new PdfDict({ Inner: form(u, '% DSBlank\n') }) })),
    ];
    let bytes = signed;
    const widgets: Array<() => number> = [];
    blanks.forEach((ap, i) => {
      const f = addEmptyField(bytes, `Blank${i}`, (u) => ({ Rect: [72, 72 + 60 * i, 272, 122 + 60 * i], F: 4, AP: new PdfDict({ N: ap(u) }) }));
      bytes = f.bytes;
      widgets.push(f.widgetNum);
    });
    const r = await validate(bytes);
    expectAllowed(r);
    for (const w of widgets) expect(changeOf(r, w())).toMatchObject({ kind: 'signature', allowed: true });
    const painted = addEmptyField(signed, 'Painted', (u) => ({
      Rect: [72, 72, 272, 122],
      F: 4,
      AP: new PdfDict({ N: form(u, '/Inner Do', new PdfDict({ XObject: new PdfDict({ Inner: form(u, '0 0 200 50 re f') }) })) }),
    }));
    expectFlagged(await validate(painted.bytes), painted.widgetNum());
    // An image called by the appearance draws, whatever its bytes look like (all zeros: black).
    const imaged = addEmptyField(signed, 'Imaged', (u) => ({
      Rect: [0, 0, 612, 792],
      F: 4,
      AP: new PdfDict({
        N: form(
          u,
          'q 612 0 0 792 0 0 cm /Im0 Do Q',
          new PdfDict({
            XObject: new PdfDict({
              Im0: u.add(new PdfStream(new PdfDict({ Type: name('XObject'), Subtype: name('Image'), Width: 8, Height: 8, ColorSpace: name('DeviceGray'), BitsPerComponent: 8 }), new Uint8Array(64))),
            }),
          }),
        ),
      }),
    }));
    expectFlagged(await validate(imaged.bytes), imaged.widgetNum());
  });

  it('a new field signed in the same update, visible widget included, stays allowed', async () => {
    const signed = await sign(onePage());
    const r = await validate(await sign(signed, { field: { fieldName: 'Second', rect: [40, 40, 300, 120] } }));
    expect(r.signatures).toHaveLength(2);
    expectAllowed(r);
  });
});

describe('certified documents: the sneaky signature (SSA, Mainka et al. 2021)', () => {
  const modifications = (r: ValidationReport, i = 0) => r.signatures[i]?.checks.find((c) => c.name === 'modifications');
  const look = { lines: [{ text: 'Pay 900 VND', bold: true }], border: true };

  it('a signature field added after a certification (P=2) that draws on the page is permitted but flagged', async () => {
    const certified = await sign(onePage(), { certify: 2 });
    // An approval in between (invisible, not flagged), then the overlay.
    const approved = await sign(certified, { field: { fieldName: 'Approval' } });
    const r = await validate(await sign(approved, { field: { fieldName: 'Sneaky', rect: [0, 0, 612, 792], appearance: look } }));
    expect(r.signatures).toHaveLength(3);
    const flagged = analysed(r).flatMap((x) => x.changes).filter((c) => c.flag === 'overlay-after-certification');
    expect(flagged.length, describeChanges(r)).toBeGreaterThan(0);
    expect(flagged.every((c) => c.allowed && c.reason.includes('sneaky signature') && c.reason.includes('"Sneaky"'))).toBe(true);
    // The certification signature says so; the approval before the overlay and the signer's own
    // signature, which covers everything, do not (what was not certified concerns the certification).
    expect(modifications(r)).toMatchObject({ status: 'warning' });
    expect(modifications(r)?.detail).toContain('was not certified');
    expect(modifications(r, 1)).toMatchObject({ status: 'passed' });
    expect(modifications(r, 2)).toMatchObject({ status: 'passed' });
    expect(r.signatures.map((x) => x.indication)).toEqual(['TOTAL-PASSED', 'TOTAL-PASSED', 'TOTAL-PASSED']);
  });

  it('… also under P=3; an invisible new signature, or a visible one into a field the certification covers, is not flagged', async () => {
    const p3 = await validate(await sign(await sign(onePage(), { certify: 3 }), { field: { fieldName: 'Sneaky', rect: [40, 40, 300, 120], appearance: look } }));
    expect(modifications(p3)).toMatchObject({ status: 'warning' });

    const invisible = await validate(await sign(await sign(onePage(), { certify: 2 }), { field: { fieldName: 'Second' } }));
    expect(modifications(invisible)).toMatchObject({ status: 'passed' });
    expectAllowed(invisible);

    // A form certified with its empty field for the second signer, then signed there visibly.
    const withField = update(onePage(), (u, doc) => {
      const page = doc.getPage(0);
      const w = u.add(new PdfDict({ Type: name('Annot'), Subtype: name('Widget'), FT: name('Sig'), T: PdfString.fromText('Second'), P: page.ref!, Rect: [40, 40, 300, 120], F: 4 }));
      u.edit(page.ref!.num).set('Annots', [w]);
      u.edit(doc.catalogRef!.num).set('AcroForm', new PdfDict({ Fields: [w] }));
    });
    const planned = await validate(await sign(await sign(withField, { certify: 2 }), { field: { fieldName: 'Second', appearance: look } }));
    expect(planned.signatures.map((s) => s.fieldName)).toContain('Second');
    expect(modifications(planned)).toMatchObject({ status: 'passed' });
    expectAllowed(planned);
  });

  it('without a certification a later visible signature is the ordinary approval workflow: not flagged', async () => {
    const r = await validate(await sign(await sign(onePage()), { field: { fieldName: 'Approval', rect: [40, 40, 300, 120], appearance: look } }));
    expect(modifications(r)).toMatchObject({ status: 'passed' });
    expectAllowed(r);
  });
});

describe('change analysis: side-structure rules never approve what the pages draw (finding 6)', () => {
  /** Replaces the signed page's content stream 4 with other text (a plain content stream again). */
  const replaceContent = (bytes: Uint8Array, dict: Record<string, PdfValue> = {}) =>
    update(bytes, (u) => u.setObject(4, new PdfStream(new PdfDict(dict), enc('BT /F1 24 Tf 72 700 Td (Pay 900 VND) Tj ET'))));

  it('a content stream that also poses as the XMP metadata cannot be replaced as "metadata"', async () => {
    const signed = await sign(onePage({ catalog: '/Metadata 4 0 R ', contentDict: '/Type /Metadata /Subtype /XML' }));
    const r = await validate(replaceContent(signed, { Type: name('Metadata'), Subtype: name('XML') }));
    expectFlagged(r, 4);
    expect(changeOf(r, 4)?.kind).not.toBe('metadata');
  });

  it('a real XMP metadata stream may still be updated', async () => {
    const signed = await sign(new Uint8Array(readFileSync(fixtures.pdfa)));
    const doc = PdfDocument.open(signed);
    const md = doc.catalog.get('Metadata') as PdfRef;
    const xmp = Buffer.from((doc.getObject(md.num) as PdfStream).raw).toString('utf8').replace('</rdf:RDF>', '<rdf:Description rdf:about=""/></rdf:RDF>');
    const r = await validate(update(signed, (u) => u.setObject(md.num, new PdfStream(new PdfDict({ Type: name('Metadata'), Subtype: name('XML') }), enc(xmp)))));
    expectAllowed(r);
    expect(changeOf(r, md.num)?.kind).toBe('metadata');
  });

  it('a content stream listed in the signed DSS cannot be replaced as "DSS data"', async () => {
    const signed = await sign(onePage({ catalog: '/DSS << /Certs [4 0 R] >> ' }));
    const r = await validate(replaceContent(signed));
    expectFlagged(r, 4);
    expect(changeOf(r, 4)?.kind).not.toBe('dss');
  });

  it('only real DSS items are DSS data: an unknown object hung below /DSS is not', async () => {
    const signed = await sign(onePage());
    const cert = readPemDer(DEV_PATHS.rootCaPem);
    // The honest update (certificates through the project's own DSS writer) stays allowed.
    const withDss = update(signed, (u, doc) => addToDss(u, doc, { certs: [cert], crls: [], ocsps: [] }));
    expectAllowed(await validate(withDss));
    let extra = -1;
    const attacked = update(withDss, (u, doc) => {
      const dss = doc.resolveDict(doc.catalog.get('DSS'))!;
      extra = u.add(new PdfDict({ Foo: PdfString.fromText('not validation data') })).num;
      const next = copyDict(dss, { Foo: new PdfRef(extra, 0) });
      const ref = doc.catalog.get('DSS');
      if (ref instanceof PdfRef) u.setObject(ref.num, next);
      else u.edit(doc.catalogRef!.num).set('DSS', next);
    });
    expectFlagged(await validate(attacked), extra);
  });

  it('/Info cannot fill in a content stream the signed page refers to but did not define', async () => {
    // /Size 100 leaves 99 free: the signed page's second content stream is an undefined object.
    const signed = await sign(onePage({ contents: '[4 0 R 99 0 R]' }, '/Size 100 '));
    const attacked = update(signed, (u) => {
      u.setObject(99, new PdfStream(new PdfDict(), enc('q 1 1 1 rg 0 650 612 100 re f Q BT /F1 24 Tf 0 g 72 700 Td (Pay 900 VND) Tj ET')));
      return { info: u.add(new PdfDict({ Producer: PdfString.fromText('x'), Extra: new PdfRef(99, 0) })) };
    });
    const r = await validate(attacked);
    expectFlagged(r, 99);
    expect(changeOf(r, 99)?.kind).not.toBe('metadata');
  });

  describe('appearance streams regenerated by form filling', () => {
    // Field "Own" (widget 8) has its own appearance 9; field "Shared" (widget 6) uses stream 7, which
    // the page content also draws as the XObject /X. The page's /Annots is an indirect array (10).
    const formWithShared = () =>
      handMade([
        '<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [6 0 R 8 0 R] >> >>',
        '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
        '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> /XObject << /X 7 0 R >> >> /Contents 4 0 R /Annots 10 0 R >>',
        streamBody('', `${SIGNED_TEXT} q 1 0 0 1 72 600 cm /X Do Q`),
        '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
        '<< /Type /Annot /Subtype /Widget /FT /Tx /T (Shared) /V (a) /Rect [72 500 272 530] /P 3 0 R /F 4 /AP << /N 7 0 R >> >>',
        streamBody('/Type /XObject /Subtype /Form /BBox [0 0 200 30]', 'BT /Helv 12 Tf 2 10 Td (a) Tj ET'),
        '<< /Type /Annot /Subtype /Widget /FT /Tx /T (Own) /V (b) /Rect [72 400 272 430] /P 3 0 R /F 4 /AP << /N 9 0 R >> >>',
        streamBody('/Type /XObject /Subtype /Form /BBox [0 0 200 30]', 'BT /Helv 12 Tf 2 10 Td (b) Tj ET'),
        '[6 0 R 8 0 R]',
      ]);

    /** Fills field `widget` with `value` and rewrites its appearance stream `ap` in place. */
    const fill = (bytes: Uint8Array, widget: number, ap: number, value: string) =>
      update(bytes, (u) => {
        u.edit(widget).set('V', PdfString.fromText(value));
        u.setObject(ap, new PdfStream(new PdfDict({ Type: name('XObject'), Subtype: name('Form'), BBox: [0, 0, 200, 30] }), enc(`BT /Helv 12 Tf 2 10 Td (${value}) Tj ET`)));
      });

    it("filling a field may regenerate the widget's own appearance stream", async () => {
      const signed = await sign(formWithShared());
      const r = await validate(fill(signed, 8, 9, 'filled'));
      expectAllowed(r);
      expect(changeOf(r, 9)?.kind).toBe('form-fill');
    });

    it('filling a field cannot rewrite an appearance stream the page content also draws', async () => {
      const signed = await sign(formWithShared());
      const r = await validate(fill(signed, 6, 7, 'Pay 900 VND'));
      expectFlagged(r, 7);
      expect(changeOf(r, 6)?.allowed).toBe(true); // the field's value itself may change
    });
  });
});

describe('change analysis: comment annotations', () => {
  /** Adds a Text annotation (sticky note) to page 1 with `entries`. */
  function addNote(signed: Uint8Array, entries: (u: IncrementalUpdate) => Record<string, PdfValue>): { bytes: Uint8Array; num: () => number } {
    let num = -1;
    const bytes = update(signed, (u, doc) => {
      const page = doc.getPage(0);
      const a = u.add(new PdfDict({ Type: name('Annot'), Subtype: name('Text'), Contents: PdfString.fromText('ghi chú'), P: page.ref!, ...entries(u) }));
      num = a.num;
      const p = u.edit(page.ref!.num);
      const annots = doc.resolve(p.get('Annots'));
      p.set('Annots', [...(Array.isArray(annots) ? annots : []), a]);
    });
    return { bytes, num: () => num };
  }

  it('a sticky note the size of its icon is an allowed comment; one whose appearance covers the page is an overlay', async () => {
    const signed = await sign(onePage());
    const icon = (u: IncrementalUpdate) => u.add(new PdfStream(new PdfDict({ Type: name('XObject'), Subtype: name('Form'), BBox: [0, 0, 20, 20] }), enc('1 1 0 rg 0 0 20 20 re f')));
    const note = addNote(signed, (u) => ({ Rect: [500, 700, 520, 720], AP: new PdfDict({ N: icon(u) }) }));
    expectAllowed(await validate(note.bytes));
    const cover = (u: IncrementalUpdate) =>
      u.add(new PdfStream(new PdfDict({ Type: name('XObject'), Subtype: name('Form'), BBox: [0, 0, 612, 792] }), enc('q 1 1 1 rg 0 0 612 792 re f Q BT /Helvetica 24 Tf 0 g 72 700 Td (Pay 900 VND) Tj ET')));
    const big = addNote(signed, (u) => ({ Rect: [0, 0, 612, 792], AP: new PdfDict({ N: cover(u) }) }));
    const r = await validate(big.bytes);
    expectFlagged(r, big.num());
    expect(changeOf(r, big.num())?.reason).toContain('overlay');
  });
});

describe('the validation time limit', () => {
  it('a revision not analysed in time is not allowed: past the deadline before it, or in the middle of its objects', async () => {
    const signed = await sign(onePage());
    // An update with 100 new (harmless, unreferenced) objects and a DSS.
    const updated = update(signed, (u, doc) => {
      const items = Array.from({ length: 100 }, (_, i) => u.add(new PdfStream(new PdfDict({}), enc(`cert ${i}`))));
      u.edit(doc.catalogRef!.num).set('DSS', u.add(new PdfDict({ Type: name('DSS'), Certs: items })));
    });
    expectAllowed(await validate(updated));
    const late = await validatePdf({ bytes: updated }, { policy, trustAnchors: anchors, analysisTimeLimitMs: -1 });
    expect(late.documentIndication).not.toBe('TOTAL-PASSED');
    const stopped = late.revisions.flatMap((r) => r.changes).find((c) => c.reason.includes('time limit'));
    expect(stopped).toMatchObject({ kind: 'time-limit', allowed: false });
    // The signature says the analysis did not finish, not that the document was modified.
    const modifications = late.signatures[0]!.checks.find((c) => c.name === 'modifications')!;
    expect(modifications).toMatchObject({ status: 'failed', indication: 'INDETERMINATE' });
    expect(modifications.detail).toContain('did not finish within the validation time limit');
    // Inside the object loop (checked every 64 objects): the same answer.
    const inside = analyseRevision(updated, 2, { docMdp: null, locks: [], deadline: Date.now() - 1 });
    expect(inside).toEqual([{ object: 'revision 2', kind: 'time-limit', allowed: false, reason: expect.stringContaining('time limit') }]);
    expect(analyseRevision(updated, 2, { docMdp: null, locks: [] }).every((c) => c.allowed)).toBe(true);
  });
});
