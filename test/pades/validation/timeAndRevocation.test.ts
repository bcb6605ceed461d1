/**
 * Proofs of existence and revocation freshness (ETSI EN 319 102-1 §5.2.5, §5.2.6.4, §5.4, §5.6.2.1)
 * through the production entry point (validateDocument: strict policy, the real timestamp verifier
 * and revocation source). A throwaway PKI is made with `openssl ca` (dates set relative to today, the
 * revocations written into the CA index), documents are signed with the project's signPdf, tokens
 * with its signTimeStampToken, and revocation data is added to the DSS with its addToDss.
 *
 * What must not count: a signature-time-stamp from a TSA that is not trusted, revoked or not yet
 * valid at genTime; a CRL or OCSP answer that is stale for the time the status is needed for, out of
 * scope, or issued after the certificate expired; a "good" answer beside a "revoked" one. What must
 * still pass: long-term validation on data issued after the time proven by a trusted timestamp.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateFixtures } from '../../../scripts/gen-fixtures.ts';
import { addSignatureTimestamp, digest, encodeTstInfo, parseSignedData, signatureValueOf } from '../../../src/cms/index.ts';
import { addDocumentTimestamp, addToDss, appendUpdate, signPdf } from '../../../src/pades/index.ts';
import { IncrementalUpdate, PdfDocument } from '../../../src/pdf/index.ts';
import { STRICT_POLICY, parsePolicy, validatePdf, type SignatureReport, type ValidationReport } from '../../../src/pades/validation/index.ts';
import type { RevocationChecker } from '../../../src/pki/index.ts';
import { embeddedRevocationStatus, timestampVerifier, validationRevocationSource } from '../../../src/services/trustServices.ts';
import { validateDocument } from '../../../src/services/validateDocument.ts';
import { signTimeStampToken } from '../../../src/tsa/index.ts';
import { LEAF_AND_TSA_EXTENSIONS, SoftSigner } from '../../support/softSigner.ts';
import { section } from './pathTestKit.ts';

const DAY = 86_400_000;
const NOW = Date.now();
/** A date `days` from now (negative: in the past). */
const day = (days: number) => new Date(NOW + days * DAY);
/** openssl ca -startdate / -crl_lastupdate form. */
const gen = (d: Date) => d.toISOString().replace(/[-:T]/g, '').replace(/\.\d{3}Z$/, 'Z');
/** index.txt (UTCTime) form. */
const utc = (d: Date) => gen(d).slice(2);

const tmp = mkdtempSync(path.join(os.tmpdir(), 'chungthuc-time-revocation-'));
const file = (name: string) => path.join(tmp, name);
const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'] });

/** The distribution point of the CRL partition for OCSP responder certificates (a CRL there does not speak for signers). */
const RESPONDERS_CRL = 'http://127.0.0.1:9/responders.crl';
/** A delegated OCSP responder (RFC 6960 §4.2.2.2), with or without id-pkix-ocsp-nocheck. */
const RESPONDER = ['basicConstraints = critical, CA:FALSE', 'keyUsage = critical, digitalSignature', 'extendedKeyUsage = critical, OCSPSigning'];

const CA_CONFIG = (database: string) => `[ca]
default_ca = ca
[ca]
dir = ${tmp}
database = ${database}
new_certs_dir = ${tmp}
serial = ${file('serial')}
crlnumber = ${file('crlnumber')}
default_md = sha256
policy = loose
unique_subject = no
copy_extensions = none
[loose]
commonName = supplied
[root]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
${LEAF_AND_TSA_EXTENSIONS}[crl_plain]
authorityKeyIdentifier = keyid
[crl_ca_only]
authorityKeyIdentifier = keyid
issuingDistributionPoint = critical, @idp
[idp]
onlyCA = TRUE
${section('ocsp_responder', [...RESPONDER, `crlDistributionPoints = URI:${RESPONDERS_CRL}`])}${section('ocsp_responder_nocheck', [...RESPONDER, 'noCheck = ignored'])}[crl_responders]
authorityKeyIdentifier = keyid
issuingDistributionPoint = critical, @idp_responders
[idp_responders]
fullname = URI:${RESPONDERS_CRL}
`;

interface Issued {
  name: string;
  pem: string;
  der: Uint8Array;
  cert: X509Certificate;
  signer: SoftSigner;
}

const issued = new Map<string, Issued>();
let root: X509Certificate;
let pdf: Uint8Array;

function key(name: string): string {
  const k = file(`${name}.key`);
  openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', k]);
  return k;
}

function asSigner(name: string, pem: string, keyPath: string): Issued {
  const cert = new X509Certificate(readFileSync(pem));
  const der = new Uint8Array(cert.raw);
  const signer = new SoftSigner({
    key: { label: name, id: '01', keyType: 'RSA', bits: 2048 },
    certificate: der,
    keyPath,
    certificatePath: pem,
    privateKey: createPrivateKey(readFileSync(keyPath)),
  });
  const out = { name, pem, der, cert, signer };
  issued.set(name, out);
  return out;
}

