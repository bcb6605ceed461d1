/**
 * Signatures built by the staged flow, judged by an independent implementation (openssl cms) and by
 * our own parser/verifier.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DigestAlgorithm, SignatureScheme } from '../../src/signers/Signer.ts';
import {
  addSignatureTimestamp,
  addUnsignedAttribute,
  assembleSignedData,
  buildSignedAttributes,
  digest,
  estimateSignedDataSize,
  oids,
  parseSignedData,
  signatureValueOf,
  verifySignerInfo,
} from '../../src/cms/index.ts';
import { encodeOctetString } from '../../src/cms/encode.ts';
import { createSoftPki, type SoftKeySpec, type SoftPki, type SoftSigner } from '../support/softSigner.ts';
import { opensslPrint, opensslVerify, run, scratchDir, signDetached } from './cmsTestKit.ts';

interface Case {
  readonly name: string;
  readonly key: SoftKeySpec;
  readonly digestAlgorithm: DigestAlgorithm;
  readonly scheme: SignatureScheme;
}

const CASES: readonly Case[] = [
  { name: 'RSA-2048 PKCS#1 v1.5 SHA-256', key: { type: 'RSA', bits: 2048 }, digestAlgorithm: 'SHA-256', scheme: 'RSASSA-PKCS1-v1_5' },
  { name: 'RSA-2048 PKCS#1 v1.5 SHA-384', key: { type: 'RSA', bits: 2048 }, digestAlgorithm: 'SHA-384', scheme: 'RSASSA-PKCS1-v1_5' },
  { name: 'RSA-3072 PKCS#1 v1.5 SHA-512', key: { type: 'RSA', bits: 3072 }, digestAlgorithm: 'SHA-512', scheme: 'RSASSA-PKCS1-v1_5' },
  { name: 'RSA-2048 PSS SHA-256', key: { type: 'RSA', bits: 2048 }, digestAlgorithm: 'SHA-256', scheme: 'RSASSA-PSS' },
  { name: 'RSA-3072 PSS SHA-512', key: { type: 'RSA', bits: 3072 }, digestAlgorithm: 'SHA-512', scheme: 'RSASSA-PSS' },
  { name: 'ECDSA P-256 SHA-256', key: { type: 'EC', curve: 'P-256' }, digestAlgorithm: 'SHA-256', scheme: 'ECDSA' },
  { name: 'ECDSA P-384 SHA-384', key: { type: 'EC', curve: 'P-384' }, digestAlgorithm: 'SHA-384', scheme: 'ECDSA' },
];

let pki: SoftPki;
const signers = new Map<string, SoftSigner>();
const content = new Uint8Array(randomBytes(20_000));

function signerFor(spec: SoftKeySpec): SoftSigner {
  const id = spec.type === 'RSA' ? `RSA-${spec.bits}` : spec.curve;
  let signer = signers.get(id);
  if (signer === undefined) {
    signer = pki.issue(spec, `Signer ${id}`);
    signers.set(id, signer);
  }
  return signer;
}

function tampered(bytes: Uint8Array, at: number): Uint8Array {
  const copy = Uint8Array.from(bytes);
  copy[at] = copy[at]! ^ 0x01;
  return copy;
}

beforeAll(() => {
  pki = createSoftPki();
});
afterAll(() => pki.cleanup());

describe.each(CASES)('$name', ({ key, digestAlgorithm, scheme }) => {
  it('verifies with openssl cms and with verifySignerInfo; the structure is PAdES B-B', async () => {
    const signer = signerFor(key);
    // The signer certificate and a duplicate in the chain must still appear once each.
    const { cms } = await signDetached(pki, signer, content, digestAlgorithm, scheme, {
      chain: [pki.intermediate.der, signer.certificate, pki.root.der, pki.intermediate.der],
    });

    const openssl = opensslVerify(pki, cms, content);
    expect(openssl.output).toContain('Verification successful');
    expect(openssl.status).toBe(0);

    const printed = opensslPrint(pki, cms);
    expect(printed).toContain('eContent: <ABSENT>');
    expect(printed).not.toMatch(/signingTime/i);
    expect(printed).toContain('1.2.840.113549.1.9.16.2.47');
    expect(printed.match(/d\.certificate:/g)).toHaveLength(3);
    if (scheme === 'RSASSA-PKCS1-v1_5') expect(printed).toMatch(/signatureAlgorithm:\s*\n\s*algorithm: rsaEncryption/);
    if (scheme === 'RSASSA-PSS') expect(printed).toMatch(/signatureAlgorithm:\s*\n\s*algorithm: rsassaPss/);
    if (scheme === 'ECDSA') expect(printed).toMatch(new RegExp(`algorithm: ecdsa-with-${digestAlgorithm.replace('-', '')}`));

    const parsed = parseSignedData(cms);
    expect(parsed.signedDataVersion).toBe(1);
    expect(parsed.version).toBe(1);
    expect(parsed.sid.kind).toBe('issuerAndSerialNumber');
    expect(parsed.contentType).toBe(oids.OID_DATA);
    expect(parsed.encapsulatedContent).toBeUndefined();
    expect(parsed.certificates).toHaveLength(3);
    expect(parsed.signerCertificate).toEqual(signer.certificate);
    expect(parsed.digestAlgorithm.name).toBe(digestAlgorithm);
    expect(parsed.signedAttributes?.contentType).toBe(oids.OID_DATA);
    expect(parsed.signedAttributes?.signingTime).toBeUndefined();
    expect(parsed.signedAttributes?.messageDigest).toEqual(digest(digestAlgorithm, content));
    expect(parsed.signedAttributes?.signingCertificateV2?.[0]?.certHash).toEqual(digest(digestAlgorithm, signer.certificate));
    if (digestAlgorithm === 'SHA-256') {
      expect(parsed.signedAttributes?.signingCertificateV2?.[0]?.certHash).toEqual(digest('SHA-256', signer.certificate));
    }

    expect(verifySignerInfo(parsed, { content })).toMatchObject({
      status: 'valid',
      messageDigest: 'match',
      signingCertificate: 'match',
      intact: true,
      algorithm: `${scheme}/${digestAlgorithm}`,
    });
  });

  it('fails in openssl and in verifySignerInfo when content, signed attributes or signature are altered', async () => {
    const signer = signerFor(key);
    const { cms, signedAttributes, signatureValue } = await signDetached(pki, signer, content, digestAlgorithm, scheme);

    const altered = tampered(content, 1234);
    const openssl = opensslVerify(pki, cms, altered);
    expect(openssl.status).not.toBe(0);
    expect(openssl.output).not.toContain('Verification successful');
    const onAltered = verifySignerInfo(parseSignedData(cms), { content: altered });
    expect(onAltered.messageDigest).toBe('mismatch');
    expect(onAltered.intact).toBe(false);

    // Same signature value over different signed attributes (another content digest).
    const otherAttributes = buildSignedAttributes({
      contentDigest: digest(digestAlgorithm, altered),
      digestAlgorithm,
      signerCertificate: signer.certificate,
      profile: 'cades',
    });
    const swapped = assembleSignedData({
      signedAttributes: otherAttributes,
      signatureValue,
      signerCertificate: signer.certificate,
      chain: [pki.intermediate.der],
      digestAlgorithm,
      scheme,
    });
    expect(opensslVerify(pki, swapped, altered).status).not.toBe(0);
    expect(verifySignerInfo(parseSignedData(swapped), { content: altered })).toMatchObject({
      status: 'invalid',
      problem: 'signature-mismatch',
      messageDigest: 'match',
      intact: false,
    });

    // A flipped bit in the signature value.
    const badSignature = assembleSignedData({
      signedAttributes,
      signatureValue: tampered(signatureValue, signatureValue.length - 3),
      signerCertificate: signer.certificate,
      chain: [pki.intermediate.der],
      digestAlgorithm,
      scheme,
    });
    expect(opensslVerify(pki, badSignature, content).status).not.toBe(0);
    expect(verifySignerInfo(parseSignedData(badSignature), { content }).status).toBe('invalid');
  });

  it('keeps verifying after an unsigned attribute is added, and the signed parts are untouched', async () => {
    const signer = signerFor(key);
    const { cms, signedAttributes, signatureValue } = await signDetached(pki, signer, content, digestAlgorithm, scheme);
    const extra = addUnsignedAttribute(cms, '1.2.3.4.5', [encodeOctetString(Uint8Array.of(1, 2, 3))]);
    const twice = addUnsignedAttribute(extra, '1.2.3.4.6', encodeOctetString(Uint8Array.of(4)));

    expect(opensslVerify(pki, twice, content).output).toContain('Verification successful');
    const parsed = parseSignedData(twice);
    expect(parsed.unsignedAttributes.map((a) => a.oid).sort()).toEqual(['1.2.3.4.5', '1.2.3.4.6']);
    expect(parsed.signedAttributes?.der).toEqual(signedAttributes.der);
    expect(signatureValueOf(twice)).toEqual(signatureValue);
    expect(verifySignerInfo(parsed, { content }).intact).toBe(true);
    expect(parsed.certificates).toEqual(parseSignedData(cms).certificates);
  });

  it('estimates the size at or above the real one, within 100 bytes', async () => {
    const signer = signerFor(key);
    const { cms } = await signDetached(pki, signer, content, digestAlgorithm, scheme);
    const estimate = estimateSignedDataSize({
      signerCertificate: signer.certificate,
      chain: [pki.intermediate.der, pki.root.der],
      keyType: signer.key.keyType,
      keyBits: signer.key.bits,
      digestAlgorithm,
      scheme,
    });
    expect(estimate).toBeGreaterThanOrEqual(cms.length);
    expect(estimate - cms.length).toBeLessThanOrEqual(100);
    // Defaults (SHA-512, PKCS#1/ECDSA) must never be below a SHA-256/384 signature of the same key.
    if (scheme !== 'RSASSA-PSS') {
      const loose = estimateSignedDataSize({
        signerCertificate: signer.certificate,
        chain: [pki.intermediate.der, pki.root.der],
        keyType: signer.key.keyType,
        keyBits: signer.key.bits,
      });
      expect(loose).toBeGreaterThanOrEqual(cms.length);
    }
  });
});

describe('signature time-stamp (PAdES B-T)', () => {
  it('embeds an RFC 3161 token made by openssl ts over signatureValueOf, and everything still verifies', async () => {
    const signer = signerFor({ type: 'EC', curve: 'P-256' });
    const tsa = pki.issue({ type: 'RSA', bits: 2048 }, 'Test TSA', { profile: 'tsa' });
    const { cms } = await signDetached(pki, signer, content, 'SHA-256', 'ECDSA');
    const dir = scratchDir(pki);
    writeFileSync(path.join(dir, 'signature.bin'), signatureValueOf(cms));
    writeFileSync(
      path.join(dir, 'ts.cnf'),
      [
        '[tsa]', 'default_tsa = tsa_config', '[tsa_config]', `serial = ${path.join(dir, 'serial')}`,
        `signer_cert = ${tsa.certificatePath}`, `signer_key = ${tsa.keyPath}`, `certs = ${pki.intermediate.path}`,
        'signer_digest = sha256', 'default_policy = 1.2.3.4.1', 'digests = sha256, sha384, sha512',
        'ess_cert_id_alg = sha256', 'accuracy = secs:1', '',
      ].join('\n'),
    );
    writeFileSync(path.join(dir, 'serial'), '01\n');
    const query = run('openssl', ['ts', '-query', '-data', 'signature.bin', '-sha256', '-cert', '-out', 'req.tsq'], dir);
    expect(query.status, query.output).toBe(0);
    const reply = run('openssl', ['ts', '-reply', '-config', 'ts.cnf', '-queryfile', 'req.tsq', '-token_out', '-out', 'token.der'], dir);
    expect(reply.status, reply.output).toBe(0);
    const token = new Uint8Array(readFileSync(path.join(dir, 'token.der')));

    const withTimestamp = addSignatureTimestamp(cms, token);
    expect(opensslVerify(pki, withTimestamp, content).output).toContain('Verification successful');
    const parsed = parseSignedData(withTimestamp);
    expect(parsed.signatureTimeStampTokens).toEqual([token]);
    expect(parsed.unsignedAttributes[0]?.oid).toBe(oids.OID_SIGNATURE_TIME_STAMP_TOKEN);

    // The token imprints exactly the signature value we expose (RFC 3161 Appendix A).
    const imprint = run('openssl', [
      'ts', '-verify', '-data', 'signature.bin', '-in', 'token.der', '-token_in', '-CAfile', pki.root.path,
      '-untrusted', pki.intermediate.path,
    ], dir);
    expect(imprint.output).toContain('Verification: OK');

    // Our parser reads the token too: a SignedData over TSTInfo whose signature verifies.
    const tokenParsed = parseSignedData(token);
    expect(tokenParsed.contentType).toBe(oids.OID_TST_INFO);
    expect(tokenParsed.signerCertificate).toEqual(tsa.certificate);
    expect(verifySignerInfo(tokenParsed, { content: tokenParsed.encapsulatedContent! })).toMatchObject({
      status: 'valid',
      messageDigest: 'match',
      signingCertificate: 'match',
    });

    // Reserving the token's size up front is enough.
    const estimate = estimateSignedDataSize({
      signerCertificate: signer.certificate,
      chain: [pki.intermediate.der, pki.root.der],
      keyType: 'EC',
      keyBits: 256,
      digestAlgorithm: 'SHA-256',
      withTimestampBytes: token.length,
    });
    expect(estimate).toBeGreaterThanOrEqual(withTimestamp.length);
    expect(estimate - withTimestamp.length).toBeLessThanOrEqual(100);
  });
});

describe('pkcs7 profile (adbe.pkcs7.detached)', () => {
  it('with signing-time verifies in openssl, which prints the attribute', async () => {
    const signer = signerFor({ type: 'RSA', bits: 2048 });
    const { cms } = await signDetached(pki, signer, content, 'SHA-256', 'RSASSA-PKCS1-v1_5', {
      profile: 'pkcs7',
      signingTime: new Date(Date.UTC(2026, 0, 15, 9, 0, 0)),
    });
    expect(opensslVerify(pki, cms, content).output).toContain('Verification successful');
    expect(opensslPrint(pki, cms)).toMatch(/signingTime[\s\S]*UTCTIME:Jan 15 09:00:00 2026 GMT/);
  });
});

describe('assembleSignedData input checks', () => {
  it('refuses a scheme the certificate key cannot make and mismatched digest algorithms', () => {
    const ec = signerFor({ type: 'EC', curve: 'P-256' });
    const attrs = buildSignedAttributes({
      contentDigest: digest('SHA-256', content),
      digestAlgorithm: 'SHA-256',
      signerCertificate: ec.certificate,
      profile: 'cades',
    });
    const base = { signedAttributes: attrs, signatureValue: new Uint8Array(64), signerCertificate: ec.certificate, chain: [] };
    expect(() => assembleSignedData({ ...base, digestAlgorithm: 'SHA-256', scheme: 'RSASSA-PKCS1-v1_5' })).toThrow(
      expect.objectContaining({ code: 'cms-invalid-argument' }),
    );
    expect(() => assembleSignedData({ ...base, digestAlgorithm: 'SHA-384', scheme: 'ECDSA' })).toThrow(
      expect.objectContaining({ code: 'cms-invalid-argument' }),
    );
    expect(() =>
      assembleSignedData({ ...base, digestAlgorithm: 'SHA-256', scheme: 'ECDSA', unsignedAttributes: [{ oid: '1.2.3', values: [Uint8Array.of(4, 5)] }] }),
    ).toThrow(expect.objectContaining({ code: 'cms-invalid-argument' }));
  });
});
