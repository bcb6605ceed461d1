// OCSP encode/decode (src/cms/ocsp.ts) checked against `openssl ocsp` on both sides: openssl reads our
// requests, we read openssl's responses.
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

import { DEV_PATHS } from '../../../scripts/devPkiPaths.ts';
import { CmsError } from '../../../src/cms/CmsError.ts';
import {
  buildCertId,
  buildOcspRequest,
  certIdMatches,
  parseOcspResponse,
  responderIdMatches,
  verifyOcspSignature,
} from '../../../src/cms/ocsp.ts';
import { devCert, flipTimeDigit, generalizedTime, indexRevocation, tempDir } from './revocationTestKit.ts';

const run = promisify(execFile);
const tmp = tempDir();
afterAll(() => tmp.remove());

const issuer = devCert('issuing-ca');

/** Our request for `label`, answered offline by `openssl ocsp` with the dev responder key. */
async function answer(label: string, hash: 'SHA-1' | 'SHA-256' = 'SHA-1'): Promise<{ request: ReturnType<typeof buildOcspRequest>; der: Uint8Array }> {
  const request = buildOcspRequest(buildCertId(devCert(label), issuer, hash));
  const reqFile = path.join(tmp.dir, `${label}-${hash}.req`);
  const respFile = path.join(tmp.dir, `${label}-${hash}.resp`);
  writeFileSync(reqFile, request.der);
  await run('openssl', ['ocsp', '-index', DEV_PATHS.issuingCaIndex, '-CA', DEV_PATHS.issuingCaPem, '-rsigner', DEV_PATHS.ocspPem, '-rkey', DEV_PATHS.ocspKey, '-ndays', '1', '-reqin', reqFile, '-respout', respFile]);
  return { request, der: new Uint8Array(readFileSync(respFile)) };
}

describe('buildOcspRequest', () => {
  it('is read by openssl: SHA-1 CertID of the officer and our nonce', async () => {
    const cert = devCert('officer1');
    const nonce = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
    const { der } = buildOcspRequest(buildCertId(cert, issuer), { nonce });
    const file = path.join(tmp.dir, 'req.der');
    writeFileSync(file, der);
    const { stdout } = await run('openssl', ['ocsp', '-reqin', file, '-req_text']);
    expect(stdout).toContain('Hash Algorithm: sha1');
    expect(stdout).toContain(`Serial Number: ${cert.serialNumber}`);
    // issuerKeyHash with SHA-1 is the issuing CA's subjectKeyIdentifier (RFC 5280 §4.2.1.2 method 1).
    const { stdout: ski } = await run('openssl', ['x509', '-in', DEV_PATHS.issuingCaPem, '-noout', '-ext', 'subjectKeyIdentifier']);
    expect(stdout).toContain(`Issuer Key Hash: ${/([0-9A-F:]{20,})/.exec(ski)![1]!.replace(/:/g, '')}`);
    expect(stdout.replace(/\s+/g, '')).toContain(`OCSPNonce:0420${Buffer.from(nonce).toString('hex').toUpperCase()}`);
  });

  it('draws a fresh 32-octet nonce by default (RFC 8954) and can omit it', () => {
    const id = buildCertId(devCert('officer1'), issuer);
    const a = buildOcspRequest(id);
    const b = buildOcspRequest(id);
    expect(a.nonce).toHaveLength(32);
    expect(Buffer.from(a.nonce!).equals(Buffer.from(b.nonce!))).toBe(false);
    const none = buildOcspRequest(id, { nonce: false });
    expect(none.nonce).toBeUndefined();
    expect(none.der.length).toBeLessThan(a.der.length);
    expect(() => buildOcspRequest(id, { nonce: new Uint8Array(33) })).toThrow(CmsError);
  });

  it('builds SHA-256 CertIDs that openssl answers too', async () => {
    const { der } = await answer('officer-revoked', 'SHA-256');
    const single = parseOcspResponse(der).basic!.responses[0]!;
    expect(single.certId.hashAlgorithm).toBe('SHA-256');
    expect(certIdMatches(single.certId, devCert('officer-revoked'), issuer)).toBe(true);
    expect(single.certStatus.status).toBe('revoked');
  });
});

