/**
 * B-LT when the CA's delegated OCSP responder lacks id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1): the
 * responder's own status must then be provable, so the DSS also carries its issuer's CRL, and the
 * strict validator, offline, establishes it from the document alone. The dev PKI's responder has
 * nocheck; here the dev issuing CA issues a second responder certificate without it, and `openssl
 * ocsp` answers with that one on the dev OCSP port.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate, createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devRepoUrl } from '../../scripts/devPkiPaths.ts';
import { generateFixtures, type FixtureSet } from '../../scripts/gen-fixtures.ts';
import { certIdSerialHex, parseOcspResponse } from '../../src/cms/index.ts';
import { loadConfig } from '../../src/config.ts';
import { buildTrustServices } from '../../src/main.ts';
import { STRICT_POLICY } from '../../src/pades/validation/index.ts';
import { loadCertificates } from '../../src/pki/index.ts';
import { openDatabase, type OpenedDatabase } from '../../src/registry/index.ts';
import { signDocument } from '../../src/services/signDocument.ts';
import { validateDocument } from '../../src/services/validateDocument.ts';
import type { Pkcs11Token } from '../../src/signers/index.ts';
import { DEV_PATHS, openDevToken } from '../support/hsm.ts';
import { startOcspResponder, type OcspResponder } from '../support/ocspResponder.ts';
import { startRepoServer, type RepoServer } from '../support/repoServer.ts';
import { dssOf } from '../support/dss.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'chungthuc-responder-crl-'));
let token: Pkcs11Token;
let db: OpenedDatabase;
let fx: FixtureSet;
let repo: RepoServer;
const file = (name: string) => path.join(tmp, name);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A delegated OCSP responder certificate from the dev issuing CA: OCSPSigning, a CRL distribution point (`crl`), `extra` lines. */
function responderCertificate(name: string, extra: string[] = [], crl = `${devRepoUrl()}/issuing-ca.crl`): { pem: string; key: string } {
  const key = file(`${name}.key`);
  execFileSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', key]);
  execFileSync('openssl', ['req', '-new', '-key', key, '-subj', `/C=VN/O=Chungthuc Dev/CN=${name}`, '-out', file(`${name}.csr`)]);
  writeFileSync(
    file(`${name}.ext`),
    [
      'basicConstraints = critical, CA:false',
      'keyUsage = critical, digitalSignature',
      'extendedKeyUsage = critical, OCSPSigning',
      'subjectKeyIdentifier = hash',
      'authorityKeyIdentifier = keyid:always',
      `crlDistributionPoints = URI:${crl}`,
      ...extra,
      '',
    ].join('\n'),
  );
  const pem = file(`${name}.pem`);
  execFileSync('openssl', ['x509', '-req', '-in', file(`${name}.csr`), '-CA', DEV_PATHS.issuingCaPem, '-CAkey', DEV_PATHS.issuingCaKey, '-set_serial', `0x${sha(Buffer.from(name)).slice(0, 16)}`, '-days', '30', '-sha256', '-extfile', file(`${name}.ext`), '-out', pem]);
  return { pem, key };
}

beforeAll(async () => {
  fx = generateFixtures(file('fx'));
  token = await openDevToken({ poolSize: 1 });
  db = openDatabase(file('db.sqlite'));
  repo = await startRepoServer();
}, 120_000);

