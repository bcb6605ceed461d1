// RevocationChecker: OCSP first, CRL when OCSP does not answer, a typed error when nothing answers.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DEV_PATHS } from '../../../scripts/devPkiPaths.ts';
import { AppError } from '../../../src/errors.ts';
import { CrlFetcher, OcspClient, RevocationChecker, RevocationError } from '../../../src/pki/index.ts';
import { freePort, startOcspResponder, type OcspResponder } from '../../support/ocspResponder.ts';
import { startRepoServer, startSlowServer, unusedUrl, type RepoServer, type SlowServer } from '../../support/repoServer.ts';
import { devCert, indexRevocation, makeCert, startRelay, tempDir } from './revocationTestKit.ts';

const issuer = devCert('issuing-ca');
const officer1 = devCert('officer1');
const revoked = devCert('officer-revoked');
let responder: OcspResponder;
let repo: RepoServer;
let slow: SlowServer;
let crlUrl: string;

beforeAll(async () => {
  responder = await startOcspResponder({ port: await freePort() });
  repo = await startRepoServer({ port: 0 });
  slow = await startSlowServer();
  crlUrl = `${repo.url}/issuing-ca.crl`;
});
afterAll(async () => {
  await responder?.stop();
  await repo?.stop();
  await slow?.stop();
});

function checker(ocspUrl: string, crlUrls: string[], timeoutMs = 2_000): RevocationChecker {
  return new RevocationChecker({ ocsp: new OcspClient({ url: ocspUrl, timeoutMs }), crl: new CrlFetcher({ urls: crlUrls, timeoutMs }) });
}

describe('RevocationChecker', () => {
  it('answers from OCSP when the responder is up, without touching the CRL', async () => {
    repo.requests.length = 0;
    const c = checker(responder.url, [crlUrl]);
    const good = await c.check(officer1, issuer);
    expect([good.status, good.source, good.attempts]).toEqual(['good', 'ocsp', []]);
    expect(good.ocsp!.responseDer.length).toBeGreaterThan(0);
    const bad = await c.check(revoked, issuer, { preferOcsp: true });
    expect([bad.status, bad.source, bad.reason]).toEqual(['revoked', 'ocsp', 'keyCompromise']);
    expect(bad.revocationTime!.getTime()).toBe(indexRevocation(revoked)!.date.getTime());
    expect(repo.requests).toEqual([]);
  });

  it('falls back to the CRL when OCSP is down', async () => {
    const c = checker(await unusedUrl(), [crlUrl]);
    const bad = await c.check(revoked, issuer);
    expect([bad.status, bad.source, bad.reason]).toEqual(['revoked', 'crl', 'keyCompromise']);
    expect(bad.revocationTime!.getTime()).toBe(indexRevocation(revoked)!.date.getTime());
    expect(bad.attempts.map((a) => [a.source, a.code, a.reason])).toEqual([['ocsp', 'revocation-fetch-failed', 'network']]);
    expect(bad.crl!.crlDer.length).toBeGreaterThan(0);
    expect((await c.check(officer1, issuer)).status).toBe('good');
  });

  it('falls back to the CRL when OCSP times out or answers tryLater', async () => {
    const timedOut = await checker(slow.url, [crlUrl], 300).check(revoked, issuer);
    expect([timedOut.source, timedOut.attempts[0]?.reason]).toEqual(['crl', 'timeout']);
    const tryLater = await startRelay(responder.url, () => Uint8Array.of(0x30, 0x03, 0x0a, 0x01, 0x03));
    try {
      const r = await checker(tryLater.url, [crlUrl]).check(revoked, issuer);
      expect([r.status, r.source, r.attempts[0]?.reason]).toEqual(['revoked', 'crl', 'try-later']);
    } finally {
      await tryLater.stop();
    }
  });

  it('asks the CRL first when OCSP is not preferred', async () => {
    const r = await checker(await unusedUrl(), [crlUrl]).check(officer1, issuer, { preferOcsp: false });
    expect([r.status, r.source, r.attempts]).toEqual(['good', 'crl', []]);
  });

  it('throws revocation-unavailable (503, retryable) when both are down, within the timeouts', { timeout: 10_000 }, async () => {
    const c = checker(await unusedUrl(), [`${slow.url}/issuing-ca.crl`], 300);
    const e = await c.check(officer1, issuer).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(RevocationError);
    expect(e).toBeInstanceOf(AppError);
    const err = e as RevocationError;
    expect([err.code, err.status, err.retryable]).toEqual(['revocation-unavailable', 503, true]);
    expect((err.details?.attempts as { source: string; reason: string }[]).map((a) => [a.source, a.reason])).toEqual([
      ['ocsp', 'network'],
      ['crl', 'timeout'],
    ]);
  });

  it('takes the CRL answer when the responder does not know the certificate, and keeps "unknown" when nothing else answers', async () => {
    // Issued with the CA key but outside the `openssl ca` database: openssl ocsp answers "unknown".
    const tmp = tempDir();
    try {
      const files = await makeCert(tmp.dir, 'stray', '/CN=Stray', ['basicConstraints=critical,CA:false'], { cert: DEV_PATHS.issuingCaPem, key: DEV_PATHS.issuingCaKey });
      const stray = new X509Certificate(readFileSync(files.cert));
      const r = await checker(responder.url, [crlUrl]).check(stray, issuer);
      expect([r.status, r.source, r.attempts.map((a) => [a.source, a.code])]).toEqual(['good', 'crl', [['ocsp', 'revocation-status-unknown']]]);
      const u = await checker(responder.url, [await unusedUrl()]).check(stray, issuer);
      expect([u.status, u.source]).toEqual(['unknown', 'ocsp']);
    } finally {
      tmp.remove();
    }
  });

  it('does not fall back on a wrong certificate/issuer pair', async () => {
    const e = await checker(responder.url, [crlUrl])
      .check(officer1, devCert('officer2'))
      .then(
        () => undefined,
        (err: unknown) => err as RevocationError,
      );
    expect(e?.code).toBe('revocation-invalid-input');
  });
});
