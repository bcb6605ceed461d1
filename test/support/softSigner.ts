/**
 * A software Signer for tests: keys from node:crypto, certificates from `openssl` in a temporary
 * directory (root CA → intermediate CA → end-entity), signing a pre-computed digest as the Signer
 * port requires. PKCS#1 v1.5 uses privateEncrypt over the DigestInfo (RFC 8017 §9.2); PSS and ECDSA
 * use `openssl pkeyutl`, which signs a digest directly (node:crypto only signs whole messages).
 */
import { execFileSync } from 'node:child_process';
import { constants, generateKeyPairSync, privateEncrypt, randomBytes, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DigestAlgorithm, KeyInfo, NamedCurve, SignatureScheme, Signer } from '../../src/signers/Signer.ts';

export type SoftKeySpec = { readonly type: 'RSA'; readonly bits: number } | { readonly type: 'EC'; readonly curve: NamedCurve };

const OPENSSL_CURVES: Readonly<Record<NamedCurve, string>> = { 'P-256': 'prime256v1', 'P-384': 'secp384r1', 'P-521': 'secp521r1' };
const CURVE_BITS: Readonly<Record<NamedCurve, number>> = { 'P-256': 256, 'P-384': 384, 'P-521': 521 };

/** DER prefixes of DigestInfo (RFC 8017 §9.2 note 1). */
const DIGEST_INFO_PREFIX: Readonly<Record<DigestAlgorithm, string>> = {
  'SHA-256': '3031300d060960864801650304020105000420',
  'SHA-384': '3041300d060960864801650304020205000430',
  'SHA-512': '3051300d060960864801650304020305000440',
};

export class SoftSigner implements Signer {
  readonly key: KeyInfo;
  readonly certificate: Uint8Array;
  /** PEM files, handy for openssl in tests. */
  readonly keyPath: string;
  readonly certificatePath: string;
  readonly privateKey: KeyObject;

  constructor(opts: { key: KeyInfo; certificate: Uint8Array; keyPath: string; certificatePath: string; privateKey: KeyObject }) {
    this.key = opts.key;
    this.certificate = opts.certificate;
    this.keyPath = opts.keyPath;
    this.certificatePath = opts.certificatePath;
    this.privateKey = opts.privateKey;
  }

  async sign(digestValue: Uint8Array, digestAlgorithm: DigestAlgorithm, scheme: SignatureScheme): Promise<Uint8Array> {
    if ((scheme === 'ECDSA') !== (this.key.keyType === 'EC')) {
      throw new Error(`${this.key.keyType} key cannot do ${scheme}`);
    }
    const md = digestAlgorithm.replace('-', '').toLowerCase();
    switch (scheme) {
      case 'RSASSA-PKCS1-v1_5': {
        const digestInfo = Buffer.concat([Buffer.from(DIGEST_INFO_PREFIX[digestAlgorithm], 'hex'), digestValue]);
        return new Uint8Array(privateEncrypt({ key: this.privateKey, padding: constants.RSA_PKCS1_PADDING }, digestInfo));
      }
      case 'RSASSA-PSS':
        // Salt length = hash length, as the Signer port documents (RFC 8017 §9.1).
        return this.pkeyutl(digestValue, ['-pkeyopt', `digest:${md}`, '-pkeyopt', 'rsa_padding_mode:pss', '-pkeyopt', 'rsa_pss_saltlen:digest']);
      case 'ECDSA':
        return this.pkeyutl(digestValue, ['-pkeyopt', `digest:${md}`]);
    }
  }

  private pkeyutl(input: Uint8Array, options: string[]): Uint8Array {
    return new Uint8Array(execFileSync('openssl', ['pkeyutl', '-sign', '-inkey', this.keyPath, ...options], { input }));
  }
}