/** A certificate from the root with `openssl ca` (profile `leaf`, `tsa` or a delegated OCSP responder's), valid over [from, to]. */
function issue(name: string, profile: 'leaf' | 'tsa' | 'ocsp_responder' | 'ocsp_responder_nocheck', from: Date, to: Date): Issued {
  const k = key(name);
  openssl(['req', '-new', '-key', k, '-subj', `/CN=TR ${name}`, '-out', file(`${name}.csr`)]);
  openssl(['ca', '-batch', '-notext', '-config', file('ca.cnf'), '-cert', file('root.pem'), '-keyfile', file('root.key'), '-in', file(`${name}.csr`), '-out', file(`${name}.pem`), '-extensions', profile, '-startdate', gen(from), '-enddate', gen(to)]);
  return asSigner(name, file(`${name}.pem`), k);
}

/**
 * A copy of the CA index where the named certificates are revoked at the given times (keyCompromise
 * unless another reason, or none, is given), and those in `held` put on hold (certificateHold, as
 * `openssl ca -crl_hold` writes it).
 */
function indexWith(label: string, revoked: Record<string, Date | { at: Date; reason?: string }>, held: Record<string, Date> = {}): string {
  const revocation = (r: Date | { at: Date; reason?: string }) => (r instanceof Date ? `${utc(r)},keyCompromise` : `${utc(r.at)}${r.reason ? `,${r.reason}` : ''}`);
  const serials = new Map([
    ...Object.entries(revoked).map(([n, r]) => [issued.get(n)!.cert.serialNumber.toUpperCase(), revocation(r)] as const),
    ...Object.entries(held).map(([n, d]) => [issued.get(n)!.cert.serialNumber.toUpperCase(), `${utc(d)},holdInstruction,holdInstructionReject`] as const),
  ]);
  const lines = readFileSync(file('index.txt'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const f = line.split('\t');
      const status = serials.get((f[3] ?? '').toUpperCase());
      return status ? ['R', f[1], status, f[3], f[4], f[5]].join('\t') : line;
    });
  const db = file(`index-${label}.txt`);
  writeFileSync(db, lines.join('\n') + '\n');
  writeFileSync(`${db}.attr`, 'unique_subject = no\n');
  writeFileSync(file(`ca-${label}.cnf`), CA_CONFIG(db));
  return label;
}

/** A CRL of the root (DER) over [thisUpdate, nextUpdate], from the index state `label`, signed over `md`. */
function crl(label: string, thisUpdate: Date, nextUpdate: Date, exts: 'crl_plain' | 'crl_ca_only' | 'crl_responders' = 'crl_plain', md: 'sha256' | 'sha1' = 'sha256'): Uint8Array {
  const out = file(`crl-${label}-${thisUpdate.getTime()}-${exts}-${md}.pem`);
  openssl(['ca', '-gencrl', '-config', file(`ca-${label}.cnf`), '-cert', file('root.pem'), '-keyfile', file('root.key'), '-md', md, '-crlexts', exts, '-crl_lastupdate', gen(thisUpdate), '-crl_nextupdate', gen(nextUpdate), '-out', out]);
  return new Uint8Array(openssl(['crl', '-in', out, '-outform', 'DER']));
}

/**
 * An OCSP response for `name` from the index state `label`: thisUpdate now, nextUpdate now + days.
 * Signed by the root over SHA-256 unless a delegated responder (`by`, its certificate in the response
 * unless `noCerts`) or another digest is asked for.
 */
function ocsp(label: string, name: string, days: number, opts: { by?: string; noCerts?: boolean; md?: 'sha1' } = {}): Uint8Array {
  const req = file(`ocsp-${name}.req`);
  const resp = file(`ocsp-${label}-${name}-${days}-${opts.by ?? 'root'}-${opts.noCerts ? 'nocerts' : 'certs'}-${opts.md ?? 'sha256'}.der`);
  const by = opts.by ?? 'root';
  openssl(['ocsp', '-issuer', file('root.pem'), '-cert', issued.get(name)!.pem, '-no_nonce', '-reqout', req]);
  openssl(['ocsp', '-index', file(`index-${label}.txt`), '-rsigner', file(`${by}.pem`), '-rkey', file(`${by}.key`), '-CA', file('root.pem'), '-reqin', req, '-respout', resp, '-ndays', String(days),
    ...(opts.noCerts ? ['-resp_no_certs'] : []), ...(opts.md ? ['-rmd', opts.md] : [])]);
  return new Uint8Array(readFileSync(resp));
}

/** An RFC 3161 token over `imprint` by `tsa`, claiming `genTime` (carrying `chain` after the TSA certificate). */
async function token(tsa: Issued, imprint: Uint8Array, genTime: Date, chain: Uint8Array[] = []): Promise<Uint8Array> {
  const tstInfo = encodeTstInfo({ policy: '1.2.3.4.1', messageImprint: { hashAlgorithm: 'SHA-256', hashedMessage: imprint }, serialNumber: BigInt(NOW) + BigInt(genTime.getTime() % 1000), genTime });
  return signTimeStampToken({ signer: tsa.signer, certificate: tsa.der, chain, tstInfo, digestAlgorithm: 'SHA-256', scheme: 'RSASSA-PKCS1-v1_5', includeCertificates: true });
}

/** B-B (or B-T with a token by `ts.tsa` claiming `ts.genTime`) signature by `who` over the test PDF. */
async function sign(who: string, ts?: { tsa: Issued; genTime: Date }): Promise<Uint8Array> {
  const r = await signPdf({ bytes: pdf }, { memory: true }, {
    signer: issued.get(who)!.signer,
    chain: [new Uint8Array(root.raw)],
    extraReservedBytes: ts ? 8000 : 0,
    beforeEmbed: ts ? async (cms) => addSignatureTimestamp(cms, await token(ts.tsa, digest('SHA-256', signatureValueOf(cms)), ts.genTime)) : undefined,
  });
  return r.bytes!;
}

