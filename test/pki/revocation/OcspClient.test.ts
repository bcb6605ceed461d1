// OcspClient against the real `openssl ocsp` responder (test/support/ocspResponder.ts), plus relays that
// count, tamper with or replay its answers and offline-openssl responders signing with other keys.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DEV_PATHS, devOcspUrl } from '../../../scripts/devPkiPaths.ts';
import { parseOcspResponse } from '../../../src/cms/ocsp.ts';
import { OcspClient } from '../../../src/pki/index.ts';
import { freePort, startOcspResponder, type OcspResponder } from '../../support/ocspResponder.ts';
import { startSlowServer, unusedUrl } from '../../support/repoServer.ts';
import {
  devCert,
  flipTimeDigit,
  generalizedTime,
  indexRevocation,
  makeCert,
  rejection,
  startRelay,
  startScriptedResponder,
  tempDir,
  type KeyAndCert,
} from './revocationTestKit.ts';

const issuer = devCert('issuing-ca');
const officer1 = devCert('officer1');
const revoked = devCert('officer-revoked');
let responder: OcspResponder;

beforeAll(async () => {
  // A free port rather than 18961: other suites may run their own responder on the default one.
  responder = await startOcspResponder({ port: await freePort() });
});
afterAll(async () => {
  await responder?.stop();
});

describe('OcspClient against openssl ocsp', () => {
  it('uses the AIA id-ad-ocsp URL of the certificate unless configured otherwise', () => {
    expect(new OcspClient().urlFor(officer1)).toBe(devOcspUrl());
    expect(new OcspClient({ url: 'http://127.0.0.1:1/x' }).urlFor(officer1)).toBe('http://127.0.0.1:1/x');
    expect(new OcspClient().urlFor(issuer)).toBeUndefined();
  });

  it('reports officer1 good, with the whole signed response and the nonce echoed', async () => {
    const r = await new OcspClient({ url: responder.url }).check(officer1, issuer);
    expect(r.status).toBe('good');
    expect(r.revocationTime).toBeUndefined();
    expect(r.nonceVerified).toBe(true);
    expect(r.nextUpdate!.getTime()).toBeGreaterThan(r.thisUpdate.getTime());
    const parsed = parseOcspResponse(r.responseDer);
    expect(parsed.responseStatus).toBe('successful');
    expect(parsed.basic!.producedAt.getTime()).toBe(r.producedAt.getTime());
  });

  it('reports officer-revoked revoked for keyCompromise at the time openssl ca recorded', async () => {
    const r = await new OcspClient({ url: responder.url }).check(revoked, issuer);
    const record = indexRevocation(revoked)!;
    expect(r.status).toBe('revoked');
    expect(r.reason).toBe('keyCompromise');
    expect(r.revocationTime!.getTime()).toBe(record.date.getTime());
  });

  it('validates the delegated responder certificate and returns it', async () => {
    const r = await new OcspClient({ url: responder.url }).check(officer1, issuer);
    const ocsp = devCert('ocsp');
    expect(r.responderCert.fingerprint256).toBe(ocsp.fingerprint256);
    expect(r.responderCert.fingerprint256).not.toBe(issuer.fingerprint256);
    expect(r.responderCert.checkIssued(issuer)).toBe(true);
    // The dev responder certificate carries id-pkix-ocsp-nocheck (scripts/dev-pki.ts ext_ocsp).
    expect(r.responderNoCheck).toBe(true);
  });

  it('also works with a SHA-256 CertID', async () => {
    const r = await new OcspClient({ url: responder.url, certIdHash: 'SHA-256' }).check(revoked, issuer);
    expect(r.status).toBe('revoked');
  });

  it('refuses a certificate paired with the wrong issuer before asking anyone', async () => {
    const e = await rejection(new OcspClient({ url: await unusedUrl() }).check(officer1, devCert('root-ca')));
    expect(e.code).toBe('revocation-invalid-input');
    expect(e.status).toBe(422);
  });

  it('judges freshness with its clock: stale after nextUpdate, not yet valid before thisUpdate', async () => {
    const later = new OcspClient({ url: responder.url, now: () => new Date(Date.now() + 3 * 86_400_000) });
    const stale = await rejection(later.check(officer1, issuer));
    expect([stale.code, stale.reason]).toEqual(['revocation-response-invalid', 'stale']);
    const earlier = new OcspClient({ url: responder.url, now: () => new Date(Date.now() - 3_600_000) });
    const early = await rejection(earlier.check(officer1, issuer));
    expect(early.reason).toBe('not-yet-valid');
  });
});

