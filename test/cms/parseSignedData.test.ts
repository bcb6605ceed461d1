/**
 * parseSignedData / verifySignerInfo on CMS made by openssl (SKI signer identifier, no signed
 * attributes, BER indefinite lengths, no certificates) and on malformed input.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CmsError,
  addSignatureTimestamp,
  parseSignedData,
  signatureValueOf,
  subjectKeyIdentifier,
  verifySignerInfo,
} from '../../src/cms/index.ts';
import { createSoftPki, type SoftPki, type SoftSigner } from '../support/softSigner.ts';
import { run, scratchDir, signDetached } from './cmsTestKit.ts';

let pki: SoftPki;
let rsa: SoftSigner;
let ec: SoftSigner;
const content = new Uint8Array(randomBytes(5000));

beforeAll(() => {
  pki = createSoftPki();
  rsa = pki.issue({ type: 'RSA', bits: 2048 }, 'Parse RSA');
  ec = pki.issue({ type: 'EC', curve: 'P-256' }, 'Parse EC');
});
afterAll(() => pki.cleanup());

/** `openssl cms -sign` detached over `content` with extra flags; returns the output bytes. */
function opensslSign(signer: SoftSigner, flags: string[]): Uint8Array {
  const dir = scratchDir(pki);
  writeFileSync(path.join(dir, 'content.bin'), content);
  const r = run('openssl', [
    'cms', '-sign', '-binary', '-in', 'content.bin', '-signer', signer.certificatePath, '-inkey', signer.keyPath,
    '-md', 'sha256', '-outform', 'DER', '-out', 'sig.der', ...flags,
  ], dir);
  expect(r.status, r.output).toBe(0);
  return new Uint8Array(readFileSync(path.join(dir, 'sig.der')));
}

describe('CMS made by openssl', () => {
  it('subjectKeyIdentifier sid (-keyid): finds the signer certificate by SKI and verifies', () => {
    const cms = opensslSign(ec, ['-keyid', '-certfile', pki.intermediate.path]);
    const parsed = parseSignedData(cms);
    expect(parsed.sid.kind).toBe('subjectKeyIdentifier');
    expect(parsed.version).toBe(3); // RFC 5652 §5.3: v3 with subjectKeyIdentifier
    if (parsed.sid.kind === 'subjectKeyIdentifier') expect(parsed.sid.keyIdentifier).toEqual(subjectKeyIdentifier(ec.certificate));
    expect(parsed.signerCertificate).toEqual(ec.certificate);
    expect(verifySignerInfo(parsed, { content })).toMatchObject({ status: 'valid', intact: true, algorithm: 'ECDSA/SHA-256' });
  });

  it('no signed attributes (-noattr): the signature covers the content, which is then required', () => {
    const parsed = parseSignedData(opensslSign(rsa, ['-noattr']));
    expect(parsed.signedAttributes).toBeUndefined();
    expect(verifySignerInfo(parsed)).toMatchObject({ status: 'indeterminate', problem: 'content-required', intact: false });
    expect(verifySignerInfo(parsed, { content: [content.subarray(0, 100), content.subarray(100)] })).toMatchObject({
      status: 'valid',
      messageDigest: 'absent',
      intact: true,
    });
    const altered = Uint8Array.from(content);
    altered[10] = altered[10]! ^ 0xff;
    expect(verifySignerInfo(parsed, { content: altered })).toMatchObject({ status: 'invalid', problem: 'signature-mismatch' });
  });

  it('BER with indefinite lengths (-stream) parses and verifies', () => {
    const cms = opensslSign(rsa, ['-stream']);
    expect(cms[1]).toBe(0x80); // the outer ContentInfo really is indefinite-length
    const parsed = parseSignedData(cms);
    expect(verifySignerInfo(parsed, { content })).toMatchObject({ status: 'valid', intact: true });
    // Splicing unsigned attributes is DER-only and says so with a typed error.
    expect(() => addSignatureTimestamp(cms, Uint8Array.of(0x30, 0x00))).toThrow(expect.objectContaining({ code: 'cms-malformed' }));
  });

  it('without certificates (-nocerts): indeterminate until the certificate is supplied', () => {
    const parsed = parseSignedData(opensslSign(rsa, ['-nocerts', '-cades'])); // -cades adds signing-certificate-v2
    expect(parsed.certificates).toHaveLength(0);
    expect(verifySignerInfo(parsed, { content })).toMatchObject({
      status: 'indeterminate',
      problem: 'signer-certificate-missing',
      signingCertificate: 'not-checked',
    });
    expect(verifySignerInfo(parsed, { content, signerCertificate: rsa.certificate })).toMatchObject({
      status: 'valid',
      signingCertificate: 'match',
      intact: true,
    });
  });
});

describe('verifySignerInfo with the wrong certificate', () => {
  it('reports a key of the wrong type and a certificate the ESS attribute does not name', async () => {
    const { cms } = await signDetached(pki, rsa, content, 'SHA-256', 'RSASSA-PKCS1-v1_5');
    const parsed = parseSignedData(cms);
    expect(verifySignerInfo(parsed, { content, signerCertificate: ec.certificate })).toMatchObject({
      status: 'invalid',
      problem: 'key-algorithm-mismatch',
      signingCertificate: 'mismatch',
    });
    const other = pki.issue({ type: 'RSA', bits: 2048 }, 'Other RSA');
    expect(verifySignerInfo(parsed, { content, signerCertificate: other.certificate })).toMatchObject({
      status: 'invalid',
      signingCertificate: 'mismatch',
      intact: false,
    });
  });
});

describe('malformed input', () => {
  it('accepts /Contents zero padding but refuses other trailing data', async () => {
    const { cms } = await signDetached(pki, ec, content, 'SHA-256', 'ECDSA');
    const padded = new Uint8Array(cms.length + 500);
    padded.set(cms);
    expect(verifySignerInfo(parseSignedData(padded), { content }).intact).toBe(true);
    expect(signatureValueOf(padded)).toEqual(signatureValueOf(cms));
    padded[cms.length + 10] = 0x41;
    expect(() => parseSignedData(padded)).toThrow(expect.objectContaining({ code: 'cms-malformed' }));
  });

  it('throws CmsError with stable codes for garbage, truncation and other content types', async () => {
    const { cms } = await signDetached(pki, ec, content, 'SHA-256', 'ECDSA');
    expect(() => parseSignedData(new Uint8Array(0))).toThrow(CmsError);
    expect(() => parseSignedData(Uint8Array.of(0x04, 0x03, 1, 2, 3))).toThrow(expect.objectContaining({ code: 'cms-malformed' }));
    expect(() => parseSignedData(cms.subarray(0, cms.length - 40))).toThrow(expect.objectContaining({ code: 'cms-malformed' }));
    expect(() => signatureValueOf(cms.subarray(0, cms.length - 40))).toThrow(expect.objectContaining({ code: 'cms-malformed' }));
    // ContentInfo { id-data, [0] OCTET STRING }: well-formed CMS, but not SignedData.
    const data = Uint8Array.of(0x30, 0x12, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01, 0xa0, 0x05, 0x04, 0x03, 1, 2, 3);
    expect(() => parseSignedData(data)).toThrow(expect.objectContaining({ code: 'cms-unsupported-content' }));
    expect(() => signatureValueOf(data)).toThrow(expect.objectContaining({ code: 'cms-unsupported-content' }));
  });
});
