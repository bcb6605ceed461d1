/**
 * Idempotency-Key on the JSON POSTs that create something (officers, API keys, refusals): a retry
 * with the same key and body gets the first answer (nothing created twice); a secret shown once (a
 * new API key, a generated password) is never stored, so the replay carries null in its place.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../../support/service.ts';
import { bearer, createKey, createTenant, type CreatedKey } from './helpers.ts';

let svc: TestService;
let admin: CreatedKey;
let certifier: CreatedKey;
beforeAll(async () => {
  svc = await startTestService({ API_AUTH: 'required' });
  await createTenant(svc, 'IDEM');
  admin = await createKey(svc, 'IDEM', 'admin');
  certifier = await createKey(svc, 'IDEM', 'certify,read-registry');
});
afterAll(async () => {
  await svc?.stop();
});

const post = (path: string, key: CreatedKey, body: unknown, idempotencyKey?: string) =>
  fetch(`${svc.url}${path}`, {
    method: 'POST',
    headers: { ...bearer(key), 'content-type': 'application/json', ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}) },
    body: JSON.stringify(body),
  });
const count = (sql: string, ...args: unknown[]) => (svc.db.db.prepare(sql).get(...args) as { n: number }).n;

describe('Idempotency-Key on creating JSON POSTs', () => {
  it('API keys: one key for two tries; the replay names it without its secret', async () => {
    const body = { name: 'one-stop retry', scopes: ['validate'] };
    const first = await post('/api/v1/api-keys', admin, body, 'k-apikey-1');
    expect(first.status).toBe(201);
    const a = (await first.json()) as { apiKey: { id: string }; key: string };
    expect(a.key).toMatch(/^ck_/);
    const again = await post('/api/v1/api-keys', admin, body, 'k-apikey-1');
    expect([again.status, again.headers.get('idempotent-replayed')]).toEqual([201, 'true']);
    expect(await again.json()).toEqual({ apiKey: a.apiKey, key: null });
    expect(count("SELECT count(*) AS n FROM api_keys WHERE name = 'one-stop retry'")).toBe(1);
    // The secret is nowhere in the stored response.
    const stored = svc.db.db.prepare("SELECT response_body FROM idempotency_keys WHERE key = 'k-apikey-1'").get() as { response_body: Buffer };
    expect(stored.response_body.toString('utf8')).not.toContain(/^ck_[0-9a-f]{12}_(.+)$/.exec(a.key)![1]!); // the secret (base64url: it may hold '_')
    // The same key on a different request is refused; without a key every call creates.
    expect((await post('/api/v1/api-keys', admin, { ...body, name: 'other' }, 'k-apikey-1')).status).toBe(422);
    expect((await post('/api/v1/api-keys', admin, body)).status).toBe(201);
    expect(count("SELECT count(*) AS n FROM api_keys WHERE name = 'one-stop retry'")).toBe(2);
  });

  it('officers: one account for two tries; a generated password is not replayed', async () => {
    const body = { username: 'idem.officer', displayName: 'Phạm Thị Dung', title: 'Công chức Tư pháp', role: 'officer' };
    const first = (await (await post('/api/v1/officers', admin, body, 'k-officer-1')).json()) as { officer: { id: string }; password: string };
    expect(first.password.length).toBeGreaterThanOrEqual(20);
    const again = await post('/api/v1/officers', admin, body, 'k-officer-1');
    expect(again.status).toBe(201);
    expect(await again.json()).toEqual({ officer: first.officer, password: null });
    expect(count("SELECT count(*) AS n FROM officers WHERE username = 'idem.officer'")).toBe(1);
  });

  it('refusals: recorded once', async () => {
    const body = { ground: 'illegible', documentType: 'Giấy khai sinh', caseCode: 'H56.22-261129-0001' };
    const first = await post('/api/v1/refusals', certifier, body, 'k-refusal-1');
    expect(first.status).toBe(201);
    const again = await post('/api/v1/refusals', certifier, body, 'k-refusal-1');
    expect(again.status).toBe(201);
    expect(await again.json()).toEqual(await first.json());
    expect(count("SELECT count(*) AS n FROM refusals WHERE case_code = 'H56.22-261129-0001'")).toBe(1);
  });
});
