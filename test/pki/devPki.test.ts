/**
 * The dev PKI made by scripts/dev-pki.ts, checked with independent tools: openssl verify / crl / ocsp,
 * certutil, node:crypto X509Certificate, and the HSM itself.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_AGENCY_DEFAULT, DEV_KEY_LABELS, DEV_PATHS as P, devCertPath } from '../../scripts/devPkiPaths.ts';
import { ensureDevPki } from '../../scripts/dev-pki.ts';
import { certificateFields } from '../../src/signers/index.ts';
import { openDevToken, readPemDer } from '../support/hsm.ts';
import { freePort, startOcspResponder, type OcspResponder } from '../support/ocspResponder.ts';

function sh(cmd: string, args: string[]): { status: number | null; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

const verifyChain = (label: string, extra: string[] = []): { status: number | null; out: string } =>
  sh('openssl', ['verify', ...extra, '-CAfile', P.rootCaPem, '-untrusted', P.issuingCaPem, devCertPath(label)]);

const cert = (label: string): X509Certificate => new X509Certificate(readFileSync(devCertPath(label)));
const ext = (file: string, name: string): string => execFileSync('openssl', ['x509', '-in', file, '-noout', '-ext', name], { encoding: 'utf8' });

describe('dev PKI generator', () => {
  it('is idempotent: a second run changes nothing', async () => {
    const first = await ensureDevPki();
    const before = statSync(devCertPath('officer1')).mtimeMs;
    const second = await ensureDevPki();
    expect(second.changes).toEqual([]);
    expect(statSync(devCertPath('officer1')).mtimeMs).toBe(before);
    expect(first.changes.every((c) => typeof c === 'string')).toBe(true);
  });

  it('keeps the PINs and CA keys private to the owner', () => {
    for (const f of [P.pinFile, P.soPinFile, P.rootCaKey, P.issuingCaKey, P.ocspKey]) {
      expect(statSync(f).mode & 0o077).toBe(0);
    }
    expect(readFileSync(P.pinFile, 'utf8').trim()).toMatch(/^[0-9a-f]{16}$/);
    expect(readFileSync(P.softhsmConf, 'utf8')).toContain(`directories.tokendir = ${P.tokensDir}`);
  });

  it('writes the distribution files: chain, trust anchor, DER certificates and CRLs', () => {
    const chain = readFileSync(P.chainPem, 'utf8');
    expect(chain.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    expect(new X509Certificate(readFileSync(P.trustRootPem)).subject).toContain('CN=Chungthuc Dev Root CA');
    expect(new X509Certificate(readFileSync(P.rootCaCer)).fingerprint256).toBe(new X509Certificate(readFileSync(P.rootCaPem)).fingerprint256);
    expect(new X509Certificate(readFileSync(P.issuingCaCer)).fingerprint256).toBe(new X509Certificate(readFileSync(P.issuingCaPem)).fingerprint256);
    for (const crl of [P.rootCaCrl, P.issuingCaCrl]) {
      expect(sh('openssl', ['crl', '-inform', 'DER', '-in', crl, '-noout']).status).toBe(0);
    }
  });
});

describe('certificates', () => {
  it('every HSM certificate but the expired one chains to the dev root', () => {
    for (const label of DEV_KEY_LABELS.filter((l) => l !== 'officer-expired')) {
      const r = verifyChain(label);
      expect(r.out, label).toContain(': OK');
      expect(r.status).toBe(0);
    }
    const ca = sh('openssl', ['verify', '-CAfile', P.rootCaPem, P.issuingCaPem]);
    expect(ca.status).toBe(0);
  });

  it('the expired certificate fails on validity only, and its validity lies entirely in the past', () => {
    const c = cert('officer-expired');
    expect(Date.parse(c.validTo)).toBeLessThan(Date.now());
    const r = verifyChain('officer-expired');
    expect(r.status).not.toBe(0);
    expect(r.out).toContain('certificate has expired');
    // At a time inside its validity it chains fine.
    const at = Math.floor((Date.parse(c.validFrom) + Date.parse(c.validTo)) / 2000);
    expect(verifyChain('officer-expired', ['-attime', String(at)]).status).toBe(0);
  });

  it('the CA certificates are marked as such, the issuing CA with pathlen 0', () => {
    expect(ext(P.rootCaPem, 'basicConstraints')).toMatch(/critical\s+CA:TRUE/);
    expect(ext(P.issuingCaPem, 'basicConstraints')).toMatch(/critical\s+CA:TRUE, pathlen:0/);
    expect(new X509Certificate(readFileSync(P.issuingCaPem)).issuer).toContain('CN=Chungthuc Dev Root CA');
    const aia = ext(P.issuingCaPem, 'authorityInfoAccess,crlDistributionPoints');
    expect(aia).toContain('CA Issuers - URI:http://127.0.0.1:18962/root-ca.cer');
    expect(aia).toContain('URI:http://127.0.0.1:18962/root-ca.crl');
  });

  it('the TSA certificate has a critical extendedKeyUsage with timeStamping only (RFC 3161 §2.3)', () => {
    const e = ext(devCertPath('tsa'), 'extendedKeyUsage');
    expect(e).toMatch(/Extended Key Usage: critical/);
    expect(e.trim().split('\n').slice(1).map((l) => l.trim())).toEqual(['Time Stamping']);
  });

  it('end entities carry critical keyUsage digitalSignature+nonRepudiation, AIA and CRLDP', () => {
    for (const label of ['seal', 'officer1', 'officer2']) {
      const ku = ext(devCertPath(label), 'keyUsage');
      expect(ku).toMatch(/Key Usage: critical\s+Digital Signature, Non Repudiation\s*$/);
      const aia = ext(devCertPath(label), 'authorityInfoAccess,crlDistributionPoints');
      expect(aia).toContain('OCSP - URI:http://127.0.0.1:18961');
      expect(aia).toContain('CA Issuers - URI:http://127.0.0.1:18962/issuing-ca.cer');
      expect(aia).toContain('URI:http://127.0.0.1:18962/issuing-ca.crl');
    }
  });

  it('subjects are C=VN with UTF-8 Vietnamese names', () => {
    expect(cert('officer1').subject).toContain('CN=Nguyễn Văn An');
    expect(cert('officer2').subject).toContain('CN=Lê Thị Bình');
    const seal = cert('seal').subject;
    expect(seal).toContain('C=VN');
    if (process.env.DEV_PKI_AGENCY === undefined) expect(seal).toContain(`CN=${DEV_AGENCY_DEFAULT}`);
    const asn1 = execFileSync('openssl', ['asn1parse', '-in', devCertPath('officer1')], { encoding: 'utf8' });
    expect(asn1).toMatch(/UTF8STRING\s+:Nguyễn Văn An/);
    expect(asn1).toMatch(/PRINTABLESTRING\s+:VN/);
  });

  it('officer2 has an ECDSA P-256 key and the others RSA of the requested size', () => {
    expect(cert('officer2').publicKey.asymmetricKeyDetails).toMatchObject({ namedCurve: 'prime256v1' });
    expect(cert('tsa').publicKey.asymmetricKeyDetails).toMatchObject({ modulusLength: 3072 });
    expect(cert('seal').publicKey.asymmetricKeyDetails).toMatchObject({ modulusLength: 3072 });
    expect(cert('officer1').publicKey.asymmetricKeyDetails).toMatchObject({ modulusLength: 2048 });
  });

  it('the OCSP responder certificate has critical EKU OCSPSigning and id-pkix-ocsp-nocheck', () => {
    const text = execFileSync('openssl', ['x509', '-in', P.ocspPem, '-noout', '-text'], { encoding: 'utf8' });
    expect(text).toMatch(/Extended Key Usage: critical\s+OCSP Signing/);
    expect(text).toContain('OCSP No Check');
  });

  it('the token holds each certificate next to its key (same CKA_ID, same public key)', async () => {
    const token = await openDevToken({ poolSize: 1 });
    try {
      for (const label of DEV_KEY_LABELS) {
        const signer = await token.getSigner(label);
        const fileDer = readPemDer(devCertPath(label));
        expect(Buffer.from(signer.certificate as Uint8Array).equals(Buffer.from(fileDer)), label).toBe(true);
        const spki = await token.getPublicKeySpki(label);
        expect(Buffer.from(spki).equals(Buffer.from(certificateFields(fileDer).spki)), label).toBe(true);
      }
    } finally {
      await token.close();
    }
  });

  it('each CSR was signed through the HSM and verifies against its public key', () => {
    for (const label of DEV_KEY_LABELS) {
      const r = sh('openssl', ['req', '-in', `${P.certsDir}/${label}.csr`, '-noout', '-verify']);
      expect(r.out, label).toMatch(/verify OK|Certificate request self-signature verify OK/);
    }
  });
});

describe('revocation', () => {
  it('the CRL lists officer-revoked with reason keyCompromise, and openssl -crl_check rejects it', () => {
    const serial = execFileSync('openssl', ['x509', '-in', devCertPath('officer-revoked'), '-noout', '-serial'], { encoding: 'utf8' }).trim().replace('serial=', '');
    const crl = execFileSync('openssl', ['crl', '-in', P.issuingCaCrl, '-inform', 'DER', '-noout', '-text'], { encoding: 'utf8' });
    expect(crl.toUpperCase()).toContain(`SERIAL NUMBER: ${serial}`);
    expect(crl).toContain('Key Compromise');
    const revoked = verifyChain('officer-revoked', ['-crl_check', '-CRLfile', P.issuingCaCrlPem]);
    expect(revoked.status).not.toBe(0);
    expect(revoked.out).toContain('certificate revoked');
    expect(verifyChain('officer1', ['-crl_check', '-CRLfile', P.issuingCaCrlPem]).status).toBe(0);
    expect(sh('openssl', ['verify', '-crl_check', '-CRLfile', P.rootCaCrlPem, '-CAfile', P.rootCaPem, P.issuingCaPem]).status).toBe(0);
  });

  describe('OCSP', () => {
    let responder: OcspResponder;
    beforeAll(async () => {
      // A free port, so a responder another suite left on 18961 cannot answer in our place.
      responder = await startOcspResponder({ port: await freePort() });
    });
    afterAll(async () => {
      await responder?.stop();
    });

    const query = (label: string): string =>
      sh('openssl', ['ocsp', '-issuer', P.issuingCaPem, '-cert', devCertPath(label), '-url', responder.url,
        '-CAfile', P.chainPem, '-resp_text']).out;

    it('answers good for officer1, with a response signed by the delegated responder', () => {
      const out = query('officer1');
      expect(out).toContain('Response verify OK');
      expect(out).toMatch(/officer1\.pem: good/);
      expect(out).toContain('Responder Id: C = VN, O = Chungthuc Dev, CN = Chungthuc Dev OCSP Responder');
    });

    it('answers revoked (keyCompromise) for officer-revoked', () => {
      const out = query('officer-revoked');
      expect(out).toMatch(/officer-revoked\.pem: revoked/);
      expect(out).toContain('Reason: keyCompromise');
    });
  });
});

describe('NSS db for pdfsig', () => {
  it('trusts the dev root as "CT,C,C"', () => {
    expect(existsSync(`${P.nssDir}/cert9.db`)).toBe(true);
    const out = execFileSync('certutil', ['-L', '-d', `sql:${P.nssDir}`], { encoding: 'utf8' });
    expect(out).toMatch(/Chungthuc Dev Root CA\s+CT,C,C/);
  });

  it('lets NSS validate an officer certificate for signing (the check pdfsig makes)', () => {
    // Work on a copy so the shared db stays exactly as generated.
    const dir = mkdtempSync(path.join(tmpdir(), 'chungthuc-nss-'));
    try {
      cpSync(P.nssDir, dir, { recursive: true });
      const db = `sql:${dir}`;
      execFileSync('certutil', ['-A', '-d', db, '-n', 'issuing', '-t', ',,', '-i', P.issuingCaPem]);
      execFileSync('certutil', ['-A', '-d', db, '-n', 'officer1', '-t', ',,', '-i', devCertPath('officer1')]);
      execFileSync('certutil', ['-A', '-d', db, '-n', 'expired', '-t', ',,', '-i', devCertPath('officer-expired')]);
      expect(sh('certutil', ['-V', '-d', db, '-n', 'officer1', '-u', 'S']).out).toContain('certificate is valid');
      expect(sh('certutil', ['-V', '-d', db, '-n', 'expired', '-u', 'S']).out).toContain('invalid');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
