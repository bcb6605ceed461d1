/**
 * The signing matrix: inputs × keys/schemes × field kinds, each output proven by qpdf, pdfsig (with
 * the dev root trusted and the dev OCSP responder answering) and openssl cms.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateFixtures, type FixtureSet } from '../../scripts/gen-fixtures.ts';
import { CertificatePool, loadCertificates } from '../../src/pki/index.ts';
import { PdfDocument, type PdfStream } from '../../src/pdf/index.ts';
import { PadesError, signPdf, type SignPdfOptions } from '../../src/pades/index.ts';
import { chainFor } from '../../src/services/signDocument.ts';
import type { Pkcs11Token } from '../../src/signers/index.ts';
import { DEV_PATHS, openDevToken } from '../support/hsm.ts';
import { startOcspResponder, type OcspResponder } from '../support/ocspResponder.ts';
import { classicPdf } from '../support/classicPdf.ts';
import { SoftSigner } from '../support/softSigner.ts';
import { opensslCmsPrint, opensslCmsVerify, pdfsig, qpdfCheck, rawSignatures } from '../support/pdfTools.ts';

const CORPUS = path.resolve(DEV_PATHS.root, '..', 'shared', 'corpus');

let token: Pkcs11Token;
let ocsp: OcspResponder;
let fixtures: FixtureSet;
let pool: CertificatePool;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'chungthuc-sign-'));

beforeAll(async () => {
  fixtures = generateFixtures(path.join(tmp, 'fixtures'));
  token = await openDevToken({ poolSize: 2 });
  ocsp = await startOcspResponder();
  pool = new CertificatePool([...loadCertificates(DEV_PATHS.chainPem)]);
});
afterAll(async () => {
  await ocsp?.stop();
  await token?.close();
  rmSync(tmp, { recursive: true, force: true });
});

type KeyCase = { label: string; scheme: SignPdfOptions['scheme']; name: string };
const KEYS: KeyCase[] = [
  { label: 'officer1', scheme: 'RSASSA-PKCS1-v1_5', name: 'RSA' },
  { label: 'officer1', scheme: 'RSASSA-PSS', name: 'RSA-PSS' },
  { label: 'officer2', scheme: 'ECDSA', name: 'ECDSA' },
];
type Mode = 'invisible-approval' | 'visible-approval' | 'certification';
const MODES: Mode[] = ['invisible-approval', 'visible-approval', 'certification'];

async function sign(input: string, output: string, key: KeyCase, mode: Mode, extra: Partial<SignPdfOptions> = {}) {
  const signer = await token.getSigner(key.label);
  return signPdf({ path: input }, { path: output }, {
    signer,
    chain: chainFor(signer.certificate!, pool),
    scheme: key.scheme,
    reason: 'Chứng thực bản sao đúng với bản chính',
    location: 'Thanh Hóa',
    certify: mode === 'certification' ? 2 : undefined,
    field:
      mode === 'visible-approval'
        ? { rect: [40, 40, 300, 120], appearance: { lines: [{ text: 'Ký bởi: Nguyễn Văn An', bold: true }, { text: 'Địa điểm: Thanh Hóa' }] } }
        : undefined,
    ...extra,
  });
}

/** A one-page PDF with an empty signature field "Approval" whose seed value dictionary is `sv` (object 5). */
const seeded = (sv: string) =>
  classicPdf([
    '<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [4 0 R] >> >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Annots [4 0 R] >>',
    '<< /FT /Sig /T (Approval) /Type /Annot /Subtype /Widget /Rect [0 0 0 0] /P 3 0 R /F 132 /SV 5 0 R >>',
    sv,
  ]);

/** A text string in UTF-16BE with its BOM (§7.9.2.2), as a hex string: classicPdf writes latin1. */
const utf16 = (t: string) => `<FEFF${Buffer.from(t, 'utf16le').swap16().toString('hex')}>`;

