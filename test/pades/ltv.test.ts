/**
 * PAdES B-T, B-LT and B-LTA with the built-in TSA (HSM key `tsa`), the dev `openssl ocsp` responder
 * and CRLs served on loopback. Outputs proven by qpdf, pdfsig, openssl ts and by decoding the DSS.
 */
import { spawnSync } from 'node:child_process';
import { X509Certificate, createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { PDFDocument, PDFName, PDFString } from 'pdf-lib';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateFixtures, type FixtureSet } from '../../scripts/gen-fixtures.ts';
import { loadConfig } from '../../src/config.ts';
import { buildTrustServices, type TrustServices } from '../../src/main.ts';
import { parseCrl, parseOcspResponse, parseSignedData, parseTimeStampToken } from '../../src/cms/index.ts';
import { addValidationData, collectSignatureMaterial } from '../../src/pades/index.ts';
import { CertificatePool } from '../../src/pki/index.ts';
import { PdfDocument, PdfRef, PdfStream, decodeStreamFully } from '../../src/pdf/index.ts';
import { openDatabase, type OpenedDatabase } from '../../src/registry/index.ts';
import { IN_MEMORY_STAGES_MAX, nextInput, signDocument, type SignDocumentParams } from '../../src/services/signDocument.ts';
import { extendDocument } from '../../src/services/extendDocument.ts';
import { copyFileSync } from 'node:fs';
import type { Pkcs11Token } from '../../src/signers/index.ts';
import { DEV_PATHS, openDevToken } from '../support/hsm.ts';
import { startOcspResponder, type OcspResponder } from '../support/ocspResponder.ts';
import { pdfsig, qpdfCheck, rawSignatures } from '../support/pdfTools.ts';
import { startRepoServer, type RepoServer } from '../support/repoServer.ts';
import { dssOf } from '../support/dss.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'chungthuc-ltv-'));
let token: Pkcs11Token;
let ocsp: OcspResponder | undefined;
let repo: RepoServer;
let fx: FixtureSet;
let db: OpenedDatabase;
let trust: TrustServices;

function freshTrust(): TrustServices {
  const config = loadConfig({ ...process.env, DATA_DIR: tmp, LOG_LEVEL: 'silent', REVOCATION_TIMEOUT_MS: '1500' });
  return buildTrustServices(config, (label) => token.getSigner(label), db.db);
}

beforeAll(async () => {
  fx = generateFixtures(path.join(tmp, 'fx'));
  token = await openDevToken({ poolSize: 2 });
  db = openDatabase(path.join(tmp, 'db.sqlite'));
  ocsp = await startOcspResponder();
  repo = await startRepoServer();
  trust = freshTrust();
});
afterAll(async () => {
  await ocsp?.stop();
  await repo?.stop();
  db?.close();
  await token?.close();
  rmSync(tmp, { recursive: true, force: true });
});

const der = (file: string) => new Uint8Array(new X509Certificate(readFileSync(file)).raw);
const fp = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function signAt(level: SignDocumentParams['level'], name: string, key = 'officer1', t = trust): Promise<string> {
  const out = path.join(tmp, `${name}.pdf`);
  await signDocument(t.signing, { path: fx.classic }, { path: out }, { key, level, reason: 'Kiểm thử', location: 'Thanh Hóa' });
  return out;
}

function tsVerify(tokenDer: Uint8Array, args: string[]): { ok: boolean; out: string } {
  const dir = mkdtempSync(path.join(tmp, 'ts-'));
  writeFileSync(path.join(dir, 'token.der'), tokenDer);
  const untrusted = path.join(dir, 'untrusted.pem');
  writeFileSync(untrusted, readFileSync(DEV_PATHS.issuingCaPem, 'utf8') + readFileSync(path.join(DEV_PATHS.certsDir, 'tsa.pem'), 'utf8'));
  const r = spawnSync('openssl', ['ts', '-verify', '-in', 'token.der', '-token_in', '-CAfile', DEV_PATHS.rootCaPem, '-untrusted', untrusted, ...args], { cwd: dir, encoding: 'utf8' });
  return { ok: r.status === 0 && /Verification: OK/.test(r.stdout), out: r.stdout + r.stderr };
}

