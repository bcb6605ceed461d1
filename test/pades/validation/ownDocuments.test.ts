/**
 * Our own signatures, made with the dev HSM, validated against the dev root: untouched outputs are
 * TOTAL-PASSED, tampered copies fail or are flagged (EN 319 102-1 indications, ISO 32000-1 §12.8).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateFixtures, type FixtureSet } from '../../../scripts/gen-fixtures.ts';
import { CertificatePool, loadCertificates } from '../../../src/pki/index.ts';
import { IncrementalUpdate, PdfDict, PdfDocument, PdfRef, PdfStream, name } from '../../../src/pdf/index.ts';
import { signPdf, type SignPdfOptions } from '../../../src/pades/index.ts';
import { chainFor } from '../../../src/services/signDocument.ts';
import type { Pkcs11Token } from '../../../src/signers/index.ts';
import {
  STRICT_POLICY,
  parsePolicy,
  policyToJson,
  summarizeReport,
  validatePdf,
  type ValidationPolicy,
  type ValidationReport,
} from '../../../src/pades/validation/index.ts';
import { DEV_PATHS, openDevToken } from '../../support/hsm.ts';

let token: Pkcs11Token;
let fixtures: FixtureSet;
let pool: CertificatePool;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'chungthuc-validate-'));
const anchors = loadCertificates(DEV_PATHS.rootCaPem);
/** Revocation is the RevocationSource's job (not built here): not required in these tests. */
const policy: ValidationPolicy = parsePolicy({ name: 'test-no-revocation', revocation: { required: false } });

beforeAll(async () => {
  fixtures = generateFixtures(path.join(tmp, 'fixtures'));
  token = await openDevToken({ poolSize: 2 });
  pool = new CertificatePool([...loadCertificates(DEV_PATHS.chainPem)]);
});
afterAll(async () => {
  await token?.close();
  rmSync(tmp, { recursive: true, force: true });
});

let counter = 0;
async function sign(input: string, label: string, extra: Partial<SignPdfOptions> = {}): Promise<string> {
  const signer = await token.getSigner(label);
  const out = path.join(tmp, `out-${++counter}.pdf`);
  await signPdf({ path: input }, { path: out }, { signer, chain: chainFor(signer.certificate!, pool), ...extra });
  return out;
}

const validate = (file: string | Uint8Array): Promise<ValidationReport> =>
  validatePdf(typeof file === 'string' ? { path: file } : { bytes: file }, { policy, trustAnchors: anchors });

/** Appends one incremental update made by `edit` and returns the whole new file. */
function update(file: string, edit: (u: IncrementalUpdate, doc: PdfDocument) => void): Uint8Array {
  const bytes = new Uint8Array(readFileSync(file));
  const doc = PdfDocument.open(bytes);
  const u = new IncrementalUpdate(doc);
  edit(u, doc);
  const r = u.build();
  const out = new Uint8Array(bytes.length + r.bytes.length);
  out.set(bytes);
  out.set(r.bytes, bytes.length);
  return out;
}

const check = (r: ValidationReport, i: number, n: string) => r.signatures[i]?.checks.find((c) => c.name === n);

