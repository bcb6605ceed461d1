/**
 * Signatures made through SoftHSM2, checked independently with node:crypto and the openssl CLI using
 * the public key from the certificate stored in the token.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate, constants, createHash, createPublicKey, randomBytes, verify, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as asn1js from 'asn1js';
import pkcs11js from 'pkcs11js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HsmError, certificateFields, type DigestAlgorithm, type Pkcs11Token, type Signer } from '../../src/signers/index.ts';
import { devCertPath, openDevToken, readPemDer } from '../support/hsm.ts';

const nodeHash: Record<DigestAlgorithm, string> = { 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };
const message = Buffer.from('Bản sao điện tử được chứng thực từ bản chính — chungthuc test message');
const digestOf = (alg: DigestAlgorithm, data: Uint8Array = message): Uint8Array => createHash(nodeHash[alg]).update(data).digest();

function publicKeyOf(signer: Signer): KeyObject {
  expect(signer.certificate).toBeDefined();
  return new X509Certificate(Buffer.from(signer.certificate as Uint8Array)).publicKey;
}

let token: Pkcs11Token;
let rsa: Signer;
let ec: Signer;
let work: string;

beforeAll(async () => {
  token = await openDevToken({ poolSize: 2 });
  rsa = await token.getSigner('officer1');
  ec = await token.getSigner('officer2');
  work = mkdtempSync(path.join(tmpdir(), 'chungthuc-signers-'));
});

afterAll(async () => {
  await token?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('key lookup', () => {
  it('reads key type, size and the certificate stored with the same CKA_ID', () => {
    expect(rsa.key).toMatchObject({ label: 'officer1', keyType: 'RSA', bits: 2048 });
    expect(rsa.key.id).toMatch(/^[0-9a-f]+$/);
    expect(ec.key).toMatchObject({ label: 'officer2', keyType: 'EC', bits: 256, namedCurve: 'P-256' });
    expect(Buffer.from(rsa.certificate as Uint8Array).equals(Buffer.from(readPemDer(devCertPath('officer1'))))).toBe(true);
    expect(Buffer.from(ec.certificate as Uint8Array).equals(Buffer.from(readPemDer(devCertPath('officer2'))))).toBe(true);
  });

  it('lists every dev key with its parameters', async () => {
    const keys = await token.listKeys();
    const byLabel = new Map(keys.map((k) => [k.label, k]));
    expect(byLabel.get('tsa')).toMatchObject({ keyType: 'RSA', bits: 3072 });
    expect(byLabel.get('seal')).toMatchObject({ keyType: 'RSA', bits: 3072 });
    expect(byLabel.get('officer2')).toMatchObject({ keyType: 'EC', namedCurve: 'P-256' });
    for (const l of ['officer1', 'officer-revoked', 'officer-expired']) expect(byLabel.get(l)).toMatchObject({ keyType: 'RSA', bits: 2048 });
  });

  it('returns the SubjectPublicKeyInfo that the certificate carries', async () => {
    for (const label of ['officer1', 'officer2', 'tsa']) {
      const spki = await token.getPublicKeySpki(label);
      const fromCert = certificateFields(readPemDer(devCertPath(label))).spki;
      expect(Buffer.from(spki).equals(Buffer.from(fromCert))).toBe(true);
    }
  });

  it('answers ping while open', async () => {
    await expect(token.ping()).resolves.toBeUndefined();
  });
});

describe('RSASSA-PKCS1-v1_5 (CKM_RSA_PKCS over DigestInfo)', () => {
  for (const alg of ['SHA-256', 'SHA-384', 'SHA-512'] as const) {
    it(`signs a ${alg} digest verifiable by node:crypto`, async () => {
      const sig = await rsa.sign(digestOf(alg), alg, 'RSASSA-PKCS1-v1_5');
      expect(sig.length).toBe(256);
      expect(verify(nodeHash[alg], message, publicKeyOf(rsa), sig)).toBe(true);
      // The signature binds the message: a different one must not verify.
      expect(verify(nodeHash[alg], Buffer.from('other'), publicKeyOf(rsa), sig)).toBe(false);
    });
  }

  it('is accepted by `openssl dgst -verify`', async () => {
    const sig = await rsa.sign(digestOf('SHA-384'), 'SHA-384', 'RSASSA-PKCS1-v1_5');
    const files = { msg: path.join(work, 'm.bin'), sig: path.join(work, 'rsa.sig'), pub: path.join(work, 'rsa.pub.pem') };
    writeFileSync(files.msg, message);
    writeFileSync(files.sig, sig);
    writeFileSync(files.pub, publicKeyOf(rsa).export({ type: 'spki', format: 'pem' }));
    const out = execFileSync('openssl', ['dgst', '-sha384', '-verify', files.pub, '-signature', files.sig, files.msg], { encoding: 'utf8' });
    expect(out.trim()).toBe('Verified OK');
  });
});

describe('RSASSA-PSS (CKM_RSA_PKCS_PSS, MGF1 same hash, sLen = hLen)', () => {
  for (const alg of ['SHA-256', 'SHA-512'] as const) {
    it(`signs a ${alg} digest verifiable with the salt length fixed to the hash length`, async () => {
      const sig = await rsa.sign(digestOf(alg), alg, 'RSASSA-PSS');
      const key = publicKeyOf(rsa);
      const hLen = digestOf(alg).length;
      expect(verify(nodeHash[alg], message, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: hLen }, sig)).toBe(true);
      // Not a PKCS#1 v1.5 signature, and not with another salt length.
      expect(verify(nodeHash[alg], message, key, sig)).toBe(false);
      expect(verify(nodeHash[alg], message, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: hLen + 1 }, sig)).toBe(false);
    });
  }

  it('is accepted by `openssl pkeyutl -verify` with pss padding and digest-length salt', async () => {
    const digest = digestOf('SHA-256');
    const sig = await rsa.sign(digest, 'SHA-256', 'RSASSA-PSS');
    const files = { dgst: path.join(work, 'd.bin'), sig: path.join(work, 'pss.sig'), pub: path.join(work, 'pss.pub.pem') };
    writeFileSync(files.dgst, digest);
    writeFileSync(files.sig, sig);
    writeFileSync(files.pub, publicKeyOf(rsa).export({ type: 'spki', format: 'pem' }));
    const out = execFileSync(
      'openssl',
      ['pkeyutl', '-verify', '-pubin', '-inkey', files.pub, '-in', files.dgst, '-sigfile', files.sig,
        '-pkeyopt', 'digest:sha256', '-pkeyopt', 'rsa_padding_mode:pss', '-pkeyopt', 'rsa_pss_saltlen:digest', '-pkeyopt', 'rsa_mgf1_md:sha256'],
      { encoding: 'utf8' },
    );
    expect(out).toContain('Signature Verified Successfully');
  });
});

describe('ECDSA P-256 (CKM_ECDSA, raw r||s converted to DER)', () => {
  it('returns a DER Ecdsa-Sig-Value with minimal INTEGERs, verifiable by node:crypto', async () => {
    for (let i = 0; i < 8; i++) {
      const data = randomBytes(64);
      const sig = await ec.sign(digestOf('SHA-256', data), 'SHA-256', 'ECDSA');
      const parsed = asn1js.fromBER(sig);
      expect(parsed.offset).toBe(sig.length);
      const seq = parsed.result as asn1js.Sequence;
      expect(seq.valueBlock.value).toHaveLength(2);
      for (const int of seq.valueBlock.value) {
        const v = new Uint8Array((int as asn1js.Integer).valueBlock.valueHexView);
        // X.690 §8.3.2: no redundant leading zero; positive (high bit clear, or a single 0x00 before it).
        expect((v[0] ?? 0) & 0x80).toBe(0);
        if (v[0] === 0) expect((v[1] ?? 0) & 0x80).toBe(0x80);
      }
      expect(verify('sha256', data, { key: publicKeyOf(ec), dsaEncoding: 'der' }, sig)).toBe(true);
    }
  });

  it('is accepted by `openssl dgst -verify`', async () => {
    const sig = await ec.sign(digestOf('SHA-256'), 'SHA-256', 'ECDSA');
    const files = { msg: path.join(work, 'm2.bin'), sig: path.join(work, 'ec.sig'), pub: path.join(work, 'ec.pub.pem') };
    writeFileSync(files.msg, message);
    writeFileSync(files.sig, sig);
    writeFileSync(files.pub, publicKeyOf(ec).export({ type: 'spki', format: 'pem' }));
    const out = execFileSync('openssl', ['dgst', '-sha256', '-verify', files.pub, '-signature', files.sig, files.msg], { encoding: 'utf8' });
    expect(out.trim()).toBe('Verified OK');
  });
});

describe('input checks', () => {
  it('rejects a digest whose length does not match the algorithm', async () => {
    const err = await rsa.sign(digestOf('SHA-256'), 'SHA-384', 'RSASSA-PKCS1-v1_5').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HsmError);
    expect((err as HsmError).code).toBe('hsm-digest-invalid');
  });

  it('rejects a scheme the key type cannot do', async () => {
    const a = await rsa.sign(digestOf('SHA-256'), 'SHA-256', 'ECDSA').catch((e: unknown) => e);
    const b = await ec.sign(digestOf('SHA-256'), 'SHA-256', 'RSASSA-PSS').catch((e: unknown) => e);
    expect((a as HsmError).code).toBe('hsm-key-unsupported');
    expect((b as HsmError).code).toBe('hsm-key-unsupported');
  });

  it('reports a missing key as hsm-key-not-found', async () => {
    const err = await token.getSigner('no-such-key').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HsmError);
    expect((err as HsmError).code).toBe('hsm-key-not-found');
    expect((err as HsmError).status).toBe(404);
  });
});

describe('session pool', () => {
  it('runs 20 parallel signatures through 2 sessions, all verifiable', async () => {
    const jobs = Array.from({ length: 20 }, (_, i) => {
      const data = Buffer.from(`document ${i}`);
      const signer = i % 2 === 0 ? rsa : ec;
      const scheme = i % 2 === 0 ? (i % 4 === 0 ? 'RSASSA-PKCS1-v1_5' : 'RSASSA-PSS') : 'ECDSA';
      return signer.sign(digestOf('SHA-256', data), 'SHA-256', scheme).then((sig) => ({ data, signer, scheme, sig }));
    });
    const results = await Promise.all(jobs);
    for (const { data, signer, scheme, sig } of results) {
      const key = publicKeyOf(signer);
      const ok =
        scheme === 'RSASSA-PSS'
          ? verify('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, sig)
          : verify('sha256', data, scheme === 'ECDSA' ? { key, dsaEncoding: 'der' } : key, sig);
      expect(ok).toBe(true);
    }
  });
});

describe('key generation and certificate import', () => {
  it('generates a non-extractable sensitive P-384 key that signs, stores a certificate next to it, and destroys it', async () => {
    const label = `test-gen-${randomBytes(4).toString('hex')}`;
    const { key, spki } = await token.generateKeyPair({ label, type: 'EC', curve: 'P-384' });
    try {
      expect(key).toMatchObject({ label, keyType: 'EC', bits: 384, namedCurve: 'P-384' });
      // The private key's protection attributes, read straight from the token (PKCS#11 v2.40 §4.9).
      const flags = await token.withSession((s) => {
        token.lib.C_FindObjectsInit(s, [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY }, { type: pkcs11js.CKA_LABEL, value: label }]);
        const [h] = token.lib.C_FindObjects(s, 2);
        token.lib.C_FindObjectsFinal(s);
        const attrs = token.lib.C_GetAttributeValue(s, h as Buffer, [
          { type: pkcs11js.CKA_SENSITIVE }, { type: pkcs11js.CKA_EXTRACTABLE }, { type: pkcs11js.CKA_SIGN }, { type: pkcs11js.CKA_TOKEN },
        ]);
        return attrs.map((a) => a.value[0]);
      });
      expect(flags).toEqual([1, 0, 1, 1]);

      const signer = await token.getSigner(label);
      expect(signer.certificate).toBeUndefined();
      const digest = digestOf('SHA-384');
      const sig = await signer.sign(digest, 'SHA-384', 'ECDSA');
      const pub = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
      expect(verify('sha384', message, { key: pub, dsaEncoding: 'der' }, sig)).toBe(true);

      // Import twice: the second replaces the first (one certificate object per CKA_ID).
      await token.importCertificate(label, key.id, readPemDer(devCertPath('officer1')));
      const cert2 = readPemDer(devCertPath('officer2'));
      await token.importCertificate(label, key.id, cert2);
      const withCert = await token.getSigner(label);
      expect(Buffer.from(withCert.certificate as Uint8Array).equals(Buffer.from(cert2))).toBe(true);
      const count = await token.withSession((s) => {
        token.lib.C_FindObjectsInit(s, [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_CERTIFICATE }, { type: pkcs11js.CKA_ID, value: Buffer.from(key.id, 'hex') }]);
        const found = token.lib.C_FindObjects(s, 10);
        token.lib.C_FindObjectsFinal(s);
        return found.length;
      });
      expect(count).toBe(1);

      const dup = await token.generateKeyPair({ label, type: 'RSA', bits: 2048 }).catch((e: unknown) => e);
      expect((dup as HsmError).code).toBe('hsm-key-exists');
    } finally {
      await token.destroyKey(label);
    }
    const gone = await token.getSigner(label).catch((e: unknown) => e);
    expect((gone as HsmError).code).toBe('hsm-key-not-found');
  });
});

