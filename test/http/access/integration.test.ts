/** Idempotency-Key replay, Prometheus metrics on their own port, and the configuration defaults of API_AUTH. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateFixtures, type FixtureSet } from '../../../scripts/gen-fixtures.ts';
import { createHash } from 'node:crypto';
import { loadConfig } from '../../../src/config.ts';
import { ServiceMetrics } from '../../../src/http/metrics.ts';
import { openDevToken } from '../../support/hsm.ts';
import { freePorts } from '../../support/ocspResponder.ts';
import { startTestService, type TestService } from '../../support/service.ts';
import { bearer, createKey, createTenant, type CreatedKey } from './helpers.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'chungthuc-access-'));
let svc: TestService;
let fx: FixtureSet;
let a: CreatedKey;
let b: CreatedKey;

beforeAll(async () => {
  fx = generateFixtures(path.join(tmp, 'fx'));
  // Both ports given: a service on port 0 could draw the metrics port freed a moment before.
  const [port, metricsPort] = await freePorts(2);
  svc = await startTestService({ API_AUTH: 'required', PORT: String(port), METRICS_PORT: String(metricsPort) });
  await createTenant(svc, 'A');
  a = await createKey(svc, 'A', 'sign,validate');
  b = await createKey(svc, 'A', 'sign');
});
afterAll(async () => {
  await svc?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const sign = (key: CreatedKey, idem: string | undefined, query = 'level=B-B&reason=idem', body = readFileSync(fx.classic)) =>
  fetch(`${svc.url}/api/v1/signatures?${query}`, {
    method: 'POST',
    headers: { ...bearer(key), 'content-type': 'application/pdf', ...(idem ? { 'idempotency-key': idem } : {}) },
    body,
  });

describe('Idempotency-Key on POST /api/v1/signatures', () => {
  it('replays the first response for the same key and request; 422 for a different request', async () => {
    const first = await sign(a, 'order-42');
    expect(first.status).toBe(200);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const firstBytes = Buffer.from(await first.arrayBuffer());
    const again = await sign(a, 'order-42');
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.headers.get('x-signature-field')).toBe(first.headers.get('x-signature-field'));
    expect(again.headers.get('content-disposition')).toBe(first.headers.get('content-disposition'));
    // Byte-identical: a second signing would carry another /M and signature value.
    expect(Buffer.from(await again.arrayBuffer()).equals(firstBytes)).toBe(true);
    const fresh = Buffer.from(await (await sign(a, undefined)).arrayBuffer());
    expect(fresh.equals(firstBytes)).toBe(false);

    const otherParams = await sign(a, 'order-42', 'level=B-B&reason=different');
    expect(otherParams.status).toBe(422);
    expect(await otherParams.json()).toMatchObject({ code: 'idempotency-key-reused' });
    const otherFile = await sign(a, 'order-42', 'level=B-B&reason=idem', readFileSync(fx.pdf13));
    expect(otherFile.status).toBe(422);

    // Keys are scoped per API key: another key's "order-42" is a new request.
    const byB = await sign(b, 'order-42');
    expect(byB.status).toBe(200);
    expect(byB.headers.get('idempotent-replayed')).toBeNull();
    expect(Buffer.from(await byB.arrayBuffer()).equals(firstBytes)).toBe(false);
  });

  it('gives the key back when the request fails, so a corrected retry runs', async () => {
    // Fails inside the signing (no page 99), after the key was reserved.
    const bad = await sign(a, 'order-43', 'level=B-B&page=99');
    expect(bad.status).toBeGreaterThanOrEqual(400);
    const row = svc.db.db.prepare("SELECT count(*) AS n FROM idempotency_keys WHERE key = 'order-43'").get() as { n: number };
    expect(row.n).toBe(0);
    expect((await sign(a, 'order-43')).status).toBe(200);
  });

  it('refuses a malformed key', async () => {
    const res = await sign(a, 'bad key with spaces');
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'invalid-idempotency-key' });
  });
});

describe('metrics', () => {
  it('serves Prometheus counters, latency histograms, HSM signing and registry gauges on the metrics port only', async () => {
    expect(svc.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const v = await fetch(`${svc.url}/api/v1/validations`, { method: 'POST', headers: { ...bearer(a), 'content-type': 'application/pdf' }, body: readFileSync(fx.classic) });
    expect(v.status).toBe(200);
    expect((await fetch(`${svc.url}/api/v1/validations`, { method: 'POST' })).status).toBe(401);
    expect((await sign(a, undefined)).status).toBe(200);
    const res = await fetch(`${svc.metricsUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toMatch(/^chungthuc_http_requests_total\{method="POST",route="\/api\/v1\/validations",status="200"\} 1$/m);
    expect(text).toMatch(/^chungthuc_http_requests_total\{method="POST",route="\/api\/v1\/validations",status="401"\} 1$/m);
    expect(text).toMatch(/^chungthuc_http_request_duration_seconds_count\{method="POST",route="\/api\/v1\/signatures"\} [1-9]\d*$/m);
    expect(text).toMatch(/^chungthuc_hsm_sign_duration_seconds_count\{key="seal"\} [1-9]\d*$/m);
    expect(text).toMatch(/^chungthuc_registry_tenants 1$/m);
    expect(text).toMatch(/^chungthuc_api_keys_active 2$/m);
    expect(text).toMatch(/^chungthuc_registry_copies\{status="valid"\} 0$/m);
    // Not on the API port.
    expect((await fetch(`${svc.url}/metrics`)).status).not.toBe(200);
  });

  it('times HSM signatures and counts their errors by key and code (real token)', async () => {
    const token = await openDevToken({ poolSize: 1 });
    try {
      const m = new ServiceMetrics(() => ({ copiesByStatus: {}, tenants: 0, activeApiKeys: 0, auditEntries: 0 }));
      const getSigner = m.instrumentSigners((label) => token.getSigner(label));
      const seal = await getSigner('seal');
      const digest = createHash('sha256').update('x').digest();
      expect((await seal.sign(digest, 'SHA-256', 'RSASSA-PKCS1-v1_5')).length).toBeGreaterThan(200);
      // The seal is an RSA key: the token refuses ECDSA with it.
      await expect(seal.sign(digest, 'SHA-256', 'ECDSA')).rejects.toThrow();
      const text = await m.registry.metrics();
      expect(text).toMatch(/^chungthuc_hsm_sign_duration_seconds_count\{key="seal"\} 2$/m);
      expect(text).toMatch(/^chungthuc_hsm_sign_errors_total\{key="seal",code="[a-z0-9-]+"\} 1$/m);
    } finally {
      await token.close();
    }
  });
});

describe('API_AUTH configuration', () => {
  it('defaults to off only with the dev PKI, required otherwise; explicit values win', () => {
    expect(loadConfig({}).api.auth).toBe('off');
    expect(loadConfig({ CERTS_DIR: 'certs' }).api.auth).toBe('off');
    expect(loadConfig({ CERTS_DIR: '/etc/chungthuc/pki' }).api.auth).toBe('required');
    expect(loadConfig({ CERTS_DIR: '/etc/chungthuc/pki', API_AUTH: 'off' }).api.auth).toBe('off');
    expect(loadConfig({ API_AUTH: 'required' }).api.auth).toBe('required');
    expect(() => loadConfig({ API_AUTH: 'maybe' })).toThrow(/API_AUTH/);
    expect(loadConfig({}).metrics).toEqual({ port: 9464, host: '127.0.0.1' });
  });
});

// Last: it adds a tenant and a key, which the metrics test above counts.
describe('tenant isolation of HSM keys', () => {
  it("refuses an HSM key that is not assigned to the API key's tenant", async () => {
    await createTenant(svc, 'C', ['officer2']);
    const c = await createKey(svc, 'C', 'sign');
    const res = await fetch(`${svc.url}/api/v1/signatures?key=seal`, { method: 'POST', headers: { ...bearer(c), 'content-type': 'application/pdf' }, body: readFileSync(fx.classic) });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ code: 'signing-key-not-allowed' });
    const own = await fetch(`${svc.url}/api/v1/signatures?key=officer2`, { method: 'POST', headers: { ...bearer(c), 'content-type': 'application/pdf' }, body: readFileSync(fx.classic) });
    expect(own.status).toBe(200);
    // Tenant A, which was given the seal, still signs with it.
    expect((await sign(a, 'order-77')).status).toBe(200);
  });
});