describe('validatePdf on our own B-B signatures', () => {
  it('an RSA and an ECDSA B-B signature are TOTAL-PASSED against the dev root', async () => {
    for (const label of ['officer1', 'officer2']) {
      const r = await validate(await sign(fixtures.classic, label));
      expect(r.signatures).toHaveLength(1);
      const s = r.signatures[0]!;
      expect(s.indication, JSON.stringify(s.checks)).toBe('TOTAL-PASSED');
      expect(s.coversWholeDocument).toBe(true);
      expect(s.signedRevision).toBe(1);
      expect(s.subFilter).toBe('ETSI.CAdES.detached');
      expect(s.signerSubject).toContain('CN=');
      expect(check(r, 0, 'signing-certificate')?.status).toBe('passed');
      expect(check(r, 0, 'certificate-chain')?.status).toBe('passed');
      expect(r.documentIndication).toBe('TOTAL-PASSED');
      expect(summarizeReport(r)).toMatch(/: TOTAL-PASSED \(1 signature/);
    }
  });

  it('without trust anchors the same file is INDETERMINATE / NO_CERTIFICATE_CHAIN_FOUND', async () => {
    const file = await sign(fixtures.classic, 'officer1');
    const r = await validatePdf({ path: file }, { policy, trustAnchors: [] });
    expect(r.signatures[0]?.indication).toBe('INDETERMINATE');
    expect(r.signatures[0]?.subIndication).toBe('NO_CERTIFICATE_CHAIN_FOUND');
  });

  it('under the strict default policy, no revocation source means INDETERMINATE / TRY_LATER', async () => {
    const file = await sign(fixtures.classic, 'officer1');
    const r = await validatePdf({ path: file }, { trustAnchors: anchors });
    expect(r.policyName).toBe(STRICT_POLICY.name);
    expect(r.signatures[0]?.subIndication).toBe('TRY_LATER');
  });

  it('uses a RevocationSource: revoked, with no proof of existence before → INDETERMINATE / REVOKED_NO_POE', async () => {
    const file = await sign(fixtures.classic, 'officer1');
    const r = await validatePdf(
      { path: file },
      {
        trustAnchors: anchors,
        revocationSource: {
          status: async () => ({ status: 'revoked', revocationTime: new Date(Date.now() - 86_400_000), source: 'test' }),
        },
      },
    );
    expect(r.signatures[0]?.indication).toBe('INDETERMINATE');
    expect(r.signatures[0]?.subIndication).toBe('REVOKED_NO_POE');
  });

  it('three sequential signatures all pass and later revisions are allowed changes', async () => {
    const one = await sign(fixtures.classic, 'officer1', { field: { fieldName: 'Sig1' } });
    const two = await sign(one, 'officer2', { field: { fieldName: 'Sig2' } });
    const three = await sign(two, 'seal', { field: { fieldName: 'Sig3', rect: [40, 40, 300, 120] } });
    const r = await validate(three);
    expect(r.signatures.map((s) => s.fieldName)).toEqual(['Sig1', 'Sig2', 'Sig3']);
    for (const s of r.signatures) expect(s.indication, JSON.stringify(s.checks.filter((c) => c.status === 'failed'))).toBe('TOTAL-PASSED');
    expect(r.signatures.map((s) => s.coversWholeDocument)).toEqual([false, false, true]);
    expect(r.revisions.filter((x) => x.analysed).map((x) => x.verdict)).toEqual(['allowed', 'allowed']);
    expect(r.revisions[2]?.changes.some((c) => c.kind === 'signature' && c.allowed)).toBe(true);
    expect(r.documentIndication).toBe('TOTAL-PASSED');
  });

  it('one byte changed inside a signed range → TOTAL-FAILED / HASH_FAILURE', async () => {
    const file = await sign(fixtures.classic, 'officer1');
    const bytes = new Uint8Array(readFileSync(file));
    const at = Buffer.from(bytes).indexOf('Hello chungthuc');
    expect(at).toBeGreaterThan(0);
    bytes[at] = 0x4a; // 'H' → 'J'
    const r = await validate(bytes);
    expect(r.signatures[0]?.indication).toBe('TOTAL-FAILED');
    expect(r.signatures[0]?.subIndication).toBe('HASH_FAILURE');
    expect(r.documentIndication).toBe('TOTAL-FAILED');
  });

  it('a page appended in an incremental update is flagged', async () => {
    const file = await sign(fixtures.classic, 'officer1');
    const out = update(file, (u, doc) => {
      const pagesRef = doc.catalog.get('Pages') as PdfRef;
      const content = u.add(new PdfStream(new PdfDict(), new TextEncoder().encode('BT /F1 24 Tf 72 720 Td (Added) Tj ET')));
      const page = u.add(new PdfDict({ Type: name('Page'), Parent: pagesRef, MediaBox: [0, 0, 595, 842], Contents: content }));
      const pages = u.edit(pagesRef.num);
      pages.set('Kids', [...(doc.resolve(pages.get('Kids')) as PdfRef[]), page]);
      pages.set('Count', doc.pageCount + 1);
    });
    const r = await validate(out);
    expect(r.signatures[0]?.signedRevision).toBe(1);
    expect(r.signatures[0]?.coversWholeDocument).toBe(false);
    expect(r.revisions[2]?.verdict).toBe('not-allowed');
    expect(r.revisions[2]?.changes.some((c) => c.kind === 'page-tree' && !c.allowed)).toBe(true);
    expect(check(r, 0, 'modifications')?.status).toBe('failed');
    expect(r.documentIndication).not.toBe('TOTAL-PASSED');
  });

  it("shadow-style update of a page's /Contents is flagged", async () => {
    const file = await sign(fixtures.classic, 'officer1');
    const out = update(file, (u, doc) => {
      const page = doc.getPage(0);
      const content = u.add(new PdfStream(new PdfDict(), new TextEncoder().encode('BT /F1 24 Tf 72 720 Td (Replaced) Tj ET')));
      u.edit(page.ref!.num).set('Contents', content);
    });
    const r = await validate(out);
    const bad = r.revisions[2]?.changes.filter((c) => !c.allowed) ?? [];
    expect(bad.some((c) => c.kind === 'page' && c.reason.includes('/Contents'))).toBe(true);
    expect(r.signatures[0]?.indication).not.toBe('TOTAL-PASSED');
    expect(r.documentIndication).not.toBe('TOTAL-PASSED');
  });

  it('a comment annotation is allowed without DocMDP but flagged under DocMDP P=1', async () => {
    const addNote = (file: string) =>
      update(file, (u, doc) => {
        const page = doc.getPage(0);
        const note = u.add(new PdfDict({ Type: name('Annot'), Subtype: name('Text'), Rect: [100, 100, 120, 120], P: page.ref! }));
        const p = u.edit(page.ref!.num);
        const annots = doc.resolve(p.get('Annots'));
        p.set('Annots', [...(Array.isArray(annots) ? annots : []), note]);
      });
    const plain = await validate(addNote(await sign(fixtures.classic, 'officer1')));
    expect(plain.revisions[2]?.verdict).toBe('allowed');
    expect(plain.revisions[2]?.changes.some((c) => c.kind === 'annotation' && c.allowed)).toBe(true);
    expect(plain.documentIndication).toBe('TOTAL-PASSED');

    const certified = await validate(addNote(await sign(fixtures.classic, 'officer1', { certify: 1 })));
    expect(certified.signatures[0]?.certificationLevel).toBe(1);
    expect(certified.revisions[2]?.verdict).toBe('not-allowed');
    expect(certified.revisions[2]?.changes.find((c) => c.kind === 'annotation')?.reason).toContain('P=1');
    expect(certified.documentIndication).not.toBe('TOTAL-PASSED');
  });

  it('a FreeText annotation (overlays content) is flagged even without DocMDP', async () => {
    const file = await sign(fixtures.classic, 'officer1');
    const out = update(file, (u, doc) => {
      const page = doc.getPage(0);
      const a = u.add(new PdfDict({ Type: name('Annot'), Subtype: name('FreeText'), Rect: [0, 0, 595, 842] }));
      u.edit(page.ref!.num).set('Annots', [a]);
    });
    const r = await validate(out);
    expect(r.revisions[2]?.changes.some((c) => c.kind === 'annotation' && !c.allowed && c.reason.startsWith('FreeText'))).toBe(true);
  });

  it('content appended after %%EOF without a revision is reported', async () => {
    const file = await sign(fixtures.classic, 'officer1');
    const bytes = readFileSync(file);
    const r = await validate(new Uint8Array(Buffer.concat([bytes, Buffer.from('\n1 0 obj\n<< /Evil true >>\nendobj\n')])));
    expect(r.revisions.at(-1)?.changes.some((c) => c.kind === 'trailing-bytes' && !c.allowed)).toBe(true);
    expect(r.documentIndication).not.toBe('TOTAL-PASSED');
  });

  it('an expired signer certificate is never TOTAL-PASSED (OUT_OF_BOUNDS_NO_POE without a timestamp)', async () => {
    let file: string;
    try {
      file = await sign(fixtures.classic, 'officer-expired');
    } catch (e) {
      throw new Error(`signing with officer-expired failed: ${(e as Error).message}`);
    }
    const r = await validate(file);
    const s = r.signatures[0]!;
    expect(s.indication).not.toBe('TOTAL-PASSED');
    expect(s.indication).toBe('INDETERMINATE');
    expect(s.subIndication).toBe('OUT_OF_BOUNDS_NO_POE');
  });
});

describe('ValidationPolicy as data', () => {
  it('round-trips through JSON and refuses unknown members', () => {
    const json = policyToJson(STRICT_POLICY);
    expect(parsePolicy(json)).toEqual(STRICT_POLICY);
    expect(() => parsePolicy({ levels: { trust: 'maybe' } })).toThrow();
    expect(() => parsePolicy({ unknown: 1 })).toThrow();
    expect(parsePolicy({ minRsaBits: 3072 }).minRsaBits).toBe(3072);
  });

  it('a warn level turns a failed trust check into a warning', async () => {
    const file = await sign(fixtures.classic, 'officer1');
    const lenient = parsePolicy({ levels: { trust: 'warn' }, revocation: { required: false } });
    const r = await validatePdf({ path: file }, { policy: lenient, trustAnchors: [] });
    expect(check(r, 0, 'certificate-chain')?.status).toBe('warning');
    expect(r.signatures[0]?.indication).toBe('TOTAL-PASSED');
  });
});