/** Revocation data added to the DSS in an incremental update, as a B-LT step does. */
async function withDss(bytes: Uint8Array, material: { crls?: Uint8Array[]; ocsps?: Uint8Array[]; certs?: Uint8Array[] }): Promise<Uint8Array> {
  const doc = PdfDocument.open(bytes);
  const up = new IncrementalUpdate(doc);
  addToDss(up, doc, { certs: material.certs ?? [], crls: material.crls ?? [], ocsps: material.ocsps ?? [] });
  return (await appendUpdate({ bytes }, { memory: true }, up.build().bytes)).bytes!;
}

/** B-LTA step: a document timestamp by `tsa` claiming `genTime`. */
async function withDocumentTimestamp(bytes: Uint8Array, tsa: Issued, genTime: Date): Promise<Uint8Array> {
  const r = await addDocumentTimestamp({ bytes }, { memory: true }, {
    tokenSizeEstimate: 8000,
    async timestamp(imprint) {
      return { token: await token(tsa, imprint, genTime), genTime, tsaCertificate: tsa.der };
    },
  });
  return r.bytes!;
}

const validate = (bytes: Uint8Array, opts: { now?: Date; checker?: RevocationChecker } = {}): Promise<ValidationReport> =>
  validateDocument(
    { trustAnchors: [root], policy: opts.checker ? parsePolicy({ name: 'online', revocation: { fetchOnline: true } }) : STRICT_POLICY, checker: opts.checker },
    { bytes },
    { now: opts.now },
  );

const check = (s: SignatureReport | undefined, name: string) => s?.checks.find((c) => c.name === name);
const verdict = (s: SignatureReport | undefined) => `${s?.indication}/${s?.subIndication ?? '-'} ${JSON.stringify(s?.checks.filter((c) => c.status !== 'passed'))}`;

// Timeline (days from today).
const GEN_TIME = day(-365);
const REVOKED_AT = day(-200);
const HELD_AT = day(-10);

beforeAll(() => {
  writeFileSync(file('index.txt'), '');
  writeFileSync(file('index.txt.attr'), 'unique_subject = no\n');
  writeFileSync(file('serial'), '1000\n');
  writeFileSync(file('crlnumber'), '1000\n');
  writeFileSync(file('ca.cnf'), CA_CONFIG(file('index.txt')));
  const rk = key('root');
  openssl(['req', '-new', '-key', rk, '-subj', '/CN=TR Root', '-out', file('root.csr')]);
  openssl(['ca', '-batch', '-notext', '-selfsign', '-config', file('ca.cnf'), '-keyfile', rk, '-in', file('root.csr'), '-out', file('root.pem'), '-extensions', 'root', '-startdate', gen(day(-1000)), '-enddate', gen(day(3650))]);
  root = new X509Certificate(readFileSync(file('root.pem')));

  issue('signer', 'leaf', day(-1000), day(1500));
  issue('revoked', 'leaf', day(-1000), day(1500)); // revoked at REVOKED_AT
  issue('expired', 'leaf', day(-1000), day(-30)); // expired last month
  issue('expiredRevoked', 'leaf', day(-1000), day(-30)); // revoked day -400, expired since
  issue('tsa', 'tsa', day(-1000), day(1500));
  issue('tsaRevoked', 'tsa', day(-1000), day(1500)); // revoked day -300
  issue('tsaLate', 'tsa', day(-250), day(1500)); // valid only from day -250
  issue('held', 'leaf', day(-1000), day(1500)); // on hold from HELD_AT
  issue('tsaRetired', 'tsa', day(-1000), day(1500)); // revoked day -300 (after GEN_TIME), the reason per test
  issue('responder', 'ocsp_responder', day(-1000), day(1500)); // delegated OCSP responder without ocsp-nocheck
  issue('responderNoCheck', 'ocsp_responder_nocheck', day(-1000), day(1500));

  // A self-signed "TSA": a key anyone can make, with the right extendedKeyUsage.
  const fk = key('fakeTsa');
  writeFileSync(file('fake.ext'), '[e]\nbasicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature\nextendedKeyUsage = critical, timeStamping\n');
  openssl(['req', '-new', '-x509', '-key', fk, '-subj', '/CN=TR fake TSA', '-days', '3650', '-extensions', 'e', '-config', file('fake.ext'), '-out', file('fakeTsa.pem')]);
  asSigner('fakeTsa', file('fakeTsa.pem'), fk);

  indexWith('clean', {});
  indexWith('current', { revoked: REVOKED_AT, expiredRevoked: day(-400), tsaRevoked: day(-300) });
  // What a CA publishes after the certificate expired: its entry is dropped (RFC 5280 §3.3).
  indexWith('afterExpiry', { revoked: REVOKED_AT, tsaRevoked: day(-300) });
  indexWith('held', {}, { held: HELD_AT });
  pdf = new Uint8Array(readFileSync(generateFixtures(file('fx')).classic));
}, 120_000);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('signature timestamps are a proof of existence only from a trusted, valid, unrevoked TSA', () => {
  it('a token from a self-signed TSA does not backdate a revoked key', async () => {
    const bytes = await withDss(await sign('revoked', { tsa: issued.get('fakeTsa')!, genTime: GEN_TIME }), { crls: [crl('current', day(-1), day(6))] });
    const r = await validate(bytes);
    const s = r.signatures[0];
    // Revoked, and nothing proves the signature older than the revocation (EN 319 102-1 Table 5).
    expect(s?.indication, verdict(s)).toBe('INDETERMINATE');
    expect(s?.subIndication).toBe('REVOKED_NO_POE');
    expect(s?.bestSignatureTimeFromPoe).toBe(false);
    expect(s?.timestampTime).toBeNull();
    expect(check(s, 'signature-timestamp')).toMatchObject({ status: 'warning' });
    expect(check(s, 'signature-timestamp')?.detail).toMatch(/not used as proof of existence.*no chain to a configured trust anchor/);
    expect(r.documentIndication).toBe('INDETERMINATE');
  });

  it('a token from a TSA revoked before genTime, or not yet valid at genTime, is not used', async () => {
    const tsaStatus = [ocsp('current', 'tsaRevoked', 7), ocsp('current', 'tsaLate', 7)];
    const revokedTsa = await withDss(await sign('revoked', { tsa: issued.get('tsaRevoked')!, genTime: day(-250) }), { crls: [crl('current', day(-1), day(6))], ocsps: tsaStatus });
    const r1 = await validate(revokedTsa);
    expect(r1.signatures[0]?.subIndication, verdict(r1.signatures[0])).toBe('REVOKED_NO_POE');
    expect(r1.signatures[0]?.bestSignatureTimeFromPoe).toBe(false);
    expect(check(r1.signatures[0], 'signature-timestamp')?.detail).toMatch(/not used as proof of existence.*revoked/);

    const lateTsa = await withDss(await sign('revoked', { tsa: issued.get('tsaLate')!, genTime: GEN_TIME }), { crls: [crl('current', day(-1), day(6))], ocsps: tsaStatus });
    const r2 = await validate(lateTsa);
    expect(r2.signatures[0]?.subIndication, verdict(r2.signatures[0])).toBe('REVOKED_NO_POE');
    expect(check(r2.signatures[0], 'signature-timestamp')?.detail).toMatch(/not used as proof of existence.*not valid at genTime/);
  });

  it('a token from a trusted TSA, valid and not revoked at genTime, proves the signature predates a later revocation', async () => {
    const bytes = await withDss(await sign('revoked', { tsa: issued.get('tsa')!, genTime: GEN_TIME }), { crls: [crl('current', day(-1), day(6))], ocsps: [ocsp('current', 'tsa', 7)] });
    const r = await validate(bytes);
    const s = r.signatures[0];
    expect(s?.indication, verdict(s)).toBe('TOTAL-PASSED');
    expect(s?.bestSignatureTimeFromPoe).toBe(true);
    expect(s?.bestSignatureTime).toBe(GEN_TIME.toISOString().replace(/\.\d{3}Z$/, '.000Z'));
    expect(check(s, 'signature-timestamp')).toMatchObject({ status: 'passed' });
    expect(check(s, 'revocation')?.detail).toMatch(/revoked .* after/);
  });
});

