/**
 * A throwaway PKI for path-validation tests: any issuer (a CA or, for attacks, an end-entity) issues
 * certificates with the extension section asked for, written with `openssl x509 -req` from a config
 * the test supplies. Documents are signed with the project's signPdf; signature and document
 * time-stamps are made with its signTimeStampToken; revocation comes from a stub RevocationSource the
 * test scripts per certificate (by common name).
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateFixtures } from '../../../scripts/gen-fixtures.ts';
import { addSignatureTimestamp, digest, encodeTstInfo, signatureValueOf, type HashAlgorithm } from '../../../src/cms/index.ts';
import { addDocumentTimestamp, signPdf } from '../../../src/pades/index.ts';
import type { RevocationSource, RevocationStatus } from '../../../src/pades/validation/index.ts';
import { signTimeStampToken } from '../../../src/tsa/index.ts';
import { SoftSigner } from '../../support/softSigner.ts';

/** Extension sections the tests share, by name; a test's config is these plus its own. */
export const section = (name: string, lines: string[]): string => `[${name}]\n${[...lines, 'subjectKeyIdentifier = hash', 'authorityKeyIdentifier = keyid'].join('\n')}\n`;
export const SECTIONS = {
  ca: section('ca', ['basicConstraints = critical, CA:TRUE', 'keyUsage = critical, keyCertSign, cRLSign']),
  caLen0: section('ca_len0', ['basicConstraints = critical, CA:TRUE, pathlen:0', 'keyUsage = critical, keyCertSign, cRLSign']),
  leaf: section('leaf', ['basicConstraints = critical, CA:FALSE', 'keyUsage = critical, digitalSignature, nonRepudiation']),
  eeNoKu: section('ee_no_ku', ['basicConstraints = critical, CA:FALSE']),
  tsa: section('tsa', ['basicConstraints = critical, CA:FALSE', 'keyUsage = critical, digitalSignature', 'extendedKeyUsage = critical, timeStamping']),
};

export interface Issued {
  name: string;
  pem: string;
  key: string;
  der: Uint8Array;
  cert: X509Certificate;
  signer: SoftSigner;
}

export interface TestPki {
  dir: string;
  /** A self-signed certificate with extension section `section`. */
  root(name: string, section: string, days?: number): Issued;
  /** A certificate for `/CN=<name>` (or `subject`) issued by `issuer` with extension section `section`. */
  issue(name: string, issuer: Issued, section: string, opts?: { days?: number; subject?: string; md?: 'md5' | 'sha1' | 'sha256'; bits?: number }): Issued;
  /** A classic test PDF. */
  pdf(): Uint8Array;
  cleanup(): void;
}

