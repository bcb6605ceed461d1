// CrlFetcher against the dev repository server serving the CRLs made by `openssl ca -gencrl`.
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { DEV_PATHS, devRepoUrl } from '../../../scripts/devPkiPaths.ts';
import { parseCrl } from '../../../src/cms/crl.ts';
import { CrlFetcher } from '../../../src/pki/index.ts';
import { startRepoServer, startSlowServer, unusedUrl, type RepoServer } from '../../support/repoServer.ts';
import { devCert, indexRevocation, rejection, resignWithOtherKey } from './revocationTestKit.ts';

const issuer = devCert('issuing-ca');
const officer1 = devCert('officer1');
const revoked = devCert('officer-revoked');
let repo: RepoServer;
let crlUrl: string;

beforeAll(async () => {
  // Port 0: other suites may hold 18962; the URL is passed as configuration instead of the CRLDP.
  repo = await startRepoServer({ port: 0 });
  crlUrl = `${repo.url}/issuing-ca.crl`;
});
afterAll(async () => {
  await repo?.stop();
});
afterEach(() => {
  repo.mode = 'serve';
  repo.override('issuing-ca.crl', undefined);
  repo.requests.length = 0;
});

describe('CrlFetcher', () => {
  it("takes the certificate's http CRL distribution point unless configured otherwise", () => {
    expect(new CrlFetcher().urlsFor(officer1)).toEqual([`${devRepoUrl()}/issuing-ca.crl`]);
    expect(new CrlFetcher({ urls: ['ldap://x/cn=crl', 'http://a/b.crl'] }).urlsFor(officer1)).toEqual(['http://a/b.crl']);
  });

  it('serves the dev files from the repository server', async () => {
    const res = await fetch(`${repo.url}/issuing-ca.cer`);
    expect(Buffer.from(await res.arrayBuffer()).equals(issuer.raw)).toBe(true);
    expect((await fetch(`${repo.url}/../private/issuing-ca.key`)).status).toBe(404);
  });

  it('fetches, checks and returns the issuing CA CRL', async () => {
    const r = await new CrlFetcher({ urls: [crlUrl] }).fetch(officer1, issuer);
    expect(Buffer.from(r.crlDer).equals(readFileSync(DEV_PATHS.issuingCaCrl))).toBe(true);
    expect(r.url).toBe(crlUrl);
    expect(r.parsed.revoked.length).toBeGreaterThan(0);
    expect(r.isRevoked(revoked)).toBe(true);
    expect(r.isRevoked(officer1)).toBe(false);
  });

  it('reports officer-revoked revoked for keyCompromise at the recorded time, officer1 good', async () => {
    const fetcher = new CrlFetcher({ urls: [crlUrl] });
    const bad = await fetcher.check(revoked, issuer);
    expect(bad.status).toBe('revoked');
    expect(bad.reason).toBe('keyCompromise');
    expect(bad.revocationTime!.getTime()).toBe(indexRevocation(revoked)!.date.getTime());
    const good = await fetcher.check(officer1, issuer);
    expect(good.status).toBe('good');
    expect(good.nextUpdate!.getTime()).toBe(parseCrl(readFileSync(DEV_PATHS.issuingCaCrl)).nextUpdate!.getTime());
  });

  it('downloads a CRL once: later and concurrent checks use the cache', async () => {
    const fetcher = new CrlFetcher({ urls: [crlUrl] });
    await Promise.all([fetcher.check(officer1, issuer), fetcher.check(revoked, issuer), fetcher.check(devCert('officer2'), issuer)]);
    expect(repo.requests).toEqual(['/issuing-ca.crl']);
    await fetcher.check(officer1, issuer);
    expect(repo.requests).toHaveLength(1);
    await fetcher.check(officer1, issuer, { bypassCache: true });
    expect(repo.requests).toHaveLength(2);
  });

  it('tries the next URL when one is down', async () => {
    const down = `${await unusedUrl()}/issuing-ca.crl`;
    const r = await new CrlFetcher({ urls: [down, crlUrl] }).check(revoked, issuer);
    expect([r.status, r.url]).toEqual(['revoked', crlUrl]);
  });

  it('rejects a CRL signed by another key, and does not cache it', async () => {
    repo.override('issuing-ca.crl', resignWithOtherKey(new Uint8Array(readFileSync(DEV_PATHS.issuingCaCrl))));
    const fetcher = new CrlFetcher({ urls: [crlUrl] });
    const e = await rejection(fetcher.check(officer1, issuer));
    expect([e.code, e.reason, e.status]).toEqual(['revocation-response-invalid', 'signature', 502]);
    repo.override('issuing-ca.crl', undefined);
    expect((await fetcher.check(officer1, issuer)).status).toBe('good');
    expect(repo.requests).toHaveLength(2);
  });

  it("rejects another CA's CRL", async () => {
    const e = await rejection(new CrlFetcher({ urls: [`${repo.url}/root-ca.crl`] }).check(officer1, issuer));
    expect(e.reason).toBe('issuer-mismatch');
  });

  it('rejects a CRL past its nextUpdate (clock injected)', async () => {
    const nextUpdate = parseCrl(readFileSync(DEV_PATHS.issuingCaCrl)).nextUpdate!;
    const e = await rejection(new CrlFetcher({ urls: [crlUrl], now: () => new Date(nextUpdate.getTime() + 86_400_000) }).check(officer1, issuer));
    expect(e.reason).toBe('stale');
  });

  it('rejects what is not a CRL', async () => {
    const e = await rejection(new CrlFetcher({ urls: [`${repo.url}/issuing-ca.cer`] }).check(officer1, issuer));
    expect([e.code, e.reason]).toEqual(['revocation-response-invalid', 'malformed']);
  });

  it('reports HTTP errors, timeouts and oversized bodies as failed fetches', async () => {
    repo.mode = 'fail';
    const http = await rejection(new CrlFetcher({ urls: [crlUrl] }).check(officer1, issuer));
    expect([http.code, http.reason, http.details?.httpStatus]).toEqual(['revocation-fetch-failed', 'http-status', 503]);
    repo.mode = 'slow';
    const slow = await rejection(new CrlFetcher({ urls: [crlUrl], timeoutMs: 300 }).check(officer1, issuer));
    expect([slow.code, slow.reason]).toEqual(['revocation-fetch-failed', 'timeout']);
    repo.mode = 'serve';
    const big = await rejection(new CrlFetcher({ urls: [crlUrl], maxCrlBytes: 200 }).check(officer1, issuer));
    expect(big.reason).toBe('too-large');
  });

  it('reports all URLs when none works', async () => {
    const slow = await startSlowServer();
    try {
      const e = await rejection(new CrlFetcher({ urls: [await unusedUrl(), `${slow.url}/x.crl`], timeoutMs: 300 }).check(officer1, issuer));
      expect(e.code).toBe('revocation-fetch-failed');
      expect((e.details?.attempts as { reason: string }[]).map((a) => a.reason)).toEqual(['network', 'timeout']);
    } finally {
      await slow.stop();
    }
  });

  it('says so when there is nowhere to look', async () => {
    // The issuing CA certificate's own CRLDP points at the root CRL; the root has none.
    const root = devCert('root-ca');
    const e = await rejection(new CrlFetcher().fetch(root, root));
    expect([e.code, e.status]).toEqual(['revocation-no-source', 422]);
  });
});