describe('a signature with several signature timestamps', () => {
  /** Signed by the revoked key with the tokens `tokens` makes over the signature value, and the DSS; also its CMS. */
  async function signedWithTokens(tokens: (imprint: Uint8Array) => Promise<Uint8Array[]>): Promise<{ bytes: Uint8Array; cms: Uint8Array }> {
    let cms: Uint8Array = new Uint8Array(0);
    const r = await signPdf({ bytes: pdf }, { memory: true }, {
      signer: issued.get('revoked')!.signer,
      chain: [new Uint8Array(root.raw)],
      extraReservedBytes: 20000,
      beforeEmbed: async (c) => {
        cms = (await tokens(digest('SHA-256', signatureValueOf(c)))).reduce((acc, t) => addSignatureTimestamp(acc, t), c);
        return cms;
      },
    });
    return { bytes: await withDss(r.bytes!, { crls: [crl('current', day(-1), day(6))], ocsps: [ocsp('current', 'tsa', 7)] }), cms };
  }

  it('uses the one that proves existence, not only the first: a self-signed TSA first does not hide a trusted one', async () => {
    const { bytes, cms } = await signedWithTokens(async (imprint) => [
      // The trusted TSA's token carries the root too: longer, so DER's SET OF order puts it second.
      await token(issued.get('tsa')!, imprint, GEN_TIME, [new Uint8Array(root.raw)]),
      await token(issued.get('fakeTsa')!, imprint, day(-300)),
    ]);
    // The premise: the first token in the CMS is the self-signed TSA's (the one a first-only reader takes).
    const first = parseSignedData(parseSignedData(cms).signatureTimeStampTokens[0]!);
    expect(new X509Certificate(first.signerCertificate!).subject).toContain('fake TSA');
    const s = (await validate(bytes)).signatures[0];
    // Revoked at day -200; the trusted token proves the signature existed at day -365.
    expect(s?.indication, verdict(s)).toBe('TOTAL-PASSED');
    expect(s?.bestSignatureTimeFromPoe).toBe(true);
    expect(s?.timestampTime).toBe(GEN_TIME.toISOString().replace(/\.\d{3}Z$/, '.000Z'));
    expect(check(s, 'signature-timestamp')).toMatchObject({ status: 'passed' });
    expect(check(s, 'signature-timestamp')?.detail).toMatch(/^2 signature timestamps; genTime .*; also: .*not used as proof of existence.*no chain to a configured trust anchor/);
  });

  it('a verifier that throws on one token rejects that token only; more than 8 tokens are counted, the first 8 looked at', async () => {
    const { bytes, cms } = await signedWithTokens(async (imprint) => [
      await token(issued.get('tsa')!, imprint, GEN_TIME, [new Uint8Array(root.raw)]),
      await token(issued.get('fakeTsa')!, imprint, day(-300)),
    ]);
    const fake = parseSignedData(cms).signatureTimeStampTokens[0]!;
    // A library caller's verifier that throws on the self-signed TSA's token.
    const throwing = { verify: (t: Uint8Array, q: Parameters<typeof timestampVerifier.verify>[1]) => (Buffer.compare(Buffer.from(t), Buffer.from(fake)) === 0 ? Promise.reject(new Error('verifier broke')) : timestampVerifier.verify(t, q)) };
    const r = await validatePdf({ bytes }, { policy: STRICT_POLICY, trustAnchors: [root], timestampVerifier: throwing, revocationSource: validationRevocationSource(undefined) });
    expect(r.signatures[0]?.indication, verdict(r.signatures[0])).toBe('TOTAL-PASSED');
    expect(check(r.signatures[0], 'signature-timestamp')?.detail).toMatch(/also: signature timestamp rejected: verifier broke/);

    const ten = await signedWithTokens(async (imprint) => Promise.all(Array.from({ length: 10 }, (_, i) => token(issued.get('fakeTsa')!, imprint, day(-300 + i)))));
    const s = (await validate(ten.bytes)).signatures[0];
    expect(check(s, 'signature-timestamp')?.detail).toMatch(/^10 signature timestamps \(the first 8 looked at\); /);
  });

  it('with none usable, says why for each and proves nothing', async () => {
    // A self-signed TSA's token, and a trusted TSA's over the wrong imprint.
    const { bytes } = await signedWithTokens(async (imprint) => [
      await token(issued.get('fakeTsa')!, imprint, day(-300)),
      await token(issued.get('tsa')!, digest('SHA-256', imprint), GEN_TIME),
    ]);
    const s = (await validate(bytes)).signatures[0];
    expect(s?.subIndication, verdict(s)).toBe('REVOKED_NO_POE');
    expect(check(s, 'signature-timestamp')).toMatchObject({ status: 'warning' });
    expect(check(s, 'signature-timestamp')?.detail).toMatch(/^2 signature timestamps; /);
    expect(check(s, 'signature-timestamp')?.detail).toMatch(/no chain to a configured trust anchor/);
    expect(check(s, 'signature-timestamp')?.detail).toMatch(/signature timestamp rejected/);
  });
});

