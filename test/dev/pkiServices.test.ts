/** The dev PKI endpoints `npm start` runs: openssl ocsp and the CRL/CA-certificate repository. */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startDevPkiServices } from '../../src/dev/pkiServices.ts';
import { CrlFetcher, OcspClient } from '../../src/pki/index.ts';
import { DEV_PATHS } from '../support/hsm.ts';
import { freePorts } from '../support/ocspResponder.ts';

const silent = { info: () => undefined, warn: () => undefined };
const cert = (name: string) => new X509Certificate(readFileSync(path.join(DEV_PATHS.certsDir, name)));

describe('dev PKI services', () => {
  it('answer OCSP (good and revoked) and serve the CRLs, then stop', async () => {
    const [ocsp, repo] = await freePorts(2);
    const ports = { ocsp: ocsp!, repo: repo! };
    const dev = await startDevPkiServices(DEV_PATHS.certsDir, silent, ports);
    expect(dev).toBeDefined();
    try {
      const issuing = cert('issuing-ca.pem');
      const ocsp = new OcspClient({ url: `http://127.0.0.1:${ports.ocsp}`, timeoutMs: 3000 });
      let good;
      for (let i = 0; i < 30 && !good; i++) {
        good = await ocsp.check(cert('officer1.pem'), issuing).catch(async () => {
          await new Promise((r) => setTimeout(r, 100)); // the responder is still starting
          return undefined;
        });
      }
      expect(good?.status).toBe('good');
      expect((await ocsp.check(cert('officer-revoked.pem'), issuing)).status).toBe('revoked');
      const crl = await new CrlFetcher({ urls: [`http://127.0.0.1:${ports.repo}/issuing-ca.crl`] }).check(cert('officer-revoked.pem'), issuing);
      expect(crl.status).toBe('revoked');
      const res = await fetch(`http://127.0.0.1:${ports.repo}/root-ca.cer`);
      expect(new X509Certificate(Buffer.from(await res.arrayBuffer())).subject).toContain('Root');
      expect((await fetch(`http://127.0.0.1:${ports.repo}/../hsm/pin`)).status).toBe(404);
    } finally {
      await dev!.stop();
    }
    await expect(fetch(`http://127.0.0.1:${ports.repo}/root-ca.cer`)).rejects.toThrow();
  });

  it('does nothing without a dev PKI', async () => {
    expect(await startDevPkiServices('/nonexistent', silent)).toBeUndefined();
  });
});