describe('PAdES levels above B-B', () => {
  it('B-T: a signature-time-stamp over the signature value that openssl ts accepts', async () => {
    const out = await signAt('B-T', 'bt');
    expect(qpdfCheck(out).ok).toBe(true);
    const sig = pdfsig(out)[0]!;
    expect(sig).toMatchObject({ signatureValid: true, total: true, certificateStatus: 'Certificate is Trusted.' });
    const cms = parseSignedData(rawSignatures(out)[0]!.contents);
    const tokens = cms.signatureTimeStampTokens ?? [];
    expect(tokens).toHaveLength(1);
    const sigValueFile = path.join(tmp, 'sigvalue.bin');
    writeFileSync(sigValueFile, cms.signatureValue);
    const v = tsVerify(tokens[0]!, ['-data', sigValueFile]);
    expect(v.ok, v.out).toBe(true);
  });

  it('B-LT: a DSS with the chains, OCSP responses and VRI of the signature and its timestamp', async () => {
    const out = await signAt('B-LT', 'blt');
    expect(qpdfCheck(out).ok).toBe(true);
    const sigs = pdfsig(out);
    expect(sigs).toHaveLength(1);
    expect(sigs[0]!.signatureValid).toBe(true);
    const doc = PdfDocument.open(out);
    expect(doc.revisions).toHaveLength(3);
    doc.close();
    const dss = dssOf(out);
    const certs = new Set(dss.certs.map(fp));
    for (const f of [path.join(DEV_PATHS.certsDir, 'officer1.pem'), DEV_PATHS.issuingCaPem, DEV_PATHS.rootCaPem, path.join(DEV_PATHS.certsDir, 'tsa.pem'), DEV_PATHS.ocspPem]) {
      expect(certs.has(fp(der(f))), f).toBe(true);
    }
    // OCSP answers for the officer and the TSA certificate, both good, from the dev responder.
    const serials = dss.ocsps.map((o) => {
      const r = parseOcspResponse(o);
      expect(r.responseStatus).toBe('successful');
      expect(r.basic?.responses[0]?.certStatus.status).toBe('good');
      return Buffer.from(r.basic!.responses[0]!.certId.serialNumber).toString('hex');
    });
    const serialOf = (f: string) => new X509Certificate(readFileSync(f)).serialNumber.toLowerCase().replace(/^0+/, '');
    expect(serials.map((s) => s.replace(/^0+/, ''))).toEqual(expect.arrayContaining([serialOf(path.join(DEV_PATHS.certsDir, 'officer1.pem')), serialOf(path.join(DEV_PATHS.certsDir, 'tsa.pem'))]));
    // The issuing CA's status comes from the root's CRL (the root runs no OCSP).
    expect(dss.crls.length).toBeGreaterThanOrEqual(1);
    expect(dss.crls.map((c) => parseCrl(c).issuer)).toBeDefined();
    // VRI keyed by the SHA-1 of the signature's /Contents.
    const contentsHex = readFileSync(out).toString('latin1');
    const br = rawSignatures(out)[0]!.byteRange;
    const fullContents = Buffer.from(contentsHex.slice(br[1]! + 1, br[2]! - 1), 'hex');
    expect(dss.vriKeys).toContain(createHash('sha1').update(fullContents).digest('hex').toUpperCase());
    // The VRI entry lists each certificate once (the signer's and the TSA's chains share their root)
    // and says when its data was gathered (/TU).
    const vd = PdfDocument.open(out);
    try {
      const vri = vd.resolveDict(vd.resolveDict(vd.resolveDict(vd.catalog.get('DSS'))?.get('VRI'))?.get(dss.vriKeys[0]!));
      const certRefs = (vd.resolve(vri?.get('Cert')) as unknown[]).map(String);
      expect(new Set(certRefs).size).toBe(certRefs.length);
      expect(certRefs.length).toBeGreaterThanOrEqual(4);
      expect((vd.resolve(vri?.get('TU')) as { toText(): string }).toText()).toMatch(/^D:\d{14}/);
    } finally {
      vd.close();
    }
  });

  it('B-LT from the signers a signing hands over: the same bytes as reading them from the CMS; a hand-over for another CMS is not used', async () => {
    const bt = await signDocument(trust.signing, { bytes: readFileSync(fx.classic) }, { memory: true }, { key: 'officer1', level: 'B-T', reason: 'Kiểm thử' });
    const cms = parseSignedData(bt.cms);
    expect(bt.signatureTimestampAt).toEqual(parseTimeStampToken(cms.signatureTimeStampTokens![0]!).tstInfo.genTime);
    expect(fp(bt.signers.signerCertificate)).toBe(fp(cms.signerCertificate!));
    expect(bt.signers.timestampSigners.map(fp)).toEqual([fp(der(path.join(DEV_PATHS.certsDir, 'tsa.pem')))]);
    const other = await signDocument(trust.signing, { bytes: readFileSync(fx.classic) }, { memory: true }, { key: 'officer2', level: 'B-T', reason: 'Kiểm thử' });
    const now = new Date();
    const rev = trust.signing.revocation!;
    // Each call appends in place to the same buffer: keep a copy of each result before the next.
    const read = Buffer.from((await addValidationData(nextInput(bt), { memory: true }, rev, { now })).bytes!);
    const handed = Buffer.from((await addValidationData(nextInput(bt), { memory: true }, rev, { now, known: [bt.signers] })).bytes!);
    // Another signature's signers, offered under its own CMS, must not stand in for this one's.
    const mismatched = Buffer.from((await addValidationData(nextInput(bt), { memory: true }, rev, { now, known: [other.signers] })).bytes!);
    // Every update gets a random second /ID; everything else must be the same bytes.
    const sansId = (b: Buffer) => b.toString('latin1').replace(/\/ID \[<[0-9A-F]{32}> <[0-9A-F]{32}>\]/g, '/ID');
    expect(sansId(handed)).toBe(sansId(read));
    expect(sansId(mismatched)).toBe(sansId(read));
    // The hand-over is what is used for its CMS: signers given under bt's own CMS (here officer2's,
    // wrongly) go into the DSS in place of those the CMS names.
    const trusted = Buffer.from((await addValidationData(nextInput(bt), { memory: true }, rev, { now, known: [{ ...other.signers, cms: bt.signers.cms }] })).bytes!);
    const trustedFile = path.join(tmp, 'blt-trusted.pdf');
    writeFileSync(trustedFile, trusted);
    expect(dssOf(trustedFile).certs.map(fp)).toContain(fp(other.signers.signerCertificate));
    // The officer2 chain (EC key, same CAs) is not what officer1's DSS holds: a wrong hand-over would show.
    expect(fp(other.signers.signerCertificate)).not.toBe(fp(bt.signers.signerCertificate));
    const file = path.join(tmp, 'blt-handed.pdf');
    writeFileSync(file, handed);
    expect(dssOf(file).certs.map(fp)).toContain(fp(bt.signers.signerCertificate));
    expect(dssOf(file).certs.map(fp)).not.toContain(fp(other.signers.signerCertificate));
  });

  it('B-LTA: a document timestamp after the DSS, verified by openssl ts over the signed ranges', async () => {
    const out = await signAt('B-LTA', 'blta', 'officer2');
    expect(qpdfCheck(out).ok).toBe(true);
    const doc = PdfDocument.open(out);
    const fields = doc.signatureFields().filter((f) => f.value);
    const last = fields.at(-1)!.value!;
    expect(last.getName('Type')).toBe('DocTimeStamp');
    expect(last.getName('SubFilter')).toBe('ETSI.RFC3161');
    expect(doc.resolveDict(doc.catalog.get('DSS'))).toBeDefined();
    doc.close();
    const raws = rawSignatures(out);
    expect(raws).toHaveLength(2);
    const ts = raws[1]!;
    const data = readFileSync(out);
    const [a, b, c, d] = ts.byteRange as [number, number, number, number];
    expect(c + d).toBe(data.length);
    const digest = createHash('sha256').update(data.subarray(a, a + b)).update(data.subarray(c, c + d)).digest('hex');
    const v = tsVerify(ts.contents, ['-digest', digest]);
    expect(v.ok, v.out).toBe(true);
    expect(pdfsig(out)[0]?.signatureValid).toBe(true);
  });

  it('signs a document above IN_MEMORY_STAGES_MAX (staged in files) and one below (staged in memory) at B-LTA, file to file: both valid, no stage file left', async () => {
    // A one-page PDF carrying an incompressible stream just over the limit.
    const big = await PDFDocument.create();
    big.addPage([200, 200]);
    big.context.register(big.context.stream(randomBytes(IN_MEMORY_STAGES_MAX + 1024)));
    const bigIn = path.join(tmp, 'big-in.pdf');
    writeFileSync(bigIn, await big.save({ useObjectStreams: false }));
    const dir = mkdtempSync(path.join(tmp, 'stages-'));
    for (const [input, name] of [[bigIn, 'big'], [fx.classic, 'small']] as const) {
      const out = path.join(dir, `${name}.pdf`);
      const r = await signDocument(trust.signing, { path: input }, { path: out }, { key: 'officer1', level: 'B-LTA', reason: 'Kiểm thử' });
      expect(r.path).toBe(out);
      expect(qpdfCheck(out).ok).toBe(true);
      expect(pdfsig(out)[0]?.signatureValid).toBe(true);
      expect(rawSignatures(out)).toHaveLength(2);
    }
    expect(readdirSync(dir).sort()).toEqual(['big.pdf', 'small.pdf']);
  });

  it('in memory, each stage continues the digest of the previous one: two B-LTA signatures stay valid and the digest is the file SHA-256', async () => {
    const first = await signDocument(trust.signing, { bytes: readFileSync(fx.classic) }, { memory: true }, { key: 'officer1', level: 'B-LTA', reason: 'Kiểm thử' });
    expect(first.digest?.hash.copy().digest('hex')).toBe(fp(first.bytes!));
    const second = await signDocument(trust.signing, nextInput(first), { memory: true }, { key: 'officer2', level: 'B-LTA', reason: 'Kiểm thử' });
    // The first result's digest is not consumed by continuing it.
    expect(first.digest?.hash.copy().digest('hex')).toBe(fp(first.bytes!));
    expect(second.digest?.hash.copy().digest('hex')).toBe(fp(second.bytes!));
    const out = path.join(tmp, 'memory-chain.pdf');
    writeFileSync(out, second.bytes!);
    expect(qpdfCheck(out).ok).toBe(true);
    // pdfsig checks the two signatures (it cannot validate document timestamps); openssl ts checks those over their ranges.
    const sigs = pdfsig(out);
    expect(sigs).toHaveLength(4);
    expect([sigs[0]?.signatureValid, sigs[2]?.signatureValid]).toEqual([true, true]);
    const data = readFileSync(out);
    for (const ts of rawSignatures(out).filter((_, i) => i % 2 === 1)) {
      const [a, b, c, d] = ts.byteRange as [number, number, number, number];
      const v = tsVerify(ts.contents, ['-digest', createHash('sha256').update(data.subarray(a, a + b)).update(data.subarray(c, c + d)).digest('hex')]);
      expect(v.ok, v.out).toBe(true);
    }
  });

  it('B-LT on an existing empty field that comes before an earlier signature in /Fields: the DSS and VRI are for the signature just made', async () => {
    // Two empty signature fields, A then B; B is signed first (B-B), then A at B-LT with another key.
    const doc = await PDFDocument.create();
    const page = doc.addPage([595, 842]);
    const ctx = doc.context;
    const field = (name: string) => {
      const ref = ctx.register(ctx.obj({ Type: 'Annot', Subtype: 'Widget', FT: 'Sig', T: PDFString.of(name), Rect: [0, 0, 0, 0], F: 132, P: page.ref }));
      page.node.addAnnot(ref);
      return ref;
    };
    doc.catalog.set(PDFName.of('AcroForm'), ctx.obj({ Fields: [field('A'), field('B')] }));
    const first = await signDocument(trust.signing, { bytes: await doc.save({ useObjectStreams: false }) }, { memory: true }, { key: 'officer2', level: 'B-B', reason: 'x', fieldName: 'B' });
    const out = path.join(tmp, 'lt-on-earlier-field.pdf');
    const second = await signDocument(trust.signing, nextInput(first), { path: out }, { key: 'seal', level: 'B-LT', reason: 'x', fieldName: 'A' });
    expect(second.fieldName).toBe('A');
    const vriOf = (cms: Uint8Array) => {
      const raw = rawSignatures(out).find((r) => Buffer.compare(Buffer.from(r.contents), Buffer.from(cms)) === 0)!;
      const text = readFileSync(out).toString('latin1');
      return createHash('sha1').update(Buffer.from(text.slice(raw.byteRange[1]! + 1, raw.byteRange[2]! - 1), 'hex')).digest('hex').toUpperCase();
    };
    const dss = dssOf(out);
    expect(dss.vriKeys).toEqual([vriOf(second.cms)]);
    expect(dss.certs.map(fp)).toContain(fp(der(path.join(DEV_PATHS.certsDir, 'seal.pem'))));
    expect(dss.certs.map(fp)).not.toContain(fp(der(path.join(DEV_PATHS.certsDir, 'officer2.pem'))));
  });

  it('a named field that already has its place: signed visibly there, never moved (another rectangle is refused)', async () => {
    const doc = await PDFDocument.create();
    const page = doc.addPage([595, 842]);
    const ctx = doc.context;
    const widget = ctx.register(ctx.obj({ Type: 'Annot', Subtype: 'Widget', FT: 'Sig', T: PDFString.of('Placed'), Rect: [40, 40, 300, 120], F: 4, P: page.ref }));
    page.node.addAnnot(widget);
    doc.catalog.set(PDFName.of('AcroForm'), ctx.obj({ Fields: [widget] }));
    const bytes = await doc.save({ useObjectStreams: false });
    await expect(signDocument(trust.signing, { bytes }, { memory: true }, { key: 'officer1', level: 'B-B', reason: 'x', fieldName: 'Placed', rect: [0, 0, 200, 50] })).rejects.toMatchObject({ code: 'field-rect-fixed', status: 409 });
    const signed = await signDocument(trust.signing, { bytes }, { memory: true }, { key: 'officer1', level: 'B-B', reason: 'x', fieldName: 'Placed' });
    const out = PdfDocument.open(signed.bytes!);
    try {
      const w = out.resolveDict(new PdfRef(widget.objectNumber, 0))!;
      expect((out.resolve(w.get('Rect')) as unknown[]).map(Number)).toEqual([40, 40, 300, 120]);
      // Its appearance draws the signer's lines (a form XObject calling the text, not the empty placeholder).
      const ap = out.resolveDict(w.get('AP'));
      const n = out.resolve(ap?.get('N')) as PdfStream;
      expect(Buffer.from(decodeStreamFully(n)).length).toBeGreaterThan(20);
    } finally {
      out.close();
    }
    // The same without a field name stays invisible: a new field with a zero-area widget.
    const plain = await signDocument(trust.signing, { bytes }, { memory: true }, { key: 'officer1', level: 'B-B', reason: 'x' });
    expect(plain.fieldName).not.toBe('Placed');
    const plainDoc = PdfDocument.open(plain.bytes!);
    try {
      const added = plainDoc.signatureFields().find((f) => f.name === plain.fieldName)!;
      const rect = (plainDoc.resolve(added.widgets[0]!.dict.get('Rect')) as unknown[]).map(Number);
      expect(rect[2]! - rect[0]! === 0 || rect[3]! - rect[1]! === 0).toBe(true);
    } finally {
      plainDoc.close();
    }
  });

  it('completes a chain from the certificates the CMS carries when the configured CAs lack its issuer (someone else\'s signature, an external TSA)', async () => {
    const bt = await signDocument(trust.signing, { bytes: readFileSync(fx.classic) }, { memory: true }, { key: 'officer1', level: 'B-T', reason: 'x' });
    const root = new X509Certificate(readFileSync(DEV_PATHS.rootCaPem));
    const issuing = new X509Certificate(readFileSync(DEV_PATHS.issuingCaPem));
    // A provider that knows the root only: the issuing CA must come from the CMS.
    const rootOnly = new CertificatePool([root]);
    const rev = {
      chain: (leaf: X509Certificate, carried?: readonly X509Certificate[]) => rootOnly.buildChain(leaf, 10, carried && carried.length > 0 ? new CertificatePool(carried) : undefined),
      revocation: async () => ({ status: 'good' as const, certs: [] }),
    };
    const m = await collectSignatureMaterial(bt.cms, rev);
    expect(m.certs.map(fp)).toContain(fp(new Uint8Array(issuing.raw)));
    expect(m.certs.map(fp)).toContain(fp(new Uint8Array(root.raw)));
    // Without what the CMS carries (the hand-over of our own signers), the chain stops short.
    await expect(collectSignatureMaterial(bt.cms, rev, { signerCertificate: bt.signers.signerCertificate, timestampSigners: [] })).rejects.toMatchObject({ code: 'chain-incomplete' });
  });

  it('refuses to sign with a revoked certificate', async () => {
    await expect(signAt('B-LT', 'revoked', 'officer-revoked')).rejects.toMatchObject({ code: 'certificate-revoked', status: 409 });
    await expect(signAt('B-B', 'revoked-bb', 'officer-revoked')).rejects.toMatchObject({ code: 'certificate-revoked' });
  });

  it('refuses to sign with a certificate on hold, and says it is suspended rather than revoked', async () => {
    const real = trust.signing.revocation!;
    const officer = new X509Certificate(readFileSync(path.join(DEV_PATHS.certsDir, 'officer1.pem')));
    const since = new Date(Date.now() - 3600_000);
    const revocation = {
      chain: (leaf: X509Certificate) => real.chain(leaf),
      async revocation(cert: X509Certificate, issuer: X509Certificate) {
        const m = await real.revocation(cert, issuer);
        return cert.fingerprint256 === officer.fingerprint256 ? { ...m, status: 'revoked' as const, revocationTime: since, reason: 'certificateHold' as const } : m;
      },
    };
    for (const level of ['B-B', 'B-LT'] as const) {
      const refused = signDocument({ ...trust.signing, revocation }, { path: fx.classic }, { memory: true }, { key: 'officer1', level, reason: 'x' });
      await expect(refused).rejects.toMatchObject({ code: 'certificate-revoked', status: 409, details: { reason: 'certificateHold' } });
      await expect(refused).rejects.toThrow(`is on hold (suspended) since ${since.toISOString()}`);
    }
  });

  it('refuses to sign with an expired certificate', async () => {
    await expect(signAt('B-B', 'expired', 'officer-expired')).rejects.toMatchObject({ code: 'certificate-expired' });
  });

  it('refuses to sign a document with the TSA key (its certificate is for time-stamping only)', async () => {
    await expect(signAt('B-B', 'tsa-key', 'tsa')).rejects.toMatchObject({ code: 'certificate-not-for-signing', status: 409 });
    // The signing keys themselves sign.
    for (const key of ['officer1', 'officer2', 'seal']) await expect(signAt('B-B', `purpose-${key}`, key)).resolves.toBeTypeOf('string');
  });

  it('falls back to the CRL when the OCSP responder is down, and fails retryably when both are down', async () => {
    await ocsp!.stop();
    ocsp = undefined;
    try {
      const t = freshTrust(); // no cached OCSP answers
      const out = await signAt('B-LT', 'crl-fallback', 'officer1', t);
      const dss = dssOf(out);
      expect(dss.ocsps).toHaveLength(0);
      const issuing = new X509Certificate(readFileSync(DEV_PATHS.issuingCaPem));
      expect(dss.crls.map((c) => parseCrl(c).issuer)).toBeDefined();
      expect(dss.crls.length).toBeGreaterThanOrEqual(2);
      expect(issuing.subject).toContain('Issuing');
      repo.mode = 'fail';
      const t2 = freshTrust();
      const err = await signAt('B-LT', 'both-down', 'officer1', t2).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'revocation-unavailable', retryable: true, status: 503 });
      // B-B does not need revocation data: it still signs when nothing answers.
      await expect(signAt('B-B', 'bb-offline', 'officer1', t2)).resolves.toBeTypeOf('string');
    } finally {
      repo.mode = 'serve';
      ocsp = await startOcspResponder();
    }
  });
});