describe('embedded revocation data must be valid, in scope and fresh', () => {
  it('a stale CRL (expired long before the validation time) does not clear a revoked key: INDETERMINATE/TRY_LATER', async () => {
    const bytes = await withDss(await sign('revoked'), { crls: [crl('clean', day(-400), day(-393))] });
    const s = (await validate(bytes)).signatures[0];
    expect(s?.indication, verdict(s)).toBe('INDETERMINATE');
    expect(s?.subIndication).toBe('TRY_LATER');
    expect(check(s, 'revocation')?.detail).toMatch(/set aside: a CRL issued .* expired/);
  });

  it('a CRL of CA certificates only (issuingDistributionPoint) does not speak for an end-entity certificate', async () => {
    const bytes = await withDss(await sign('revoked'), { crls: [crl('clean', day(-1), day(6), 'crl_ca_only')] });
    const s = (await validate(bytes)).signatures[0];
    expect(s?.subIndication, verdict(s)).toBe('TRY_LATER');
    expect(check(s, 'revocation')?.detail).toMatch(/CA certificates only/);
  });

  it('a "revoked" CRL wins over a "good" OCSP answer, whatever their order', async () => {
    const bytes = await withDss(await sign('revoked'), { ocsps: [ocsp('clean', 'revoked', 7)], crls: [crl('current', day(-1), day(6))] });
    const s = (await validate(bytes)).signatures[0];
    expect(s?.indication, verdict(s)).toBe('INDETERMINATE');
    expect(s?.subIndication).toBe('REVOKED_NO_POE');
  });

  it('an OCSP answer is not used after its nextUpdate for a signature with no proof of existence', async () => {
    const bytes = await withDss(await sign('signer'), { ocsps: [ocsp('clean', 'signer', 1)] });
    expect((await validate(bytes)).signatures[0]?.indication).toBe('TOTAL-PASSED');
    const later = (await validate(bytes, { now: day(3) })).signatures[0];
    expect(later?.subIndication, verdict(later)).toBe('TRY_LATER');
    expect(check(later, 'revocation')?.detail).toMatch(/set aside: an OCSP response issued .* expired/);
  });

  it('with nothing fresh embedded, the online source is asked (and its "revoked" counts)', async () => {
    const bytes = await withDss(await sign('revoked'), { crls: [crl('clean', day(-400), day(-393))] });
    let asked = 0;
    const checker = {
      async check() {
        asked++;
        return { status: 'revoked', source: 'ocsp', revocationTime: REVOKED_AT, thisUpdate: new Date(), attempts: [] };
      },
    } as unknown as RevocationChecker;
    const s = (await validate(bytes, { checker })).signatures[0];
    expect(asked).toBeGreaterThan(0);
    expect(s?.subIndication, verdict(s)).toBe('REVOKED_NO_POE');
    expect(check(s, 'revocation')?.detail).toContain('online');
  });
});