/** Every check an output must pass; `expected` signatures, the last one covering the whole file. */
function proveOutput(file: string, original: string, expected: number) {
  const q = qpdfCheck(file);
  expect(q.warnings, q.output).toEqual([]);
  expect(q.ok, q.output).toBe(true);
  // Earlier bytes untouched.
  const before = readFileSync(original);
  expect(readFileSync(file).subarray(0, before.length).equals(before)).toBe(true);
  const sigs = pdfsig(file);
  const ours = sigs.slice(-expected);
  for (const s of ours) {
    expect(s.signatureStatus).toBe('Signature is Valid.');
    expect(s.certificateStatus).toBe('Certificate is Trusted.');
  }
  expect(sigs.at(-1)?.total).toBe(true);
  const raws = rawSignatures(file).slice(-expected);
  for (const raw of raws) {
    const v = opensslCmsVerify(file, raw);
    expect(v.ok, v.output).toBe(true);
  }
  return sigs;
}

const INPUTS: Array<keyof FixtureSet> = ['classic', 'objstm', 'hybrid', 'linearized', 'incremental', 'pdf13', 'pdf20', 'forms', 'pdfa'];

describe('PAdES B-B signing through the HSM', () => {
  for (const input of INPUTS) {
    for (const key of KEYS) {
      for (const mode of MODES) {
        it(`${input} × ${key.name} × ${mode}`, async () => {
          const out = path.join(tmp, `${input}-${key.name}-${mode}.pdf`);
          const r = await sign(fixtures[input], out, key, mode);
          const sigs = proveOutput(out, fixtures[input], 1);
          expect(sigs.at(-1)?.subFilter).toBe('ETSI.CAdES.detached');
          expect(sigs.at(-1)?.signerCommonName).toBe(new X509Certificate((await token.getSigner(key.label)).certificate!).subject.split('\n').find((l) => l.startsWith('CN='))!.slice(3));
          // The update keeps the original's xref kind (ISO 32000-1 §7.5.6).
          const doc = PdfDocument.open(out);
          try {
            const orig = PdfDocument.open(fixtures[input]);
            expect(doc.revisions.at(-1)!.xrefKind).toBe(orig.revisions.at(-1)!.xrefKind);
            orig.close();
            const field = doc.signatureFields().find((f) => f.name === r.fieldName)!;
            expect(field.value?.getName('SubFilter')).toBe('ETSI.CAdES.detached');
            expect(field.value?.get('M')).toBeDefined();
            if (mode === 'certification') expect(doc.resolveDict(doc.catalog.get('Perms'))?.has('DocMDP')).toBe(true);
            if (mode === 'visible-approval') expect(field.widgets[0]?.dict.has('AP')).toBe(true);
            // A PDF/A declaration (catalog /Metadata) survives the update.
            if (input === 'pdfa') expect(doc.resolve(doc.catalog.get('Metadata'))).toBeDefined();
          } finally {
            doc.close();
          }
        });
      }
    }
  }

  it('writes the CMS that EN 319 142-1 asks for: no signing-time, signing-certificate-v2, chain included', async () => {
    const out = path.join(tmp, 'attrs.pdf');
    await sign(fixtures.classic, out, KEYS[0]!, 'invisible-approval');
    const printed = opensslCmsPrint(rawSignatures(out)[0]!.contents);
    expect(printed).not.toMatch(/signingTime/);
    expect(printed).toMatch(/id-smime-aa-signingCertificateV2|signingCertificateV2/);
    expect(printed).toMatch(/messageDigest/);
    expect(printed).toMatch(/Chungthuc Dev Issuing CA/);
    expect(printed).toMatch(/Chungthuc Dev Root CA/);
    // Detached (ETSI.CAdES.detached): the signed content is the ByteRange, not inside the CMS.
    expect(printed).toMatch(/eContent: <ABSENT>/);
  });

  it('also writes adbe.pkcs7.detached for legacy consumers', async () => {
    const out = path.join(tmp, 'legacy.pdf');
    await sign(fixtures.classic, out, KEYS[0]!, 'invisible-approval', { subFilter: 'adbe.pkcs7.detached' });
    const sigs = proveOutput(out, fixtures.classic, 1);
    expect(sigs[0]?.subFilter).toBe('adbe.pkcs7.detached');
  });

  it('draws a visible signature upright on a turned page (/Rotate 90): laid out at the size the reader sees, turned back by the form /Matrix', async () => {
    const out = path.join(tmp, 'rotated-visible.pdf');
    // forms.pdf's page 2 inherits /Rotate 90; the rect is tall in user space, wide on screen.
    await sign(fixtures.forms, out, KEYS[0]!, 'invisible-approval', {
      field: { page: 2, rect: [5, 60, 95, 290], appearance: { lines: [{ text: 'Ký bởi: Nguyễn Văn An', bold: true }, { text: 'Thời gian: 30/11/2026' }] } },
    });
    proveOutput(out, fixtures.forms, 1);
    const doc = PdfDocument.open(out);
    try {
      expect(doc.findPage(1)?.rotate).toBe(90);
      const field = doc.signatureFields().at(-1)!;
      const widget = doc.resolveDict(field.widgets[0]!.ref ?? undefined) ?? field.dict;
      const form = doc.resolve(doc.resolveDict(widget.get('AP'))?.get('N')) as PdfStream;
      const nums = (k: string) => (doc.resolve(form.dict.get(k)) as unknown[]).map((x) => Number(doc.resolve(x as never)));
      expect(nums('BBox')).toEqual([0, 0, 230, 90]); // the seen box: 230 wide, 90 high
      expect(nums('Matrix')).toEqual([0, 1, -1, 0, 0, 0]);
    } finally {
      doc.close();
    }
  });

  it('signs with SHA-384 and SHA-512', async () => {
    for (const digestAlgorithm of ['SHA-384', 'SHA-512'] as const) {
      const out = path.join(tmp, `digest-${digestAlgorithm}.pdf`);
      await sign(fixtures.objstm, out, KEYS[2]!, 'invisible-approval', { digestAlgorithm });
      const sigs = proveOutput(out, fixtures.objstm, 1);
      expect(sigs[0]?.hash).toBe(digestAlgorithm);
    }
  });

  it('signs an existing empty field, honouring its FieldMDP lock', async () => {
    const out = path.join(tmp, 'existing-field.pdf');
    const r = await sign(fixtures.forms, out, KEYS[0]!, 'invisible-approval', { field: { fieldName: 'grp.inner' } });
    expect(r.fieldName).toBe('grp.inner');
    proveOutput(out, fixtures.forms, 1);
    const doc = PdfDocument.open(out);
    const field = doc.signatureFields().find((f) => f.name === 'grp.inner')!;
    const refs = doc.resolve(field.value!.get('Reference'));
    const methods = Array.isArray(refs) ? refs.map((x) => doc.resolveDict(x)?.getName('TransformMethod')) : [];
    doc.close();
    expect(methods).toContain('FieldMDP');
    // grp.inner's lock (/Action /All) now covers Sig1: signing it would break grp.inner's signature.
    await expect(sign(out, path.join(tmp, 'locked-field.pdf'), KEYS[1]!, 'invisible-approval', { field: { fieldName: 'Sig1' } })).rejects.toMatchObject({
      code: 'field-locked',
      status: 409,
    });
    // A new field is not covered by the lock: signing there keeps both signatures valid.
    const next = path.join(tmp, 'after-lock.pdf');
    await sign(out, next, KEYS[1]!, 'invisible-approval');
    expect(proveOutput(next, out, 2).map((x) => x.signatureValid)).toEqual([true, true]);
  });

  it('names a new field apart from every form field (ISO 32000-1 §12.7.3.2), not only from signature fields', async () => {
    // A text field already called "Signature1": a signature field of that name would be the same field.
    const input = path.join(tmp, 'text-field.pdf');
    writeFileSync(input, classicPdf([
      '<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [4 0 R] >> >>',
      '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
      '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Annots [4 0 R] >>',
      '<< /FT /Tx /T (Signature1) /V (hello) /Type /Annot /Subtype /Widget /Rect [50 700 250 720] /P 3 0 R /F 4 >>',
    ]));
    const out = path.join(tmp, 'text-field-signed.pdf');
    const r = await sign(input, out, KEYS[0]!, 'invisible-approval');
    expect(r.fieldName).toBe('Signature2');
    proveOutput(out, input, 1);
    // qpdf reads the form on its own: every fully qualified name once, the text field untouched.
    const form = JSON.parse(execFileSync('qpdf', ['--json', '--json-key=acroform', out], { encoding: 'utf8' })) as {
      acroform: { fields: Array<{ fullname: string; fieldtype: string }> };
    };
    const names = form.acroform.fields.map((f) => `${f.fullname} ${f.fieldtype}`);
    expect(names.sort()).toEqual(['Signature1 /Tx', 'Signature2 /Sig']);
    // Asked by name: the text field's name is refused, and so is a partial name with a period.
    await expect(sign(input, path.join(tmp, 'taken.pdf'), KEYS[0]!, 'invisible-approval', { field: { fieldName: 'Signature1' } })).rejects.toMatchObject({
      code: 'field-name-taken',
      status: 409,
    });
    await expect(sign(input, path.join(tmp, 'dotted.pdf'), KEYS[0]!, 'invisible-approval', { field: { fieldName: 'a.b' } })).rejects.toMatchObject({
      code: 'invalid-parameters',
      status: 400,
    });
  });

  it("honours an existing field's required seed values (ISO 32000-1 §12.7.4.5): refuses what they forbid, signs what they ask for", async () => {
    // /Ff 74 = SubFilter (2) + Reasons (8) + DigestMethod (64) are required constraints.
    const reason = utf16('Đồng ý');
    const input = path.join(tmp, 'seed-values.pdf');
    writeFileSync(input, seeded(`<< /Type /SV /Ff 74 /SubFilter [/adbe.pkcs7.detached] /Reasons [${reason}] /DigestMethod [/SHA384] >>`));
    const field = { fieldName: 'Approval' };
    const refused = (extra: Partial<SignPdfOptions>) => sign(input, path.join(tmp, 'seed-refused.pdf'), KEYS[0]!, 'invisible-approval', { field, ...extra });
    // sign() passes its own reason; each case changes one thing away from what the field asks.
    await expect(refused({ reason: 'Đồng ý', digestAlgorithm: 'SHA-384' })).rejects.toMatchObject({ code: 'field-seed-value', status: 409 });
    await expect(refused({ subFilter: 'adbe.pkcs7.detached', reason: 'Đồng ý' })).rejects.toMatchObject({ code: 'field-seed-value' });
    await expect(refused({ subFilter: 'adbe.pkcs7.detached', digestAlgorithm: 'SHA-384' })).rejects.toMatchObject({ code: 'field-seed-value' });
    const out = path.join(tmp, 'seed-signed.pdf');
    await sign(input, out, KEYS[0]!, 'invisible-approval', { field, subFilter: 'adbe.pkcs7.detached', reason: 'Đồng ý', digestAlgorithm: 'SHA-384' });
    const sigs = proveOutput(out, input, 1);
    expect(sigs[0]).toMatchObject({ field: 'Approval', subFilter: 'adbe.pkcs7.detached', hash: 'SHA-384' });
    // The same entries as optional constraints (no /Ff) are only suggestions: the defaults still sign.
    const optional = path.join(tmp, 'seed-optional.pdf');
    writeFileSync(optional, seeded(`<< /Type /SV /SubFilter [/adbe.pkcs7.detached] /Reasons [${reason}] /DigestMethod [/SHA384] >>`));
    await sign(optional, path.join(tmp, 'seed-optional-signed.pdf'), KEYS[0]!, 'invisible-approval', { field });
    // /MDP /P 0: the field is for an approval signature, never a certification.
    const approvalOnly = path.join(tmp, 'seed-mdp.pdf');
    writeFileSync(approvalOnly, seeded('<< /Type /SV /MDP << /P 0 >> >>'));
    await expect(sign(approvalOnly, path.join(tmp, 'seed-mdp-signed.pdf'), KEYS[0]!, 'certification', { field })).rejects.toMatchObject({ code: 'field-seed-value' });
  });

  it('honours the /TimeStamp and /Cert seed values when they are required: the time-stamp, the certificate, its issuer, policy, subject and key usage', async () => {
    const der = (file: string) => new X509Certificate(readFileSync(file)).raw.toString('hex');
    const officer1 = der(path.join(DEV_PATHS.certsDir, 'officer1.pem'));
    const officer2 = der(path.join(DEV_PATHS.certsDir, 'officer2.pem'));
    const issuing = der(DEV_PATHS.issuingCaPem);
    const root = der(DEV_PATHS.rootCaPem);
    let n = 0;
    /** Signs (officer1, RSA) into a field whose /SV is `sv`; resolves with the field name or rejects. */
    const attempt = async (sv: string, extra: Partial<SignPdfOptions> = {}) => {
      const input = path.join(tmp, `seed-cert-${++n}.pdf`);
      writeFileSync(input, seeded(sv));
      return (await sign(input, path.join(tmp, `seed-cert-${n}-signed.pdf`), KEYS[0]!, 'invisible-approval', { field: { fieldName: 'Approval' }, ...extra })).fieldName;
    };
    const refusal = { code: 'field-seed-value', status: 409 };

    // /TimeStamp /Ff 1: refused when the caller says no time-stamp comes; signed when one does.
    await expect(attempt('<< /Type /SV /TimeStamp << /URL (http://tsa.example/) /Ff 1 >> >>', { timestamped: false })).rejects.toMatchObject(refusal);
    await expect(attempt('<< /Type /SV /TimeStamp << /URL (http://tsa.example/) /Ff 1 >> >>', { timestamped: true })).resolves.toBe('Approval');
    await expect(attempt('<< /Type /SV /TimeStamp << /URL (http://tsa.example/) /Ff 0 >> >>', { timestamped: false })).resolves.toBe('Approval');

    // /Subject (Ff 1): the signing certificate must be one of them.
    await expect(attempt(`<< /Type /SV /Cert << /Ff 1 /Subject [<${officer2}>] >> >>`)).rejects.toMatchObject(refusal);
    await expect(attempt(`<< /Type /SV /Cert << /Ff 1 /Subject [<${officer2}> <${officer1}>] >> >>`)).resolves.toBe('Approval');
    // Only a hint without the bit.
    await expect(attempt(`<< /Type /SV /Cert << /Subject [<${officer2}>] >> >>`)).resolves.toBe('Approval');
    // /Issuer (Ff 2): the issuing CA or the root up the chain; not the signer's own certificate.
    await expect(attempt(`<< /Type /SV /Cert << /Ff 2 /Issuer [<${issuing}>] >> >>`)).resolves.toBe('Approval');
    await expect(attempt(`<< /Type /SV /Cert << /Ff 2 /Issuer [<${root}>] >> >>`)).resolves.toBe('Approval');
    await expect(attempt(`<< /Type /SV /Cert << /Ff 2 /Issuer [<${officer2}>] >> >>`)).rejects.toMatchObject(refusal);
    // /OID (Ff 4): the dev certificates carry no certificatePolicies.
    await expect(attempt(`<< /Type /SV /Cert << /Ff 6 /Issuer [<${issuing}>] /OID [(2.16.704.1.2.1)] >> >>`)).rejects.toMatchObject(refusal);
    // /SubjectDN (Ff 8): every attribute of one entry, Vietnamese included.
    await expect(attempt(`<< /Type /SV /Cert << /Ff 8 /SubjectDN [<< /CN ${utf16('Nguyễn Văn An')} /C (VN) >>] >> >>`)).resolves.toBe('Approval');
    await expect(attempt(`<< /Type /SV /Cert << /Ff 8 /SubjectDN [<< /CN ${utf16('Trần Văn Bình')} >> << /2.5.4.6 (US) >>] >> >>`)).rejects.toMatchObject(refusal);
    // /KeyUsage (Ff 32): digitalSignature and nonRepudiation set, keyCertSign clear.
    await expect(attempt('<< /Type /SV /Cert << /Ff 32 /KeyUsage [(11XXX0XXX)] >> >>')).resolves.toBe('Approval');
    await expect(attempt('<< /Type /SV /Cert << /Ff 32 /KeyUsage [(1X1XXXXXX) (XXXXX1XXX)] >> >>')).rejects.toMatchObject(refusal);
  });

  it('/Cert with a software signer whose certificate has policies and an escaped subject: OID, SubjectDN by OID and any case, KeyUsage "X" stand-ins', async () => {
    const dir = path.join(tmp, 'cert-sv');
    mkdirSync(dir, { recursive: true });
    const at = (f: string) => path.join(dir, f);
    // A small CA, and a leaf from it with a certificate policy and a comma in its common name.
    writeFileSync(at('ca.cnf'), '[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = SV test CA\n[ca]\nbasicConstraints = critical, CA:TRUE\nkeyUsage = critical, keyCertSign, cRLSign\n');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', at('ca.key'), '-days', '2', '-config', at('ca.cnf'), '-extensions', 'ca', '-out', at('ca.pem')], { stdio: 'ignore' });
    writeFileSync(at('leaf.cnf'), '[req]\ndistinguished_name = dn\nprompt = no\nutf8 = yes\n[dn]\nC = VN\nO = Sở Tư pháp\nCN = Doe, John\n');
    writeFileSync(at('leaf.ext'), 'keyUsage = critical, digitalSignature\ncertificatePolicies = 2.16.704.1.2.1\n');
    execFileSync('openssl', ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-utf8', '-keyout', at('k.pem'), '-config', at('leaf.cnf'), '-out', at('leaf.csr')], { stdio: 'ignore' });
    execFileSync('openssl', ['x509', '-req', '-in', at('leaf.csr'), '-CA', at('ca.pem'), '-CAkey', at('ca.key'), '-set_serial', '7', '-days', '2', '-extfile', at('leaf.ext'), '-out', at('c.pem')], { stdio: 'ignore' });
    const pem = at('c.pem');
    const der = new Uint8Array(new X509Certificate(readFileSync(pem)).raw);
    const caDer = new Uint8Array(new X509Certificate(readFileSync(at('ca.pem'))).raw);
    const signer = new SoftSigner({ key: { label: 'soft', id: '01', keyType: 'RSA', bits: 2048 }, certificate: der, keyPath: at('k.pem'), certificatePath: pem, privateKey: createPrivateKey(readFileSync(at('k.pem'))) });
    const hex = Buffer.from(caDer).toString('hex');
    let n = 0;
    const attempt = async (sv: string) => {
      const input = path.join(dir, `in-${++n}.pdf`);
      writeFileSync(input, seeded(sv));
      return (await signPdf({ path: input }, { path: path.join(dir, `out-${n}.pdf`) }, { signer, chain: [caDer], field: { fieldName: 'Approval' } })).fieldName;
    };
    const refusal = { code: 'field-seed-value' };
    // /OID with its /Issuer (the test CA): the asserted policy passes, another is refused.
    await expect(attempt(`<< /Type /SV /Cert << /Ff 6 /Issuer [<${hex}>] /OID [(2.16.704.1.2.1)] >> >>`)).resolves.toBe('Approval');
    await expect(attempt(`<< /Type /SV /Cert << /Ff 6 /Issuer [<${hex}>] /OID [(2.16.704.1.9.9)] >> >>`)).rejects.toMatchObject(refusal);
    // /OID without /Issuer is not to be used (Table 235): ignored.
    await expect(attempt('<< /Type /SV /Cert << /Ff 4 /OID [(2.16.704.1.9.9)] >> >>')).resolves.toBe('Approval');
    // /SubjectDN: a comma in the value, keys by OID or in lower case, values in any case.
    await expect(attempt('<< /Type /SV /Cert << /Ff 8 /SubjectDN [<< /2.5.4.3 (Doe, John) /c (vn) >>] >> >>')).resolves.toBe('Approval');
    await expect(attempt(`<< /Type /SV /Cert << /Ff 8 /SubjectDN [<< /cn (doe,  john) /O ${utf16('Sở Tư pháp')} >>] >> >>`)).resolves.toBe('Approval');
    await expect(attempt('<< /Type /SV /Cert << /Ff 8 /SubjectDN [<< /2.5.4.3 (Doe) >> << /CN (Doe, John) /C (US) >>] >> >>')).rejects.toMatchObject(refusal);
    // /KeyUsage: characters other than 0 and 1 stand for "either".
    await expect(attempt('<< /Type /SV /Cert << /Ff 32 /KeyUsage [(1x-??????)] >> >>')).resolves.toBe('Approval');
    await expect(attempt('<< /Type /SV /Cert << /Ff 32 /KeyUsage [(01xxxxxxx)] >> >>')).rejects.toMatchObject(refusal);
  });

  it('keeps every earlier signature valid: officer, then seal, then a third signer', async () => {
    const a = path.join(tmp, 'seq-1.pdf');
    const b = path.join(tmp, 'seq-2.pdf');
    const c = path.join(tmp, 'seq-3.pdf');
    await sign(fixtures.objstm, a, KEYS[0]!, 'certification');
    await sign(a, b, { label: 'seal', scheme: 'RSASSA-PKCS1-v1_5', name: 'seal' }, 'visible-approval', {
      field: { page: 2, rect: [10, 10, 90, 90], appearance: { lines: [{ text: 'Con dấu' }] } },
    });
    await sign(b, c, KEYS[2]!, 'invisible-approval');
    const sigs = proveOutput(c, b, 3);
    expect(sigs.map((s) => s.signatureValid)).toEqual(sigs.map(() => true));
    expect(sigs.filter((s) => s.total)).toHaveLength(1);
    expect(pdfsig(b).at(-1)?.total).toBe(true);
  });

  it('refuses a second certification signature and any signature on a P=1 document', async () => {
    const once = path.join(tmp, 'cert-once.pdf');
    await sign(fixtures.classic, once, KEYS[0]!, 'certification');
    await expect(sign(once, path.join(tmp, 'cert-twice.pdf'), KEYS[0]!, 'certification')).rejects.toMatchObject({ code: 'certification-not-first' });
    const locked = path.join(tmp, 'cert-p1.pdf');
    await sign(fixtures.classic, locked, KEYS[0]!, 'invisible-approval', { certify: 1 });
    const err = await sign(locked, path.join(tmp, 'after-p1.pdf'), KEYS[0]!, 'invisible-approval').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PadesError);
    expect((err as PadesError).code).toBe('document-certified-no-changes');
  });

  it('refuses encrypted input with a clear code', async () => {
    await expect(sign(fixtures.encrypted, path.join(tmp, 'enc.pdf'), KEYS[0]!, 'invisible-approval')).rejects.toMatchObject({ code: 'pdf-encrypted' });
  });

  it('signs in memory as well as file to file', async () => {
    const signer = await token.getSigner('officer2');
    const r = await signPdf({ bytes: readFileSync(fixtures.classic) }, { memory: true }, { signer, chain: chainFor(signer.certificate!, pool) });
    const out = path.join(tmp, 'memory.pdf');
    writeFileSync(out, r.bytes!);
    proveOutput(out, fixtures.classic, 1);
  });

  const corpusInputs = ['intact/signpdf-signed.pdf', 'intact-multi/signpdf-signed-twice.pdf', 'intact/qpdf-digitally-signed.pdf', 'intact-ltv/dss-pades-ltv.pdf'];
  for (const rel of corpusInputs) {
    it(`adds a signature to the corpus file ${rel} keeping earlier signatures intact`, async () => {
      const input = path.join(tmp, path.basename(rel));
      copyFileSync(path.join(CORPUS, rel), input);
      const before = pdfsig(input);
      const out = path.join(tmp, `signed-${path.basename(rel)}`);
      await sign(input, out, KEYS[2]!, 'invisible-approval');
      const q = qpdfCheck(out);
      const origQ = qpdfCheck(input);
      // qpdf may already warn about the original; the update must add no new warning.
      expect(q.warnings.length).toBeLessThanOrEqual(origQ.warnings.length);
      const after = pdfsig(out);
      expect(after).toHaveLength(before.length + 1);
      for (let i = 0; i < before.length; i++) expect(after[i]?.signatureStatus).toBe(before[i]?.signatureStatus);
      expect(after.at(-1)).toMatchObject({ signatureStatus: 'Signature is Valid.', certificateStatus: 'Certificate is Trusted.', total: true });
    });
  }
});
