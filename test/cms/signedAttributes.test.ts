import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CmsError, buildSignedAttributes, digest, oids, parseSignedData } from '../../src/cms/index.ts';
import { certificateFields } from '../../src/cms/certificateFields.ts';
import { childrenOf, compareBytes, concat, readTlv } from '../../src/cms/der.ts';
import { encodeOid } from '../../src/cms/encode.ts';
import { createSoftPki, type SoftPki, type SoftSigner } from '../support/softSigner.ts';
import { signDetached } from './cmsTestKit.ts';

let pki: SoftPki;
let rsa: SoftSigner;
let highSerial: SoftSigner;

beforeAll(() => {
  pki = createSoftPki();
  rsa = pki.issue({ type: 'RSA', bits: 2048 }, 'Attr RSA');
  // High bit set: the DER INTEGER needs a leading zero octet that IssuerSerial must keep.
  highSerial = pki.issue({ type: 'EC', curve: 'P-256' }, 'Attr EC', { serialHex: '8f00112233445566778899aabbccddee' });
});
afterAll(() => pki.cleanup());

const content = new TextEncoder().encode('chứng thực bản sao điện tử');

/** True when `needle` occurs anywhere in `haystack`. */
function containsBytes(haystack: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(haystack).indexOf(Buffer.from(needle)) !== -1;
}

/** Tag of the first AttributeValue of a DER Attribute. */
function firstValueTag(attribute: Uint8Array): number {
  const values = childrenOf(attribute, readTlv(attribute, 0))[1]!;
  return childrenOf(attribute, values)[0]!.tag;
}

describe('buildSignedAttributes, cades profile (PAdES baseline B-B)', () => {
  it('holds exactly content-type, message-digest and signing-certificate-v2, in DER SET OF order', () => {
    const attrs = buildSignedAttributes({
      contentDigest: digest('SHA-256', content),
      digestAlgorithm: 'SHA-256',
      signerCertificate: rsa.certificate,
      profile: 'cades',
    });
    expect(attrs.attributes.map((a) => a.oid).sort()).toEqual(
      [oids.OID_CONTENT_TYPE, oids.OID_MESSAGE_DIGEST, oids.OID_SIGNING_CERTIFICATE_V2].sort(),
    );
    expect(containsBytes(attrs.der, encodeOid(oids.OID_SIGNING_TIME))).toBe(false);
    // X.690 §11.6: ascending order of the encodings, and `der` is exactly those encodings in a SET.
    for (let i = 1; i < attrs.attributes.length; i++) {
      expect(compareBytes(attrs.attributes[i - 1]!.der, attrs.attributes[i]!.der)).toBeLessThan(0);
    }
    const set = readTlv(attrs.der, 0);
    expect(attrs.der[0]).toBe(0x31);
    expect(set.end).toBe(attrs.der.length);
    expect(attrs.der.subarray(set.contentStart)).toEqual(concat(attrs.attributes.map((a) => a.der)));
  });

  it('ESSCertIDv2 with SHA-256 omits hashAlgorithm (DER DEFAULT) and binds hash, issuer and serial', async () => {
    const { cms } = await signDetached(pki, highSerial, content, 'SHA-256', 'ECDSA');
    const parsed = parseSignedData(cms);
    const ess = parsed.signedAttributes?.signingCertificateV2?.[0];
    expect(ess?.hashAlgorithmOid).toBe(oids.OID_SHA256);
    expect(ess?.certHash).toEqual(new Uint8Array(createHash('sha256').update(highSerial.certificate).digest()));
    const fields = certificateFields(highSerial.certificate);
    expect(ess?.issuerSerial?.issuers).toEqual([fields.issuer]);
    expect(Buffer.from(ess!.issuerSerial!.serialNumber).toString('hex')).toBe('8f00112233445566778899aabbccddee');
    // The raw ESSCertIDv2 must start with the certHash OCTET STRING, not an AlgorithmIdentifier.
    const attr = parsed.signedAttributes!.all.find((a) => a.oid === oids.OID_SIGNING_CERTIFICATE_V2)!;
    const value = attr.values[0]!;
    const certs = childrenOf(value, readTlv(value, 0))[0]!;
    const essCertId = childrenOf(value, certs)[0]!;
    expect(childrenOf(value, essCertId).map((child) => child.tag)).toEqual([0x04, 0x30]);
  });

  it('ESSCertIDv2 with SHA-384 names the algorithm and hashes the certificate with it', async () => {
    const { cms } = await signDetached(pki, rsa, content, 'SHA-384', 'RSASSA-PKCS1-v1_5');
    const ess = parseSignedData(cms).signedAttributes?.signingCertificateV2?.[0];
    expect(ess?.hashAlgorithmOid).toBe(oids.OID_SHA384);
    expect(ess?.certHash).toEqual(digest('SHA-384', rsa.certificate));
  });

  it('refuses signing-time, a digest of the wrong length and non-SHA-2 digests', () => {
    const base = { digestAlgorithm: 'SHA-256' as const, signerCertificate: rsa.certificate, profile: 'cades' as const };
    expect(() => buildSignedAttributes({ ...base, contentDigest: digest('SHA-256', content), signingTime: new Date() })).toThrow(
      expect.objectContaining({ code: 'cms-invalid-argument' }),
    );
    expect(() => buildSignedAttributes({ ...base, contentDigest: digest('SHA-384', content) })).toThrow(CmsError);
    expect(() =>
      buildSignedAttributes({
        ...base,
        contentDigest: digest('SHA-1', content),
        digestAlgorithm: 'SHA-1' as unknown as 'SHA-256',
      }),
    ).toThrow(expect.objectContaining({ code: 'cms-unsupported-algorithm' }));
  });
});

describe('buildSignedAttributes, pkcs7 profile (adbe.pkcs7.detached)', () => {
  it('adds signing-time when given, as UTCTime before 2050 and GeneralizedTime after', async () => {
    for (const when of [new Date(Date.UTC(2026, 2, 14, 8, 30, 5)), new Date(Date.UTC(2051, 0, 2, 3, 4, 5))]) {
      const { cms, signedAttributes } = await signDetached(pki, rsa, content, 'SHA-256', 'RSASSA-PKCS1-v1_5', {
        profile: 'pkcs7',
        signingTime: when,
      });
      const parsed = parseSignedData(cms);
      expect(parsed.signedAttributes?.signingTime?.toISOString()).toBe(when.toISOString());
      const time = signedAttributes.attributes.find((a) => a.oid === oids.OID_SIGNING_TIME)!.der;
      expect(firstValueTag(time)).toBe(when.getUTCFullYear() < 2050 ? 0x17 : 0x18);
    }
  });

  it('has no signing-time when none is given', () => {
    const attrs = buildSignedAttributes({
      contentDigest: digest('SHA-256', content),
      digestAlgorithm: 'SHA-256',
      signerCertificate: rsa.certificate,
      profile: 'pkcs7',
    });
    expect(attrs.attributes.map((a) => a.oid)).not.toContain(oids.OID_SIGNING_TIME);
    expect(attrs.attributes).toHaveLength(3);
  });
});