describe('long-term validation on data issued after the proven time', () => {
  it('B-LT and B-LTA: an expired certificate, a timestamp a year old and revocation data long expired still pass', async () => {
    // Signed a year ago (trusted timestamp), validation data gathered days later, certificate expired since.
    const lt = await withDss(await sign('expired', { tsa: issued.get('tsa')!, genTime: GEN_TIME }), { crls: [crl('current', day(-360), day(-353))], ocsps: [ocsp('current', 'tsa', 7)] });
    const r = await validate(lt);
    const s = r.signatures[0];
    expect(s?.indication, verdict(s)).toBe('TOTAL-PASSED');
    expect(s?.bestSignatureTimeFromPoe).toBe(true);
    expect(r.documentIndication).toBe('TOTAL-PASSED');

    const lta = await withDocumentTimestamp(lt, issued.get('tsa')!, day(-359));
    const r2 = await validate(lta);
    expect(r2.signatures.map((x) => `${x.type} ${x.indication}`), JSON.stringify(r2.signatures.map(verdict))).toEqual(['signature TOTAL-PASSED', 'document-timestamp TOTAL-PASSED']);
    // The same LTA validated a week later: nothing it relies on needs to be current.
    expect((await validate(lta, { now: day(7) })).documentIndication).toBe('TOTAL-PASSED');
  });

  it('revocation data that expired before the time proven by the timestamp does not count', async () => {
    const bytes = await withDss(await sign('expired', { tsa: issued.get('tsa')!, genTime: GEN_TIME }), { crls: [crl('clean', day(-400), day(-393))], ocsps: [ocsp('current', 'tsa', 7)] });
    const s = (await validate(bytes)).signatures[0];
    expect(s?.bestSignatureTimeFromPoe).toBe(true);
    expect(s?.subIndication, verdict(s)).toBe('TRY_LATER');
  });

  it('a CRL or OCSP answer issued after the certificate expired (its entry dropped) does not clear it', async () => {
    // Revoked (day -400) before the timestamp (day -365): only a CRL from after expiry is embedded.
    const bytes = await withDss(await sign('expiredRevoked', { tsa: issued.get('tsa')!, genTime: GEN_TIME }), { crls: [crl('afterExpiry', day(-10), day(-3))], ocsps: [ocsp('current', 'tsa', 7)] });
    const s = (await validate(bytes)).signatures[0];
    expect(s?.bestSignatureTimeFromPoe).toBe(true);
    expect(s?.subIndication, verdict(s)).toBe('TRY_LATER');
    expect(check(s, 'revocation')?.detail).toMatch(/after the certificate expired/);
    // Nor an OCSP "good" given after it expired without archiveCutoff (RFC 6960 §4.4.4).
    const byOcsp = await withDss(await sign('expiredRevoked', { tsa: issued.get('tsa')!, genTime: GEN_TIME }), { ocsps: [ocsp('afterExpiry', 'expiredRevoked', 7), ocsp('current', 'tsa', 7)] });
    const o = (await validate(byOcsp)).signatures[0];
    expect(o?.subIndication, verdict(o)).toBe('TRY_LATER');
    expect(check(o, 'revocation')?.detail).toMatch(/an OCSP response issued .*, after the certificate expired \(no archiveCutoff\)/);
    // The same answer fetched online is judged the same way.
    const fetched = ocsp('afterExpiry', 'expiredRevoked', 7);
    const checker = { check: async () => ({ status: 'good', source: 'ocsp', thisUpdate: new Date(), attempts: [], ocsp: { responseDer: fetched } }) } as unknown as RevocationChecker;
    const bt = await withDss(await sign('expiredRevoked', { tsa: issued.get('tsa')!, genTime: GEN_TIME }), { ocsps: [ocsp('current', 'tsa', 7)] });
    const onl = (await validate(bt, { checker })).signatures[0];
    expect(onl?.subIndication, verdict(onl)).toBe('TRY_LATER');
    expect(check(onl, 'revocation')?.detail).toMatch(/online answer set aside: an OCSP response issued .*no archiveCutoff/);
    // With the CRL from before expiry that lists it, the key is revoked before the proven time.
    const listed = await withDss(bytes, { crls: [crl('current', day(-100), day(-93))] });
    expect((await validate(listed)).signatures[0]?.subIndication).toBe('REVOKED_NO_POE');
  });
});