export function createTestPki(label: string, extensions: string): TestPki {
  const dir = mkdtempSync(path.join(os.tmpdir(), `chungthuc-${label}-`));
  const cnf = path.join(dir, 'ext.cnf');
  writeFileSync(cnf, `[req]\ndistinguished_name = dn\n[dn]\n${extensions}`);
  const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let serial = 0x1000;
  let pdf: Uint8Array | undefined;
  const made = (name: string, pem: string, key: string): Issued => {
    const cert = new X509Certificate(readFileSync(pem));
    const der = new Uint8Array(cert.raw);
    const signer = new SoftSigner({
      key: { label: name, id: '01', keyType: 'RSA', bits: 2048 },
      certificate: der,
      keyPath: key,
      certificatePath: pem,
      privateKey: createPrivateKey(readFileSync(key)),
    });
    return { name, pem, key, der, cert, signer };
  };
  const newKey = (name: string, bits = 2048): string => {
    const key = path.join(dir, `${name}.key`);
    writeFileSync(key, generateKeyPairSync('rsa', { modulusLength: bits }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    return key;
  };
  return {
    dir,
    root(name, section, days = 3650) {
      const key = newKey(name);
      const pem = path.join(dir, `${name}.pem`);
      openssl(['req', '-x509', '-new', '-key', key, '-subj', `/CN=${name}`, '-days', String(days), '-set_serial', String(serial++), '-config', cnf, '-extensions', section, '-out', pem]);
      return made(name, pem, key);
    },
    issue(name, issuer, section, opts = {}) {
      const key = newKey(name, opts.bits);
      const pem = path.join(dir, `${name}.pem`);
      const csr = path.join(dir, `${name}.csr`);
      openssl(['req', '-new', '-key', key, '-subj', opts.subject ?? `/CN=${name}`, '-config', cnf, '-out', csr]);
      openssl(['x509', '-req', `-${opts.md ?? 'sha256'}`, '-in', csr, '-CA', issuer.pem, '-CAkey', issuer.key, '-set_serial', String(serial++), '-days', String(opts.days ?? 1000), '-extfile', cnf, '-extensions', section, '-out', pem]);
      return made(name, pem, key);
    },
    pdf() {
      pdf ??= new Uint8Array(readFileSync(generateFixtures(path.join(dir, 'fx')).classic));
      return pdf;
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An RFC 3161 token by `tsa` over `imprint` (SHA-256 unless said), claiming `genTime`, carrying `chain` after the TSA certificate. */
export async function tokenBy(tsa: Issued, imprint: Uint8Array, genTime: Date, chain: readonly Issued[] = [], imprintAlgorithm: HashAlgorithm = 'SHA-256'): Promise<Uint8Array> {
  const tstInfo = encodeTstInfo({ policy: '1.2.3.4.1', messageImprint: { hashAlgorithm: imprintAlgorithm, hashedMessage: imprint }, serialNumber: BigInt(genTime.getTime()), genTime });
  return signTimeStampToken({ signer: tsa.signer, certificate: tsa.der, chain: chain.map((c) => c.der), tstInfo, digestAlgorithm: 'SHA-256', scheme: 'RSASSA-PKCS1-v1_5', includeCertificates: true });
}

/** A B-B signature by `who` (the CMS carrying `chain`), or B-T with a token by `ts.tsa` claiming `ts.genTime`. */
export async function signedBy(
  pdf: Uint8Array,
  who: Issued,
  chain: readonly Issued[],
  ts?: { tsa: Issued; genTime: Date; chain?: readonly Issued[]; imprintAlgorithm?: HashAlgorithm },
): Promise<Uint8Array> {
  const r = await signPdf({ bytes: pdf }, { memory: true }, {
    signer: who.signer,
    chain: chain.map((c) => c.der),
    extraReservedBytes: ts ? 10_000 : 0,
    beforeEmbed: ts
      ? async (cms) => {
          const alg = ts.imprintAlgorithm ?? 'SHA-256';
          return addSignatureTimestamp(cms, await tokenBy(ts.tsa, digest(alg, signatureValueOf(cms)), ts.genTime, ts.chain, alg));
        }
      : undefined,
  });
  return r.bytes!;
}

/** A document time-stamp (B-LTA step) by `tsa` claiming `genTime`. */
export async function withDocumentTimestamp(bytes: Uint8Array, tsa: Issued, genTime: Date, chain: readonly Issued[] = []): Promise<Uint8Array> {
  const r = await addDocumentTimestamp({ bytes }, { memory: true }, {
    tokenSizeEstimate: 10_000,
    async timestamp(imprint) {
      return { token: await tokenBy(tsa, imprint, genTime, chain), genTime, tsaCertificate: tsa.der };
    },
  });
  return r.bytes!;
}

/**
 * A RevocationSource answering per certificate common name (`CN=<name>`): the scripted status, or
 * `good` for names not listed. Every question is recorded.
 */
export function scriptedRevocation(answers: Record<string, RevocationStatus> = {}): RevocationSource & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    async status(cert) {
      const cn = /CN=([^\n,]+)/.exec(cert.subject)?.[1] ?? '';
      asked.push(cn);
      return answers[cn] ?? { status: 'good', source: 'test' };
    },
  };
}