describe('parseOcspResponse', () => {
  it('reads a good answer: status, responder, times, nonce, certs', async () => {
    const cert = devCert('officer1');
    const { request, der } = await answer('officer1');
    const r = parseOcspResponse(der);
    expect(r.responseStatus).toBe('successful');
    const basic = r.basic!;
    expect(basic.responses).toHaveLength(1);
    const single = basic.responses[0]!;
    expect(single.certStatus).toEqual({ status: 'good' });
    expect(certIdMatches(single.certId, cert, issuer)).toBe(true);
    expect(certIdMatches(single.certId, devCert('officer2'), issuer)).toBe(false);
    // -ndays 1; openssl reads the clock once for each, so a second may tick between them.
    expect(single.nextUpdate!.getTime() - single.thisUpdate.getTime()).toBeGreaterThanOrEqual(86_400_000);
    expect(single.nextUpdate!.getTime() - single.thisUpdate.getTime()).toBeLessThanOrEqual(86_401_000);
    expect(Buffer.from(basic.nonce!).equals(Buffer.from(request.nonce!))).toBe(true);
    expect(basic.responderId.kind).toBe('byName');
    expect(responderIdMatches(basic.responderId, devCert('ocsp'))).toBe(true);
    expect(responderIdMatches(basic.responderId, issuer)).toBe(false);
    expect(basic.certs.map((c) => Buffer.from(c).equals(devCert('ocsp').raw))).toEqual([true]);
    // producedAt as openssl prints it.
    const file = path.join(tmp.dir, 'good.resp');
    writeFileSync(file, der);
    const { stdout } = await run('openssl', ['ocsp', '-respin', file, '-resp_text', '-noverify']);
    expect(basic.producedAt.getTime()).toBe(Date.parse(/Produced At: (.+)/.exec(stdout)![1]!));
  });

  it('reads a revoked answer with the time and reason recorded by openssl ca', async () => {
    const { der } = await answer('officer-revoked');
    const single = parseOcspResponse(der).basic!.responses[0]!;
    const record = indexRevocation(devCert('officer-revoked'))!;
    expect(single.certStatus).toEqual({ status: 'revoked', revocationTime: record.date, reason: 'keyCompromise' });
  });

  it('reads non-successful statuses without responseBytes', () => {
    // OCSPResponse { responseStatus tryLater(3) } and { unauthorized(6) }
    expect(parseOcspResponse(Uint8Array.of(0x30, 0x03, 0x0a, 0x01, 0x03))).toMatchObject({ responseStatus: 'tryLater', basic: undefined });
    expect(parseOcspResponse(Uint8Array.of(0x30, 0x03, 0x0a, 0x01, 0x06)).responseStatus).toBe('unauthorized');
    expect(() => parseOcspResponse(Uint8Array.of(0x30, 0x03, 0x0a, 0x01, 0x00))).toThrow(/responseBytes/);
    expect(() => parseOcspResponse(Uint8Array.of(0x30, 0x03, 0x0a, 0x01, 0x04))).toThrow(CmsError);
  });
});

describe('verifyOcspSignature', () => {
  it('verifies with the delegated responder key, not with the issuer key', async () => {
    const { der } = await answer('officer1');
    const basic = parseOcspResponse(der).basic!;
    expect(verifyOcspSignature(basic, devCert('ocsp'))).toBe(true);
    expect(verifyOcspSignature(basic, issuer)).toBe(false);
  });

  it('fails once a byte of the signed response data changes', async () => {
    const { der } = await answer('officer1');
    const basic = parseOcspResponse(der).basic!;
    const tampered = parseOcspResponse(flipTimeDigit(der, generalizedTime(basic.producedAt))).basic!;
    expect(tampered.producedAt.getTime()).not.toBe(basic.producedAt.getTime());
    expect(verifyOcspSignature(tampered, devCert('ocsp'))).toBe(false);
  });
});