describe('a certificate on hold (certificateHold) is suspended, not revoked', () => {
  it('on hold at the time the status is needed for: INDETERMINATE/TRY_LATER, from a CRL or an OCSP answer', async () => {
    for (const material of [{ crls: [crl('held', day(-1), day(6))] }, { ocsps: [ocsp('held', 'held', 7)] }]) {
      const r = await validate(await withDss(await sign('held'), material));
      const s = r.signatures[0];
      expect(s?.indication, verdict(s)).toBe('INDETERMINATE');
      expect(s?.subIndication).toBe('TRY_LATER');
      expect(check(s, 'revocation')?.detail).toMatch(/on hold \(certificateHold\) since .*may still change/);
      expect(r.documentIndication).not.toBe('TOTAL-FAILED');
    }
  });

  it('a hold after the time proven by a trusted timestamp does not touch the signature', async () => {
    const bytes = await withDss(await sign('held', { tsa: issued.get('tsa')!, genTime: GEN_TIME }), { crls: [crl('held', day(-1), day(6))], ocsps: [ocsp('clean', 'tsa', 7)] });
    const s = (await validate(bytes)).signatures[0];
    expect(s?.indication, verdict(s)).toBe('TOTAL-PASSED');
    expect(check(s, 'revocation')?.detail).toMatch(/on hold from .*, after /);
  });

  it('a hold is lifted by a later answer that no longer lists the certificate, not by an earlier one', async () => {
    const held = crl('held', day(-5), day(2));
    const lifted = await withDss(await sign('held'), { crls: [held, crl('clean', day(-1), day(6))] });
    const s1 = (await validate(lifted)).signatures[0];
    expect(s1?.indication, verdict(s1)).toBe('TOTAL-PASSED');

    const stillHeld = await withDss(await sign('held'), { crls: [crl('clean', day(-8), day(6)), crl('held', day(-1), day(6))] });
    expect((await validate(stillHeld)).signatures[0]?.subIndication).toBe('TRY_LATER');
  });

  it('a permanent revocation beside a hold still wins', async () => {
    indexWith('heldThenRevoked', { held: day(-2) });
    const bytes = await withDss(await sign('held'), { crls: [crl('held', day(-5), day(2)), crl('heldThenRevoked', day(-1), day(6))] });
    const s = (await validate(bytes)).signatures[0];
    expect(s?.indication, verdict(s)).toBe('INDETERMINATE');
    expect(s?.subIndication).toBe('REVOKED_NO_POE');
  });

  it('with an online source, an embedded hold is asked about again: lifted online passes, no answer keeps the hold', async () => {
    const bytes = await withDss(await sign('held'), { crls: [crl('held', day(-1), day(6))] });
    const online = (answer: () => unknown) => ({ check: async () => answer() }) as unknown as RevocationChecker;
    const lifted = (await validate(bytes, { checker: online(() => ({ status: 'good', source: 'crl', thisUpdate: new Date(), attempts: [] })) })).signatures[0];
    expect(lifted?.indication, verdict(lifted)).toBe('TOTAL-PASSED');
    expect(check(lifted, 'revocation')?.detail).toContain('online');
    const down = (await validate(bytes, { checker: online(() => { throw new Error('no route to the responder'); }) })).signatures[0];
    expect(down?.subIndication, verdict(down)).toBe('TRY_LATER');
    expect(check(down, 'revocation')?.detail).toMatch(/on hold/);
  });
});

describe('a revoked TSA keeps its earlier tokens when the reason says its key was not compromised (RFC 3161 §4)', () => {
  it('revoked after genTime as superseded or cessationOfOperation: still a POE; keyCompromise or no reason: not', async () => {
    for (const reason of ['superseded', 'cessationOfOperation', 'keyCompromise', undefined]) {
      const label = indexWith(`tsa-${reason ?? 'none'}`, { revoked: REVOKED_AT, tsaRetired: { at: day(-300), ...(reason ? { reason } : {}) } });
      const signed = await sign('revoked', { tsa: issued.get('tsaRetired')!, genTime: GEN_TIME });
      // The same statuses from a CRL and from OCSP answers.
      for (const material of [{ crls: [crl(label, day(-1), day(6))] }, { ocsps: [ocsp(label, 'revoked', 7), ocsp(label, 'tsaRetired', 7)] }]) {
        const s = (await validate(await withDss(signed, material))).signatures[0];
        if (reason === 'superseded' || reason === 'cessationOfOperation') {
          expect(s?.indication, `${reason} ${verdict(s)}`).toBe('TOTAL-PASSED');
          expect(s?.bestSignatureTimeFromPoe).toBe(true);
          expect(check(s, 'signature-timestamp')?.detail).toContain(`retired (${reason})`);
        } else {
          expect(s?.subIndication, `${reason} ${verdict(s)}`).toBe('REVOKED_NO_POE');
          expect(check(s, 'signature-timestamp')?.detail).toMatch(/not used as proof of existence.*TR tsaRetired.*revoked/);
        }
      }
    }
  });
});