afterAll(async () => {
  await repo?.stop();
  db?.close();
  await token?.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** Signs the fixture at B-LT with officer1 while `responder` answers OCSP; the PDF and its offline strict validation. */
async function signWith(responder: { pem: string; key: string }, name: string, index?: string) {
  let ocsp: OcspResponder | undefined;
  try {
    ocsp = await startOcspResponder({ signer: responder, ...(index ? { index } : {}) });
    // Fresh trust services: no OCSP answer cached from another responder.
    const config = loadConfig({ ...process.env, DATA_DIR: tmp, LOG_LEVEL: 'silent', REVOCATION_TIMEOUT_MS: '3000' });
    const trust = buildTrustServices(config, (label) => token.getSigner(label), db.db);
    const out = file(`${name}.pdf`);
    await signDocument(trust.signing, { path: fx.classic }, { path: out }, { key: 'officer1', level: 'B-LT', reason: 'responder CRL' });
    const pdf = new Uint8Array(readFileSync(out));
    // Offline: no revocation checker, the document's DSS alone.
    const report = await validateDocument({ trustAnchors: loadCertificates(DEV_PATHS.rootCaPem), policy: STRICT_POLICY }, { bytes: pdf });
    return { pdf, report };
  } finally {
    await ocsp?.stop();
  }
}

describe('B-LT with a delegated OCSP responder without id-pkix-ocsp-nocheck', () => {
  it('embeds the CRL that proves the responder good, and the strict validator passes offline', async () => {
    const responder = responderCertificate('Dev OCSP responder without nocheck');
    const { pdf, report } = await signWith(responder, 'no-nocheck');
    const dss = dssOf(pdf);
    // The officer's status comes from that responder…
    const responderDer = new Uint8Array(new X509Certificate(readFileSync(responder.pem)).raw);
    const answers = dss.ocsps.map((o) => parseOcspResponse(o).basic!);
    expect(answers.length).toBeGreaterThan(0);
    expect([...answers.flatMap((b) => b.certs), ...dss.certs].map(sha)).toContain(sha(responderDer));
    // …and the issuing CA's CRL, which lists the responder's status, is there too.
    const issuingCrl = new Uint8Array(readFileSync(DEV_PATHS.issuingCaCrl));
    expect(dss.crls.map(sha)).toContain(sha(issuingCrl));
    expect(report.documentIndication).toBe('TOTAL-PASSED');
    expect(report.signatures.map((s) => [s.indication, s.subIndication])).toEqual([['TOTAL-PASSED', null]]);
  });

  it("relies on the certificate's own CRL instead when the responder's CRL cannot be had", async () => {
    const responder = responderCertificate('Dev OCSP responder with an unreachable CRL', [], 'http://127.0.0.1:9/responders.crl');
    const { pdf, report } = await signWith(responder, 'unreachable');
    const dss = dssOf(pdf);
    const officer = new X509Certificate(readFileSync(path.join(DEV_PATHS.certsDir, 'officer1.pem')));
    // No OCSP answer about the officer (it could not be relied on); the issuing CA's CRL speaks for it.
    const about = dss.ocsps.flatMap((o) => parseOcspResponse(o).basic!.responses.map((r) => certIdSerialHex(r.certId).replace(/^0+/, '')));
    expect(about).not.toContain(officer.serialNumber.toLowerCase().replace(/^0+/, ''));
    expect(dss.crls.map(sha)).toContain(sha(new Uint8Array(readFileSync(DEV_PATHS.issuingCaCrl))));
    expect(report.documentIndication).toBe('TOTAL-PASSED');
  });

  it('keeps a "revoked" answer whose responder cannot be checked: signing is refused, not cleared by the older CRL', async () => {
    const responder = responderCertificate('Dev OCSP responder that revokes', [], 'http://127.0.0.1:9/responders.crl');
    // The CA's database with officer1 revoked an hour ago; its published CRL (older) still says good.
    const officer = new X509Certificate(readFileSync(path.join(DEV_PATHS.certsDir, 'officer1.pem')));
    const when = new Date(Date.now() - 3600_000).toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
    const index = file('index-revoked.txt');
    const lines = readFileSync(DEV_PATHS.issuingCaIndex, 'utf8').split('\n').map((l) => {
      const f = l.split('\t');
      return f[3]?.toUpperCase() === officer.serialNumber.toUpperCase() ? ['R', f[1], `${when},keyCompromise`, f[3], f[4], f[5]].join('\t') : l;
    });
    writeFileSync(index, lines.join('\n'));
    writeFileSync(`${index}.attr`, 'unique_subject = no\n');
    expect(lines.some((l) => l.startsWith('R\t'))).toBe(true);
    await expect(signWith(responder, 'revoked', index)).rejects.toMatchObject({ code: 'certificate-revoked' });
  });

  it('adds no responder CRL when the responder carries ocsp-nocheck', async () => {
    const responder = responderCertificate('Dev OCSP responder with nocheck', ['noCheck = ignored']);
    const { pdf, report } = await signWith(responder, 'nocheck');
    const issuingCrl = new Uint8Array(readFileSync(DEV_PATHS.issuingCaCrl));
    expect(dssOf(pdf).crls.map(sha)).not.toContain(sha(issuingCrl));
    expect(report.documentIndication).toBe('TOTAL-PASSED');
  });
});