describe('extending signed documents', () => {
  const CORPUS = path.resolve(DEV_PATHS.root, '..', 'shared', 'corpus');

  it('raises our B-B document to B-LTA, keeping the signature valid', async () => {
    const bb = await signAt('B-B', 'ext-bb');
    const out = path.join(tmp, 'ext-lta.pdf');
    const r = await extendDocument(trust.signing, { path: bb }, { path: out }, 'B-LTA');
    expect(r.added).toEqual(['document-timestamp', 'dss', 'document-timestamp']);
    expect(qpdfCheck(out).ok).toBe(true);
    expect(readFileSync(out).subarray(0, readFileSync(bb).length).equals(readFileSync(bb))).toBe(true);
    const sigs = pdfsig(out);
    expect(sigs[0]).toMatchObject({ signatureValid: true, certificateStatus: 'Certificate is Trusted.' });
    const dss = dssOf(out);
    expect(dss.vriKeys.length).toBeGreaterThanOrEqual(2); // the signature and the first document timestamp
    expect(rawSignatures(out)).toHaveLength(3);
  });

  it('re-timestamps an LTA document (DSS for the last timestamp, then a new one)', async () => {
    const lta = await signAt('B-LTA', 'ext-relta');
    const out = path.join(tmp, 'ext-relta-2.pdf');
    const r = await extendDocument(trust.signing, { path: lta }, { path: out }, 'B-LTA');
    expect(r.added).toEqual(['dss', 'document-timestamp']);
    expect(qpdfCheck(out).ok).toBe(true);
    const doc = PdfDocument.open(out);
    const stamps = doc.signatureFields().filter((f) => f.value?.getName('Type') === 'DocTimeStamp');
    doc.close();
    expect(stamps).toHaveLength(2);
    expect(pdfsig(out)[0]?.signatureValid).toBe(true);
  });

  it('renews an archive whose signer certificate was revoked later: the revocation evidence goes into the DSS and the certificate is named; a new signature with it is refused', async () => {
    const lta = await signAt('B-LTA', 'ext-revoked-later');
    const real = trust.signing.revocation!;
    const officer = new X509Certificate(readFileSync(path.join(DEV_PATHS.certsDir, 'officer1.pem')));
    const revokedNow = new Date();
    const revocation = {
      chain: (leaf: X509Certificate) => real.chain(leaf),
      async revocation(cert: X509Certificate, issuer: X509Certificate) {
        const m = await real.revocation(cert, issuer);
        return cert.fingerprint256 === officer.fingerprint256 ? { ...m, status: 'revoked' as const, revocationTime: revokedNow } : m;
      },
    };
    const out = path.join(tmp, 'ext-revoked-later-2.pdf');
    const r = await extendDocument({ ...trust.signing, revocation }, { path: lta }, { path: out }, 'B-LTA');
    expect(r.added).toEqual(['dss', 'document-timestamp']);
    expect(r.revoked).toEqual([{ subject: officer.subject.replace(/\n/g, ', '), time: revokedNow }]);
    expect(qpdfCheck(out).ok).toBe(true);
    // The officer certificate's OCSP answer is in the new DSS (the evidence, whatever it says).
    const ocspSerials = dssOf(out).ocsps.flatMap((o) => (parseOcspResponse(o).basic?.responses ?? []).map((x) => Buffer.from(x.certId.serialNumber).toString('hex')));
    expect(ocspSerials).toContain(officer.serialNumber.toLowerCase().replace(/^(00)+/, ''));
    // Signing anew with the revoked certificate is still refused.
    await expect(signDocument({ ...trust.signing, revocation }, { path: fx.classic }, { memory: true }, { key: 'officer1', level: 'B-LT', reason: 'x' })).rejects.toMatchObject({
      code: 'certificate-revoked',
    });
  });

  it('extending a B-T signature whose signer was revoked later still puts its TSA\'s certificate and revocation data in the DSS', async () => {
    const bt = await signAt('B-T', 'ext-bt-revoked-later');
    const real = trust.signing.revocation!;
    const officer = new X509Certificate(readFileSync(path.join(DEV_PATHS.certsDir, 'officer1.pem')));
    const tsa = new X509Certificate(readFileSync(path.join(DEV_PATHS.certsDir, 'tsa.pem')));
    const asked: string[] = [];
    const revocation = {
      chain: (leaf: X509Certificate, carried?: readonly X509Certificate[]) => real.chain(leaf, carried),
      async revocation(cert: X509Certificate, issuer: X509Certificate) {
        asked.push(cert.fingerprint256);
        const m = await real.revocation(cert, issuer);
        return cert.fingerprint256 === officer.fingerprint256 ? { ...m, status: 'revoked' as const, revocationTime: new Date() } : m;
      },
    };
    const out = path.join(tmp, 'ext-bt-revoked-later-lt.pdf');
    const r = await extendDocument({ ...trust.signing, revocation }, { path: bt }, { path: out }, 'B-LT');
    expect(r.revoked.map((c) => c.subject)).toEqual([officer.subject.replace(/\n/g, ', ')]);
    expect(asked).toContain(tsa.fingerprint256);
    expect(dssOf(out).certs.map(fp)).toContain(fp(new Uint8Array(tsa.raw)));
  });

  it('says when there is nothing to do, and refuses unsigned documents', async () => {
    const bt = await signAt('B-T', 'ext-bt');
    await expect(extendDocument(trust.signing, { path: bt }, { path: path.join(tmp, 'noop.pdf') }, 'B-T')).rejects.toMatchObject({ code: 'already-at-level', status: 409 });
    await expect(extendDocument(trust.signing, { path: fx.classic }, { path: path.join(tmp, 'unsigned.pdf') }, 'B-T')).rejects.toMatchObject({ code: 'no-signature' });
  });

  it('time-stamps a document signed by someone else (corpus) without breaking its signatures', async () => {
    const input = path.join(tmp, 'foreign.pdf');
    copyFileSync(path.join(CORPUS, 'intact-multi', 'signpdf-signed-twice.pdf'), input);
    const before = pdfsig(input);
    const out = path.join(tmp, 'foreign-bt.pdf');
    const r = await extendDocument(trust.signing, { path: input }, { path: out }, 'B-T');
    expect(r.added).toEqual(['document-timestamp']);
    const after = pdfsig(out);
    for (let i = 0; i < before.length; i++) expect(after[i]?.signatureStatus).toBe(before[i]?.signatureStatus);
    const ts = rawSignatures(out).at(-1)!;
    const data = readFileSync(out);
    const [a, b, c, d] = ts.byteRange as [number, number, number, number];
    const digest = createHash('sha256').update(data.subarray(a, a + b)).update(data.subarray(c, c + d)).digest('hex');
    expect(tsVerify(ts.contents, ['-digest', digest]).ok).toBe(true);
  });
});