export interface SoftPki {
  readonly dir: string;
  readonly root: { readonly der: Uint8Array; readonly path: string };
  readonly intermediate: { readonly der: Uint8Array; readonly path: string };
  /**
   * Issue an end-entity certificate under the intermediate CA and return its Signer. `profile` `tsa`
   * gives the critical extendedKeyUsage timeStamping an RFC 3161 TSA needs (RFC 3161 §2.3).
   */
  issue(spec: SoftKeySpec, commonName: string, options?: { serialHex?: string; profile?: 'leaf' | 'tsa' }): SoftSigner;
  /** Remove the temporary directory. */
  cleanup(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function pemToDer(pem: string): Uint8Array {
  const base64 = pem.replace(/-----(BEGIN|END) [^-]+-----/g, '').replace(/\s+/g, '');
  return new Uint8Array(Buffer.from(base64, 'base64'));
}

function writeKey(dir: string, name: string, spec: SoftKeySpec): { keyPath: string; privateKey: KeyObject } {
  const { privateKey } =
    spec.type === 'RSA'
      ? generateKeyPairSync('rsa', { modulusLength: spec.bits })
      : generateKeyPairSync('ec', { namedCurve: OPENSSL_CURVES[spec.curve] });
  const keyPath = path.join(dir, `${name}.key`);
  writeFileSync(keyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  return { keyPath, privateKey };
}

/** openssl extension sections of a signer's (`leaf`) and a TSA's (`tsa`) certificate, shared by test PKIs. */
export const LEAF_AND_TSA_EXTENSIONS = `[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[tsa]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

const EXTENSIONS = `
[req]
distinguished_name = dn
[dn]
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
${LEAF_AND_TSA_EXTENSIONS}`;

/** Root (EC P-256) → intermediate (RSA 2048) in a fresh temporary directory. */
export function createSoftPki(): SoftPki {
  const dir = mkdtempSync(path.join(tmpdir(), 'chungthuc-softpki-'));
  writeFileSync(path.join(dir, 'ext.cnf'), EXTENSIONS);
  const rootKey = writeKey(dir, 'root', { type: 'EC', curve: 'P-256' });
  openssl(
    ['req', '-x509', '-new', '-key', rootKey.keyPath, '-subj', '/C=VN/O=Chungthuc Test/CN=Test Root CA', '-days', '3650',
      '-set_serial', '0x01', '-config', 'ext.cnf', '-extensions', 'ca', '-out', 'root.pem'],
    dir,
  );
  const issueCert = (name: string, keyPath: string, subject: string, issuer: string, extensions: string, serialHex: string): void => {
    openssl(['req', '-new', '-key', keyPath, '-subj', subject, '-out', `${name}.csr`], dir);
    openssl(
      ['x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}.pem`, '-CAkey', `${issuer}.key`, '-set_serial', `0x${serialHex}`,
        '-days', '825', '-extfile', 'ext.cnf', '-extensions', extensions, '-out', `${name}.pem`],
      dir,
    );
  };
  const interKey = writeKey(dir, 'intermediate', { type: 'RSA', bits: 2048 });
  issueCert('intermediate', interKey.keyPath, '/C=VN/O=Chungthuc Test/CN=Test Issuing CA', 'root', 'ca', '1002');
  const readDer = (name: string): Uint8Array => pemToDer(readFileSync(path.join(dir, `${name}.pem`), 'utf8'));
  let counter = 0;
  return {
    dir,
    root: { der: readDer('root'), path: path.join(dir, 'root.pem') },
    intermediate: { der: readDer('intermediate'), path: path.join(dir, 'intermediate.pem') },
    issue(spec, commonName, options = {}) {
      const name = `leaf${++counter}`;
      const { keyPath, privateKey } = writeKey(dir, name, spec);
      // Default serial: 16 random octets, high bit cleared so it stays positive (RFC 5280 §4.1.2.2).
      const serialHex = options.serialHex ?? (randomBytes(16)[0]! & 0x7f).toString(16).padStart(2, '0') + randomBytes(15).toString('hex');
      issueCert(name, keyPath, `/C=VN/O=Chungthuc Test/CN=${commonName}`, 'intermediate', options.profile ?? 'leaf', serialHex);
      const key: KeyInfo =
        spec.type === 'RSA'
          ? { label: name, id: counter.toString(16).padStart(2, '0'), keyType: 'RSA', bits: spec.bits }
          : { label: name, id: counter.toString(16).padStart(2, '0'), keyType: 'EC', bits: CURVE_BITS[spec.curve], namedCurve: spec.curve };
      return new SoftSigner({ key, certificate: readDer(name), keyPath, certificatePath: path.join(dir, `${name}.pem`), privateKey });
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