describe('OCSP answers: delegated responder status, responder certificate in the DSS, accepted digests', () => {
  const responderRevoked = () => indexWith('responderRevoked', { responder: day(-30) });

  it('a delegated responder without ocsp-nocheck that its issuer\'s CRL lists as revoked: its answer is not used', async () => {
    const answer = ocsp('clean', 'signer', 7, { by: 'responder' });
    // The CRL partition of responder certificates does not speak for the signer: only the OCSP answer can.
    const bytes = await withDss(await sign('signer'), { ocsps: [answer], crls: [crl(responderRevoked(), day(-1), day(6), 'crl_responders')] });
    const s = (await validate(bytes)).signatures[0];
    expect(s?.indication, verdict(s)).toBe('INDETERMINATE');
    expect(s?.subIndication).toBe('TRY_LATER');
    expect(check(s, 'revocation')?.detail).toMatch(/delegated responder "CN=TR responder" has no id-pkix-ocsp-nocheck and is revoked since .*keyCompromise/);
    // Listed as good by the same partition: the answer counts.
    const ok = await withDss(await sign('signer'), { ocsps: [answer], crls: [crl('clean', day(-1), day(6), 'crl_responders')] });
    expect((await validate(ok)).signatures[0]?.indication).toBe('TOTAL-PASSED');
  });

  it('a delegated responder without ocsp-nocheck whose status is unknown: not used when revocation is required', async () => {
    const bytes = await withDss(await sign('signer'), { ocsps: [ocsp('clean', 'signer', 7, { by: 'responder' })] });
    const s = (await validate(bytes)).signatures[0];
    expect(s?.subIndication, verdict(s)).toBe('TRY_LATER');
    expect(check(s, 'revocation')?.detail).toMatch(/delegated responder "CN=TR responder" has no id-pkix-ocsp-nocheck and its own status is unknown/);
    // Where revocation is not required the answer is used; ocsp-nocheck needs no check at all.
    const lenient = parsePolicy({ name: 'lenient', revocation: { required: false } });
    const r = await validatePdf({ bytes }, { policy: lenient, trustAnchors: [root], timestampVerifier, revocationSource: validationRevocationSource(undefined, lenient) });
    expect(check(r.signatures[0], 'revocation')?.status, verdict(r.signatures[0])).toBe('passed');
    const noCheck = await withDss(await sign('signer'), { ocsps: [ocsp('clean', 'signer', 7, { by: 'responderNoCheck' })] });
    expect((await validate(noCheck)).signatures[0]?.indication).toBe('TOTAL-PASSED');
  });

  it('online: the responder\'s CRL is fetched from its distribution point, and a revoked responder\'s answer is not used', async () => {
    const bytes = await withDss(await sign('signer'), { ocsps: [ocsp('clean', 'signer', 7, { by: 'responder' })] });
    const asked: string[] = [];
    const checker = (responderCrl: Uint8Array) =>
      ({
        check: async () => {
          throw new Error('no responder for the signer');
        },
        crl: {
          check: async (c: X509Certificate) => {
            asked.push(c.subject);
            return { crlDer: responderCrl };
          },
        },
      }) as unknown as RevocationChecker;
    const revoked = (await validate(bytes, { checker: checker(crl(responderRevoked(), day(-1), day(6), 'crl_responders')) })).signatures[0];
    expect(asked).toEqual(['CN=TR responder']);
    expect(revoked?.subIndication, verdict(revoked)).toBe('TRY_LATER');
    expect(check(revoked, 'revocation')?.detail).toMatch(/delegated responder .* is revoked since/);
    const good = (await validate(bytes, { checker: checker(crl('clean', day(-1), day(6), 'crl_responders')) })).signatures[0];
    expect(good?.indication, verdict(good)).toBe('TOTAL-PASSED');
  });

  it('an OCSP response without certificates whose delegated responder certificate is in the DSS is used', () => {
    const signer = issued.get('signer')!.cert;
    const answer = ocsp('clean', 'signer', 7, { by: 'responderNoCheck', noCerts: true });
    const alone = embeddedRevocationStatus(signer, root, new Date(), { ocsps: [answer], crls: [] });
    expect(alone.status).toBeUndefined();
    expect(alone.setAside).toEqual(['an OCSP response not signed by the issuer or a valid delegated responder']);
    const withDssCerts = embeddedRevocationStatus(signer, root, new Date(), { ocsps: [answer], crls: [], certs: [issued.get('tsa')!.der, issued.get('responderNoCheck')!.der] });
    expect(withDssCerts.status).toMatchObject({ status: 'good', source: 'ocsp:embedded' });
  });

  it('the validator hands the DSS certificates to the revocation source: a responder certificate only in the DSS makes its answer count', async () => {
    const answer = ocsp('clean', 'signer', 7, { by: 'responderNoCheck', noCerts: true });
    const without = (await validate(await withDss(await sign('signer'), { ocsps: [answer] }))).signatures[0];
    expect(without?.subIndication, verdict(without)).toBe('TRY_LATER');
    const withCert = (await validate(await withDss(await sign('signer'), { ocsps: [answer], certs: [issued.get('responderNoCheck')!.der] }))).signatures[0];
    expect(withCert?.indication, verdict(withCert)).toBe('TOTAL-PASSED');
  });

  it('validateDocument judges revocation data by the validation policy it is given, not the strict one', async () => {
    const bytes = await withDss(await sign('signer'), { crls: [crl('clean', day(-1), day(6), 'crl_plain', 'sha1')] });
    const sha1Accepted = parsePolicy({ name: 'sha1-crls', acceptedDigests: ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512'] });
    const r = await validateDocument({ trustAnchors: [root], policy: sha1Accepted }, { bytes });
    expect(check(r.signatures[0], 'revocation')?.status, verdict(r.signatures[0])).toBe('passed');
  });

  it('a CRL or an OCSP answer signed with SHA-1 does not count', async () => {
    for (const material of [{ crls: [crl('clean', day(-1), day(6), 'crl_plain', 'sha1')] }, { ocsps: [ocsp('clean', 'signer', 7, { md: 'sha1' })] }]) {
      const s = (await validate(await withDss(await sign('signer'), material))).signatures[0];
      expect(s?.subIndication, verdict(s)).toBe('TRY_LATER');
      expect(check(s, 'revocation')?.detail).toMatch(/(a CRL|an OCSP response) signed with SHA-1, a digest the policy does not accept/);
    }
    // Nor a revocation in it: a SHA-1 CRL listing the key is set aside like any other.
    const listed = (await validate(await withDss(await sign('revoked'), { crls: [crl('current', day(-1), day(6), 'crl_plain', 'sha1')] }))).signatures[0];
    expect(listed?.subIndication, verdict(listed)).toBe('TRY_LATER');
  });
});