describe('OcspClient cache', () => {
  it('answers a second check from the cache: the responder is gone by then', async () => {
    const own = await startOcspResponder({ port: await freePort() });
    const client = new OcspClient({ url: own.url });
    const first = await client.check(officer1, issuer);
    await own.stop();
    const second = await client.check(officer1, issuer);
    expect(second).toBe(first);
    // Proof that the responder really is gone: bypassing the cache fails.
    const e = await rejection(client.check(officer1, issuer, { bypassCache: true }));
    expect(e.reason).toBe('network');
  });

  it('shares one request among concurrent identical checks and keys by serial', async () => {
    const relay = await startRelay(responder.url);
    try {
      const client = new OcspClient({ url: relay.url });
      const results = await Promise.all([1, 2, 3, 4, 5].map(() => client.check(officer1, issuer)));
      expect(relay.count).toBe(1);
      expect(new Set(results).size).toBe(1);
      await client.check(revoked, issuer);
      expect(relay.count).toBe(2);
    } finally {
      await relay.stop();
    }
  });

  it('does not cache failures', async () => {
    const relay = await startRelay(responder.url, (body, i) => (i === 0 ? body.subarray(0, 10) : body));
    try {
      const client = new OcspClient({ url: relay.url });
      expect((await rejection(client.check(officer1, issuer))).reason).toBe('malformed');
      expect((await client.check(officer1, issuer)).status).toBe('good');
      expect(relay.count).toBe(2);
    } finally {
      await relay.stop();
    }
  });
});

