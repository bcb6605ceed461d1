/**
 * RFC 5280 §6.1 path validation of the signer's (and a TSA's) chain, not only name and key chaining:
 * every issuer must be a CA (basicConstraints cA, keyUsage keyCertSign, §6.1.4 (k), (n)), path
 * lengths are honoured (§6.1.4 (l), (m)), a critical extension that is not processed makes the
 * certificate unusable (§4.2, §6.1.4 (o)), and name constraints bind the names below them (§4.2.1.10,
 * §6.1.3 (b), (c)). A chain that fails any of them is INDETERMINATE/CHAIN_CONSTRAINTS_FAILURE
 * (EN 319 102-1 §5.2.6), never TOTAL-PASSED.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STRICT_POLICY, parsePolicy, validatePdf, type SignatureReport, type ValidationReport } from '../../../src/pades/validation/index.ts';
import { SECTIONS, createTestPki, scriptedRevocation, signedBy, type Issued, type TestPki } from './pathTestKit.ts';

const EXTENSIONS = `${SECTIONS.ca}${SECTIONS.caLen0}${SECTIONS.leaf}${SECTIONS.eeNoKu}${SECTIONS.tsa}[ca_len1]
basicConstraints = critical, CA:TRUE, pathlen:1
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ca_no_bc]
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ca_nc]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
nameConstraints = critical, permitted;dirName:nc_good, excluded;email:.evil.example
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[nc_good]
O = Good Org
[ee_cert_sign]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation, keyCertSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ocsp]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = OCSPSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[leaf_unknown_critical]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
1.3.6.1.4.1.99999.1 = critical, DER:05:00
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[leaf_known_noncritical]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
1.3.6.1.4.1.99999.1 = DER:05:00
certificatePolicies = critical, 1.2.3.4
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[leaf_evil_mail]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
subjectAltName = email:mallory@mail.evil.example
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[leaf_good_mail]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
subjectAltName = email:alice@good.example
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

let pki: TestPki;
let root: Issued;
const c: Record<string, Issued> = {};

beforeAll(() => {
  pki = createTestPki('path-validation', EXTENSIONS);
  root = pki.root('PV Root', 'ca');
  // An end-entity certificate anyone may hold (no keyUsage at all, or keyCertSign but cA false) used as a CA.
  c.eeNoKu = pki.issue('PV EE no keyUsage', root, 'ee_no_ku');
  c.eeCertSign = pki.issue('PV EE keyCertSign', root, 'ee_cert_sign');
  c.viaEeNoKu = pki.issue('PV victim 1', c.eeNoKu, 'leaf');
  c.viaEeCertSign = pki.issue('PV victim 2', c.eeCertSign, 'leaf');
  // A v3 "CA" without basicConstraints.
  c.noBc = pki.issue('PV CA without basicConstraints', root, 'ca_no_bc');
  c.viaNoBc = pki.issue('PV victim 3', c.noBc, 'leaf');
  // Path length: root → len0 → CA → leaf breaks pathlen 0; root → len1 → CA → leaf is fine.
  c.len0 = pki.issue('PV CA pathlen 0', root, 'ca_len0');
  c.len0Sub = pki.issue('PV CA under pathlen 0', c.len0, 'ca');
  c.viaLen0 = pki.issue('PV victim 4', c.len0Sub, 'leaf');
  c.len1 = pki.issue('PV CA pathlen 1', root, 'ca_len1');
  c.len1Sub = pki.issue('PV CA under pathlen 1', c.len1, 'ca');
  c.viaLen1 = pki.issue('PV signer under pathlen 1', c.len1Sub, 'leaf');
  // Critical extensions.
  c.unknownCritical = pki.issue('PV unknown critical', root, 'leaf_unknown_critical');
  c.knownNonCritical = pki.issue('PV unknown non-critical', root, 'leaf_known_noncritical');
  // Name constraints: permitted O=Good Org, e-mail addresses under .evil.example excluded.
  c.nc = pki.issue('PV constrained CA', root, 'ca_nc', { subject: '/O=Good Org/CN=PV constrained CA' });
  c.ncGood = pki.issue('PV good', c.nc, 'leaf_good_mail', { subject: '/O=Good Org/CN=PV good' });
  c.ncOtherOrg = pki.issue('PV other org', c.nc, 'leaf', { subject: '/O=Other Org/CN=PV other org' });
  c.ncEvilMail = pki.issue('PV evil mail', c.nc, 'leaf_evil_mail', { subject: '/O=Good Org/CN=PV evil mail' });
  c.ncNoOrg = pki.issue('PV no org', c.nc, 'leaf', { subject: '/CN=PV no org' });
  c.tsa = pki.issue('PV TSA', root, 'tsa');
  c.ocsp = pki.issue('PV OCSP responder', root, 'ocsp');
  // Weak algorithms in the chain: a CA certificate signed with MD5 or SHA-1, a CA key of 1024 bits.
  c.md5Ca = pki.issue('PV MD5-signed CA', root, 'ca', { md: 'md5' });
  c.viaMd5 = pki.issue('PV victim 5', c.md5Ca, 'leaf');
  c.sha1Ca = pki.issue('PV SHA-1-signed CA', root, 'ca', { md: 'sha1' });
  c.viaSha1 = pki.issue('PV victim 6', c.sha1Ca, 'leaf');
  c.smallCa = pki.issue('PV 1024-bit CA', root, 'ca', { bits: 1024 });
  c.viaSmall = pki.issue('PV victim 7', c.smallCa, 'leaf');
}, 120_000);

afterAll(() => pki?.cleanup());

async function validate(who: Issued, chain: Issued[], policy = STRICT_POLICY): Promise<ValidationReport> {
  return validatePdf({ bytes: await signedBy(pki.pdf(), who, chain) }, { policy, trustAnchors: [root.cert], revocationSource: scriptedRevocation() });
}
const chainCheck = (s: SignatureReport | undefined) => s?.checks.find((x) => x.name === 'certificate-chain');
const verdict = (s: SignatureReport | undefined) => `${s?.indication}/${s?.subIndication ?? '-'} ${JSON.stringify(s?.checks.filter((x) => x.status !== 'passed'))}`;

describe('every issuer in the path is a CA (RFC 5280 §6.1.4 (k), (n))', () => {
  it('a leaf issued by an end-entity certificate without keyUsage is not TOTAL-PASSED', async () => {
    const s = (await validate(c.viaEeNoKu!, [c.eeNoKu!, root])).signatures[0];
    expect(s?.indication, verdict(s)).toBe('INDETERMINATE');
    expect(s?.subIndication).toBe('CHAIN_CONSTRAINTS_FAILURE');
    expect(chainCheck(s)?.detail).toMatch(/PV EE no keyUsage.*not a CA certificate/);
  });

  it('nor one issued by an end-entity certificate whose keyUsage has keyCertSign but cA is false', async () => {
    const s = (await validate(c.viaEeCertSign!, [c.eeCertSign!, root])).signatures[0];
    expect(s?.indication, verdict(s)).toBe('INDETERMINATE');
    expect(s?.subIndication).toBe('CHAIN_CONSTRAINTS_FAILURE');
  });

  it('nor one issued by a v3 certificate without basicConstraints', async () => {
    const s = (await validate(c.viaNoBc!, [c.noBc!, root])).signatures[0];
    expect(s?.subIndication, verdict(s)).toBe('CHAIN_CONSTRAINTS_FAILURE');
    expect(chainCheck(s)?.detail).toMatch(/without basicConstraints/);
  });
});

describe('pathLenConstraint (RFC 5280 §4.2.1.9, §6.1.4 (l), (m))', () => {
  it('a CA below a pathlen:0 CA cannot issue the signer', async () => {
    const s = (await validate(c.viaLen0!, [c.len0Sub!, c.len0!, root])).signatures[0];
    expect(s?.indication, verdict(s)).toBe('INDETERMINATE');
    expect(s?.subIndication).toBe('CHAIN_CONSTRAINTS_FAILURE');
    expect(chainCheck(s)?.detail).toMatch(/PV CA pathlen 0.*pathLenConstraint 0/);
  });

  it('the same shape under pathlen:1 passes', async () => {
    const s = (await validate(c.viaLen1!, [c.len1Sub!, c.len1!, root])).signatures[0];
    expect(s?.indication, verdict(s)).toBe('TOTAL-PASSED');
  });
});

describe('critical extensions (RFC 5280 §4.2)', () => {
  it('a signer certificate with a critical extension the validator does not process is not accepted', async () => {
    const s = (await validate(c.unknownCritical!, [root])).signatures[0];
    expect(s?.subIndication, verdict(s)).toBe('CHAIN_CONSTRAINTS_FAILURE');
    expect(chainCheck(s)?.detail).toMatch(/critical extension 1\.3\.6\.1\.4\.1\.99999\.1/);
  });

  it('an unknown non-critical extension, or a critical certificatePolicies, is no obstacle', async () => {
    const s = (await validate(c.knownNonCritical!, [root])).signatures[0];
    expect(s?.indication, verdict(s)).toBe('TOTAL-PASSED');
  });
});

describe('name constraints (RFC 5280 §4.2.1.10)', () => {
  it('a subject inside the permitted directory subtree, with an e-mail address outside the excluded domain, passes', async () => {
    const s = (await validate(c.ncGood!, [c.nc!, root])).signatures[0];
    expect(s?.indication, verdict(s)).toBe('TOTAL-PASSED');
  });

  it('a subject outside the permitted directory subtree fails', async () => {
    for (const who of [c.ncOtherOrg!, c.ncNoOrg!]) {
      const s = (await validate(who, [c.nc!, root])).signatures[0];
      expect(s?.subIndication, verdict(s)).toBe('CHAIN_CONSTRAINTS_FAILURE');
      expect(chainCheck(s)?.detail).toMatch(/name constraints of .*PV constrained CA.*directoryName/);
    }
  });

  it('an e-mail address in an excluded subtree fails', async () => {
    const s = (await validate(c.ncEvilMail!, [c.nc!, root])).signatures[0];
    expect(s?.subIndication, verdict(s)).toBe('CHAIN_CONSTRAINTS_FAILURE');
    expect(chainCheck(s)?.detail).toMatch(/rfc822Name mallory@mail\.evil\.example/);
  });
});

describe('cryptographic constraints on the chain (EN 319 102-1 §5.2.8)', () => {
  it('a CA certificate signed with MD5 or SHA-1, or a 1024-bit CA key, is INDETERMINATE/CRYPTO_CONSTRAINTS_FAILURE', async () => {
    const cases: Array<[Issued, Issued, RegExp]> = [
      [c.viaMd5!, c.md5Ca!, /PV MD5-signed CA.* is signed with algorithm 1\.2\.840\.113549\.1\.1\.4, not accepted/],
      [c.viaSha1!, c.sha1Ca!, /PV SHA-1-signed CA.* is signed with SHA-1, not accepted/],
      [c.viaSmall!, c.smallCa!, /issuer .*PV 1024-bit CA.*: RSA key of 1024 bits/],
    ];
    for (const [who, ca, why] of cases) {
      const s = (await validate(who, [ca, root])).signatures[0];
      expect(s?.indication, verdict(s)).toBe('INDETERMINATE');
      expect(s?.subIndication).toBe('CRYPTO_CONSTRAINTS_FAILURE');
      expect(s?.checks.find((x) => x.name === 'crypto-constraints')?.detail).toMatch(why);
    }
  });
});

describe('the signer certificate is for signing (RFC 5280 §4.2.1.12; EN 319 421 §7.2)', () => {
  it("a TSA's or an OCSP responder's certificate (extendedKeyUsage time-stamping or OCSP signing only) does not sign documents", async () => {
    for (const who of [c.tsa!, c.ocsp!]) {
      const s = (await validate(who, [root])).signatures[0];
      expect(s?.indication, verdict(s)).toBe('INDETERMINATE');
      expect(s?.subIndication).toBe('CHAIN_CONSTRAINTS_FAILURE');
      expect(s?.checks.find((x) => x.name === 'key-usage')?.detail).toMatch(/extendedKeyUsage .*time-stamping or OCSP signing only/);
    }
  });
});

describe('acceptable certificate policies (ValidationPolicy.acceptedCertificatePolicies)', () => {
  const accepting = (...oids: string[]) => parsePolicy({ name: 'policies', acceptedCertificatePolicies: oids });
  const policyCheck = (s: SignatureReport | undefined) => s?.checks.find((x) => x.name === 'certificate-policy');

  it('a signer asserting an accepted policy passes; one asserting another, or none, is INDETERMINATE/CHAIN_CONSTRAINTS_FAILURE', async () => {
    // c.knownNonCritical asserts 1.2.3.4; c.ncGood asserts none.
    const ok = (await validate(c.knownNonCritical!, [root], accepting('2.16.704.1.2.1', '1.2.3.4'))).signatures[0];
    expect(ok?.indication, verdict(ok)).toBe('TOTAL-PASSED');
    expect(policyCheck(ok)).toMatchObject({ status: 'passed', detail: 'certificate policy 1.2.3.4' });
    const other = (await validate(c.knownNonCritical!, [root], accepting('2.16.704.1.2.1'))).signatures[0];
    expect([other?.indication, other?.subIndication], verdict(other)).toEqual(['INDETERMINATE', 'CHAIN_CONSTRAINTS_FAILURE']);
    expect(policyCheck(other)?.detail).toMatch(/asserts the policies 1\.2\.3\.4, none of 2\.16\.704\.1\.2\.1/);
    const none = (await validate(c.ncGood!, [c.nc!, root], accepting('1.2.3.4'))).signatures[0];
    expect(none?.subIndication, verdict(none)).toBe('CHAIN_CONSTRAINTS_FAILURE');
    expect(policyCheck(none)?.detail).toMatch(/no certificate policy/);
  });

  it('without a list any policy is accepted and the check is not reported; a malformed OID is refused', async () => {
    const s = (await validate(c.ncGood!, [c.nc!, root])).signatures[0];
    expect(s?.indication, verdict(s)).toBe('TOTAL-PASSED');
    expect(policyCheck(s)).toBeUndefined();
    expect(() => accepting('not-an-oid')).toThrow(/dotted object identifier/);
  });
});
