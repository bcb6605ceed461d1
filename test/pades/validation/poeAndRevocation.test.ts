/**
 * Indications for revoked and expired certificates and the proofs of existence (POE) that decide
 * them (ETSI EN 319 102-1 §5.2.6, §5.4, §5.6.2.1, Table 5; RFC 3161 §4):
 * - revoked at the time the status is needed for, with no POE before the revocation, is
 *   INDETERMINATE/REVOKED_NO_POE (a CA of the chain: REVOKED_CA_NO_POE); TOTAL-FAILED/REVOKED needs
 *   proof that the signature was made after the revocation, which a POE (it existed by then) is not;
 * - expired with no POE within the validity: INDETERMINATE/OUT_OF_BOUNDS_NO_POE, or
 *   OUT_OF_BOUNDS_NOT_REVOKED when its status is known to be good; never TOTAL-FAILED/EXPIRED on a POE;
 * - a time-stamp is a POE only when its own validation passes (not INDETERMINATE), and not when its
 *   TSA was revoked after genTime for a key compromise (or an unknown reason) with no POE of the token
 *   before that revocation.
 * Certificates are issued today and the validation time is moved forward instead.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STRICT_POLICY, validatePdf, type RevocationSource, type SignatureReport, type ValidationReport } from '../../../src/pades/validation/index.ts';
import { timestampVerifier } from '../../../src/services/trustServices.ts';
import { SECTIONS, createTestPki, scriptedRevocation, signedBy, withDocumentTimestamp, type Issued, type TestPki } from './pathTestKit.ts';

const EXTENSIONS = `${SECTIONS.ca}${SECTIONS.leaf}${SECTIONS.eeNoKu}${SECTIONS.tsa}[tsa_noncritical_eku]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

const DAY = 86_400_000;
const NOW = Date.now();
const day = (n: number) => new Date(NOW + n * DAY);

let pki: TestPki;
let root: Issued;
let ca: Issued;
let signer: Issued;
let underCa: Issued;
let shortLived: Issued;
let tsa: Issued;

beforeAll(() => {
  pki = createTestPki('poe-revocation', EXTENSIONS);
  root = pki.root('PR Root', 'ca');
  ca = pki.issue('PR Issuing CA', root, 'ca');
  signer = pki.issue('PR signer', root, 'leaf');
  underCa = pki.issue('PR signer under CA', ca, 'leaf');
  shortLived = pki.issue('PR short-lived', root, 'leaf', { days: 2 });
  tsa = pki.issue('PR TSA', root, 'tsa');
}, 120_000);

afterAll(() => pki?.cleanup());

const validate = async (bytes: Uint8Array, at: Date, revocationSource: RevocationSource): Promise<ValidationReport> =>
  validatePdf({ bytes }, { policy: STRICT_POLICY, trustAnchors: [root.cert], revocationSource, timestampVerifier, now: at });
const check = (s: SignatureReport | undefined, name: string) => s?.checks.find((c) => c.name === name);
const verdict = (s: SignatureReport | undefined) => `${s?.indication}/${s?.subIndication ?? '-'} ${JSON.stringify(s?.checks.filter((c) => c.status !== 'passed'))}`;

describe('revoked: REVOKED_NO_POE / REVOKED_CA_NO_POE unless the signature is proven older than the revocation', () => {
  it('a revoked signer certificate without a POE is INDETERMINATE/REVOKED_NO_POE', async () => {
    const source = scriptedRevocation({ 'PR signer': { status: 'revoked', revocationTime: day(1), reason: 'keyCompromise', source: 'test' } });
    const r = await validate(await signedBy(pki.pdf(), signer, [root]), day(5), source);
    const s = r.signatures[0];
    expect(s?.indication, verdict(s)).toBe('INDETERMINATE');
    expect(s?.subIndication).toBe('REVOKED_NO_POE');
    expect(check(s, 'revocation')?.detail).toMatch(/PR signer.* revoked at .*no proof of existence before/);
    expect(r.documentIndication).toBe('INDETERMINATE');
  });

  it('a revoked issuing CA without a POE is INDETERMINATE/REVOKED_CA_NO_POE', async () => {
    const source = scriptedRevocation({ 'PR Issuing CA': { status: 'revoked', revocationTime: day(1), source: 'test' } });
    const s = (await validate(await signedBy(pki.pdf(), underCa, [ca, root]), day(5), source)).signatures[0];
    expect(s?.indication, verdict(s)).toBe('INDETERMINATE');
    expect(s?.subIndication).toBe('REVOKED_CA_NO_POE');
  });

  it('a trusted signature time-stamp after the revocation does not prove the signature was made after it: still REVOKED_NO_POE', async () => {
    const source = scriptedRevocation({ 'PR signer': { status: 'revoked', revocationTime: day(10), source: 'test' } });
    const s = (await validate(await signedBy(pki.pdf(), signer, [root], { tsa, genTime: day(20) }), day(30), source)).signatures[0];
    expect(check(s, 'signature-timestamp')?.status, verdict(s)).toBe('passed');
    expect(s?.bestSignatureTimeFromPoe).toBe(true);
    expect(s?.indication, verdict(s)).toBe('INDETERMINATE');
    expect(s?.subIndication).toBe('REVOKED_NO_POE');
  });

  it('a trusted signature time-stamp before the revocation passes', async () => {
    const source = scriptedRevocation({ 'PR signer': { status: 'revoked', revocationTime: day(20), source: 'test' } });
    const s = (await validate(await signedBy(pki.pdf(), signer, [root], { tsa, genTime: day(10) }), day(30), source)).signatures[0];
    expect(s?.indication, verdict(s)).toBe('TOTAL-PASSED');
  });
});

describe('expired: OUT_OF_BOUNDS_NO_POE / OUT_OF_BOUNDS_NOT_REVOKED, not TOTAL-FAILED/EXPIRED on a later POE', () => {
  it('a time-stamp after the expiry proves existence then, not creation after it: INDETERMINATE/OUT_OF_BOUNDS_NO_POE', async () => {
    const bytes = await signedBy(pki.pdf(), shortLived, [root], { tsa, genTime: day(5) });
    const s = (await validate(bytes, day(10), scriptedRevocation({ 'PR short-lived': { status: 'unavailable' } }))).signatures[0];
    expect(s?.bestSignatureTimeFromPoe, verdict(s)).toBe(true);
    expect(s?.indication, verdict(s)).toBe('INDETERMINATE');
    expect(s?.subIndication).toBe('OUT_OF_BOUNDS_NO_POE');
    expect(s?.checks.find((c) => c.name === 'certificate-validity')?.detail).toMatch(/expired .* and the earliest proof of existence .* is after it/);
  });

  it('expired without a POE but known not to be revoked: OUT_OF_BOUNDS_NOT_REVOKED; status unknown: OUT_OF_BOUNDS_NO_POE', async () => {
    const bytes = await signedBy(pki.pdf(), shortLived, [root]);
    const good = (await validate(bytes, day(10), scriptedRevocation())).signatures[0];
    expect(good?.indication, verdict(good)).toBe('INDETERMINATE');
    expect(good?.subIndication).toBe('OUT_OF_BOUNDS_NOT_REVOKED');
    const unknown = (await validate(bytes, day(10), scriptedRevocation({ 'PR short-lived': { status: 'unavailable', detail: 'nothing embedded' } }))).signatures[0];
    expect(unknown?.subIndication, verdict(unknown)).toBe('OUT_OF_BOUNDS_NO_POE');
  });
});

describe('a time-stamp is a POE only when its own validation passes', () => {
  it('a document time-stamp that is INDETERMINATE (TSA status unknown) does not rescue an expired signer', async () => {
    const bytes = await withDocumentTimestamp(await signedBy(pki.pdf(), shortLived, [root]), tsa, day(1));
    const r = await validate(bytes, day(10), scriptedRevocation({ 'PR TSA': { status: 'unavailable', detail: 'nothing embedded' } }));
    const [sig, ts] = r.signatures;
    expect(ts?.type).toBe('document-timestamp');
    expect(ts?.indication, verdict(ts)).toBe('INDETERMINATE');
    expect(sig?.bestSignatureTimeFromPoe, verdict(sig)).toBe(false);
    expect(sig?.indication, verdict(sig)).toBe('INDETERMINATE');
    // With the TSA's status known the same file passes: the POE is then usable.
    const ok = await validate(bytes, day(10), scriptedRevocation());
    expect(ok.signatures.map((s) => s.indication), JSON.stringify(ok.signatures.map(verdict))).toEqual(['TOTAL-PASSED', 'TOTAL-PASSED']);
  });

  it('a signature time-stamp whose TSA was revoked after genTime for a key compromise (or no stated reason) is not a POE', async () => {
    const bytes = await signedBy(pki.pdf(), signer, [root], { tsa, genTime: day(10) });
    for (const reason of ['keyCompromise', undefined]) {
      const source = scriptedRevocation({
        'PR signer': { status: 'revoked', revocationTime: day(30), source: 'test' },
        'PR TSA': { status: 'revoked', revocationTime: day(20), ...(reason ? { reason } : {}), source: 'test' },
      });
      const s = (await validate(bytes, day(40), source)).signatures[0];
      expect(check(s, 'signature-timestamp')?.status, verdict(s)).toBe('warning');
      expect(check(s, 'signature-timestamp')?.detail).toMatch(/not used as proof of existence.*PR TSA.*revoked/);
      expect(s?.bestSignatureTimeFromPoe).toBe(false);
      expect(s?.subIndication, verdict(s)).toBe('REVOKED_NO_POE');
    }
  });

  it('a TSA retired after genTime for a reason that keeps its earlier tokens valid (RFC 3161 §4) still gives a POE', async () => {
    const bytes = await signedBy(pki.pdf(), signer, [root], { tsa, genTime: day(10) });
    const source = scriptedRevocation({
      'PR signer': { status: 'revoked', revocationTime: day(30), source: 'test' },
      'PR TSA': { status: 'revoked', revocationTime: day(20), reason: 'cessationOfOperation', source: 'test' },
    });
    const s = (await validate(bytes, day(40), source)).signatures[0];
    expect(s?.bestSignatureTimeFromPoe, verdict(s)).toBe(true);
    expect(s?.indication, verdict(s)).toBe('TOTAL-PASSED');
  });

  it('a signature time-stamp from a TSA issued by an end-entity certificate is not a POE', async () => {
    // Any holder of an end-entity certificate without keyUsage could make such a "TSA".
    const ee = pki.issue('PR end entity', root, 'ee_no_ku');
    const fakeTsa = pki.issue('PR TSA under an end entity', ee, 'tsa');
    const source = scriptedRevocation({ 'PR signer': { status: 'revoked', revocationTime: day(30), source: 'test' } });
    const s = (await validate(await signedBy(pki.pdf(), signer, [root], { tsa: fakeTsa, genTime: day(10), chain: [ee] }), day(40), source)).signatures[0];
    expect(check(s, 'signature-timestamp')?.detail, verdict(s)).toMatch(/not used as proof of existence.*not a CA certificate/);
    expect(s?.bestSignatureTimeFromPoe).toBe(false);
    expect(s?.indication).not.toBe('TOTAL-PASSED');
  });
});

describe('a signature time-stamp over a digest the policy does not accept is not a POE', () => {
  it('a SHA-1 message imprint (EN 319 102-1 §5.6.2.3: the imprint hash must be reliable)', async () => {
    const source = scriptedRevocation({ 'PR signer': { status: 'revoked', revocationTime: day(30), source: 'test' } });
    const bytes = await signedBy(pki.pdf(), signer, [root], { tsa, genTime: day(10), imprintAlgorithm: 'SHA-1' });
    const s = (await validate(bytes, day(40), source)).signatures[0];
    expect(check(s, 'signature-timestamp')?.detail, verdict(s)).toMatch(/not used as proof of existence.*SHA-1 not accepted/);
    expect(s?.bestSignatureTimeFromPoe).toBe(false);
    expect(s?.subIndication).toBe('REVOKED_NO_POE');
  });
});

describe('a document time-stamp rejected for its TSA certificate is not a broken signature', () => {
  it('extendedKeyUsage timeStamping not critical (RFC 3161 §2.3): INDETERMINATE/CHAIN_CONSTRAINTS_FAILURE, not TOTAL-FAILED/SIG_CRYPTO_FAILURE', async () => {
    const weakTsa = pki.issue('PR TSA non-critical EKU', root, 'tsa_noncritical_eku');
    const r = await validate(await withDocumentTimestamp(await signedBy(pki.pdf(), signer, [root]), weakTsa, day(1)), day(2), scriptedRevocation());
    const ts = r.signatures.find((x) => x.type === 'document-timestamp');
    expect(check(ts, 'signature-value')?.status, verdict(ts)).toBe('passed');
    expect(ts?.indication, verdict(ts)).toBe('INDETERMINATE');
    expect(ts?.subIndication).toBe('CHAIN_CONSTRAINTS_FAILURE');
    expect(check(ts, 'key-usage')?.detail).toMatch(/extendedKeyUsage is not critical/);
  });
});

describe('a time-stamp dated after the validation time proves nothing at that time', () => {
  it('a signature time-stamp with genTime after the validation time is not a POE', async () => {
    const source = scriptedRevocation({ 'PR signer': { status: 'revoked', revocationTime: day(30), source: 'test' } });
    // Validated "as of" day 40 with a token claiming day 50: it did not exist yet.
    const bytes = await signedBy(pki.pdf(), signer, [root], { tsa, genTime: day(50) });
    const s = (await validate(bytes, day(40), source)).signatures[0];
    expect(s?.bestSignatureTimeFromPoe, verdict(s)).toBe(false);
    expect(check(s, 'signature-timestamp')?.detail).toMatch(/after the validation time/);
    expect(s?.subIndication).toBe('REVOKED_NO_POE');
  });
});