describe('OcspClient refuses answers it must not trust', () => {
  it('rejects a tampered response (signature)', async () => {
    const relay = await startRelay(responder.url, (body) => flipTimeDigit(body, generalizedTime(parseOcspResponse(body).basic!.producedAt)));
    try {
      const e = await rejection(new OcspClient({ url: relay.url }).check(officer1, issuer));
      expect([e.code, e.reason, e.status, e.retryable]).toEqual(['revocation-response-invalid', 'signature', 502, false]);
    } finally {
      await relay.stop();
    }
  });

  it('rejects a replayed response (nonce mismatch)', async () => {
    let first: Uint8Array | undefined;
    const relay = await startRelay(responder.url, (body) => (first ??= body));
    try {
      const client = new OcspClient({ url: relay.url });
      expect((await client.check(officer1, issuer)).nonceVerified).toBe(true);
      const e = await rejection(client.check(officer1, issuer, { bypassCache: true }));
      expect(e.reason).toBe('nonce');
    } finally {
      await relay.stop();
    }
  });

  it('rejects an answer about another certificate (CertID)', async () => {
    // Answer every request with a response about officer2.
    const officer2Answer = await new OcspClient({ url: responder.url, nonce: false }).check(devCert('officer2'), issuer);
    const relay = await startRelay(responder.url, () => officer2Answer.responseDer);
    try {
      const e = await rejection(new OcspClient({ url: relay.url }).check(officer1, issuer));
      expect(e.reason).toBe('cert-id');
    } finally {
      await relay.stop();
    }
  });

  it('passes on tryLater as a failed fetch (retryable), unauthorized as an invalid answer', async () => {
    const tryLater = await startRelay(responder.url, () => Uint8Array.of(0x30, 0x03, 0x0a, 0x01, 0x03));
    const unauthorized = await startRelay(responder.url, () => Uint8Array.of(0x30, 0x03, 0x0a, 0x01, 0x06));
    try {
      const a = await rejection(new OcspClient({ url: tryLater.url }).check(officer1, issuer));
      expect([a.code, a.reason, a.status, a.retryable]).toEqual(['revocation-fetch-failed', 'try-later', 503, true]);
      const b = await rejection(new OcspClient({ url: unauthorized.url }).check(officer1, issuer));
      expect([b.code, b.reason]).toEqual(['revocation-response-invalid', 'status']);
    } finally {
      await tryLater.stop();
      await unauthorized.stop();
    }
  });

  describe('responder authorisation (RFC 6960 §4.2.2.2)', () => {
    const tmp = tempDir();
    const issuingCa: KeyAndCert = { cert: DEV_PATHS.issuingCaPem, key: DEV_PATHS.issuingCaKey };
    afterAll(() => tmp.remove());

    async function withSigner(signer: KeyAndCert, body: (url: string) => Promise<void>): Promise<void> {
      const scripted = await startScriptedResponder(signer);
      try {
        await body(scripted.url);
      } finally {
        await scripted.stop();
        scripted.remove();
      }
    }

    it('accepts a response signed by the issuing CA itself', async () => {
      await withSigner(issuingCa, async (url) => {
        const r = await new OcspClient({ url }).check(revoked, issuer);
        expect(r.status).toBe('revoked');
        expect(r.responderCert.fingerprint256).toBe(issuer.fingerprint256);
        expect(r.responderNoCheck).toBe(true);
      });
    });

    it('accepts a delegated responder without ocsp-nocheck and says so', async () => {
      const signer = await makeCert(tmp.dir, 'checkable', '/CN=Checkable responder', ['basicConstraints=critical,CA:false', 'extendedKeyUsage=critical,OCSPSigning'], issuingCa);
      await withSigner(signer, async (url) => {
        const r = await new OcspClient({ url }).check(officer1, issuer);
        expect([r.status, r.responderNoCheck]).toEqual(['good', false]);
      });
    });

    it('rejects a responder certificate issued by the CA without id-kp-OCSPSigning', async () => {
      const signer = await makeCert(tmp.dir, 'no-eku', '/CN=Not a responder', ['basicConstraints=critical,CA:false', 'keyUsage=critical,digitalSignature'], issuingCa);
      await withSigner(signer, async (url) => {
        const e = await rejection(new OcspClient({ url }).check(officer1, issuer));
        expect([e.reason, e.message]).toEqual(['unauthorized-responder', expect.stringContaining('OCSPSigning')]);
      });
    });

    it('rejects an OCSPSigning certificate issued by another CA', async () => {
      const otherCa = await makeCert(tmp.dir, 'other-ca', '/CN=Chungthuc Dev Issuing CA', ['basicConstraints=critical,CA:true', 'keyUsage=critical,keyCertSign,cRLSign']);
      const signer = await makeCert(tmp.dir, 'foreign', '/CN=Foreign responder', ['basicConstraints=critical,CA:false', 'extendedKeyUsage=OCSPSigning'], otherCa);
      await withSigner(signer, async (url) => {
        const e = await rejection(new OcspClient({ url }).check(officer1, issuer));
        expect([e.reason, e.message]).toEqual(['unauthorized-responder', expect.stringContaining('not issued by')]);
      });
    });
  });
});

describe('OcspClient never blocks forever', () => {
  it('times out on a server that never answers', async () => {
    const slow = await startSlowServer();
    try {
      const e = await rejection(new OcspClient({ url: slow.url, timeoutMs: 300 }).check(officer1, issuer));
      expect([e.code, e.reason, e.retryable]).toEqual(['revocation-fetch-failed', 'timeout', true]);
      expect(slow.requests).toHaveLength(1);
    } finally {
      await slow.stop();
    }
  });

  it('fails fast when nothing listens', async () => {
    const e = await rejection(new OcspClient({ url: await unusedUrl() }).check(officer1, issuer));
    expect([e.code, e.reason]).toEqual(['revocation-fetch-failed', 'network']);
  });

  it('bounds the response size', async () => {
    const e = await rejection(new OcspClient({ url: responder.url, maxResponseBytes: 100 }).check(officer1, issuer));
    expect([e.code, e.reason, e.retryable]).toEqual(['revocation-fetch-failed', 'too-large', false]);
  });
});
