/**
 * The authorization matrix (issue 6 "Proof"): EVERY catalogued operation (src/http/operations.ts) ×
 * every kind of caller → the exact status, on the real server with API_AUTH=required. Each operation
 * gets its minimal request from SAMPLES (samples.ts); an operation without one fails the matrix.
 * Callers: anonymous; unusable credentials; officer, supervisor and admin sessions; an API key per
 * scope (so every other scope is "a key without the scope"); a key of another tenant holding every
 * scope; a key used from outside its CIDRs. Plus: revocation at the next request, brute-force
 * throttling, and the audit log.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateFixtures, type FixtureSet } from '../../../scripts/gen-fixtures.ts';
import { OPERATIONS, type Operation } from '../../../src/http/operations.ts';
import { API_SCOPES, AuditLog, ROLE_SCOPES } from '../../../src/registry/index.ts';
import { startTestService, type TestService } from '../../support/service.ts';
import { bearer, cli, createKey, createOfficer, createTenant, loginOfficer, session, type CreatedKey, type OfficerLogin } from './helpers.ts';
import { SAMPLES, type Caller, type Sample, type World } from './samples.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'chungthuc-authz-'));
let svc: TestService;
let fx: FixtureSet;
let world: World;
const keys: Record<string, CreatedKey> = {};
const logins: Record<string, OfficerLogin> = {};

type Role = 'officer' | 'supervisor' | 'admin';
const ROLES: readonly Role[] = ['officer', 'supervisor', 'admin'];

/** Every caller of the matrix; `credential` says how it presents itself. */
const CALLERS: ReadonlyArray<Caller & { credential: 'none' | 'malformed' | 'unknown' | 'revoked' | 'wrong-ip' | 'key' | 'session' }> = [
  { name: 'anonymous', kind: 'anonymous', tenant: null, scopes: [], credential: 'none' },
  { name: 'malformed', kind: 'anonymous', tenant: null, scopes: [], credential: 'malformed' },
  { name: 'unknown', kind: 'anonymous', tenant: null, scopes: [], credential: 'unknown' },
  { name: 'revoked', kind: 'api-key', tenant: 'A', scopes: [], credential: 'revoked' },
  { name: 'wrongIp', kind: 'api-key', tenant: 'A', scopes: [], credential: 'wrong-ip' },
  ...ROLES.map((r) => ({ name: `session:${r}`, kind: 'officer' as const, tenant: 'A' as const, scopes: ROLE_SCOPES[r], credential: 'session' as const })),
  ...API_SCOPES.map((s) => ({ name: `key:${s}`, kind: 'api-key' as const, tenant: 'A' as const, scopes: [s], credential: 'key' as const })),
  { name: 'otherTenant', kind: 'api-key', tenant: 'B', scopes: API_SCOPES, credential: 'key' },
];

beforeAll(async () => {
  fx = generateFixtures(path.join(tmp, 'fx'));
  // The matrix's requests come "through a proxy" on loopback, each from its own client address, so
  // the per-client buckets of the public pages (a handler's own 429) never mix into the statuses.
  svc = await startTestService({ API_AUTH: 'required', API_AUTH_FAILURE_BURST: '1000', TRUST_PROXY: 'loopback' });
  await createTenant(svc, 'A');
  await createTenant(svc, 'B');
  for (const s of API_SCOPES) keys[`key:${s}`] = await createKey(svc, 'A', s);
  keys.otherTenant = await createKey(svc, 'B', API_SCOPES.join(','));
  keys.revoked = await createKey(svc, 'A', API_SCOPES.join(','));
  expect((await cli(svc, ['apikey', 'revoke', keys.revoked.id])).code).toBe(0);
  keys.wrongIp = await createKey(svc, 'A', API_SCOPES.join(','), ['10.0.0.0/8', '2001:db8::/32']);
  const officers = {
    officer: await createOfficer(svc, 'A', 'm-officer', { role: 'officer', key: 'officer1' }),
    supervisor: await createOfficer(svc, 'A', 'm-supervisor', { role: 'supervisor', key: 'officer2' }),
    admin: await createOfficer(svc, 'A', 'm-admin', { role: 'admin' }),
    target: await createOfficer(svc, 'A', 'm-target', { role: 'officer' }),
  };
  for (const r of ROLES) logins[r] = await loginOfficer(svc, officers[r].username, officers[r].password);
  // A signed input for /extend, and an RFC 3161 query for /tsa.
  const res = await fetch(`${svc.url}/api/v1/signatures?level=B-B`, { method: 'POST', headers: { ...bearer(keys['key:sign']!), 'content-type': 'application/pdf' }, body: readFileSync(fx.classic) });
  expect(res.status).toBe(200);
  writeFileSync(path.join(tmp, 'data.txt'), 'chungthuc');
  execFileSync('openssl', ['ts', '-query', '-data', path.join(tmp, 'data.txt'), '-sha256', '-cert', '-out', path.join(tmp, 'q.tsq')]);
  let n = 0;
  world = { svc, fx, signedPdf: Buffer.from(await res.arrayBuffer()), tsQuery: readFileSync(path.join(tmp, 'q.tsq')), officers, uniq: () => `${Date.now().toString(36)}${n++}` };
});
afterAll(async () => {
  await svc?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

async function headersOf(c: (typeof CALLERS)[number], sample: Sample): Promise<Record<string, string>> {
  switch (c.credential) {
    case 'none':
      return {};
    case 'malformed':
      return { authorization: 'Basic dXNlcjpwYXNz' };
    case 'unknown':
      // Well-formed but never issued.
      return bearer(`ck_000000000000_${'A'.repeat(43)}`);
    case 'session': {
      const role = c.name.slice('session:'.length) as Role;
      // A throwaway session for requests that end it; the matrix's own sessions live on.
      if (sample.freshSession) return session(await loginOfficer(svc, world.officers[role].username, world.officers[role].password));
      return session(logins[role]!);
    }
    default:
      return bearer(keys[c.name]!);
  }
}

/** The rule the matrix states. */
function expected(op: Operation, sample: Sample, c: (typeof CALLERS)[number]): { status: number; code?: string } {
  // A presented but unusable credential is refused on every route, public ones included (RFC 6750 §3.1).
  if (c.credential === 'malformed' || c.credential === 'unknown' || c.credential === 'revoked') return { status: 401, code: 'unauthenticated' };
  if (c.credential === 'wrong-ip') return { status: 403, code: 'forbidden-address' };
  const own = typeof sample.status === 'function' ? sample.status(c) : (sample.status ?? 200);
  if (op.access === 'public') return { status: own };
  if (c.credential === 'none') return { status: 401, code: 'unauthenticated' };
  if (op.access !== 'authenticated' && !c.scopes.includes(op.access)) return { status: 403, code: 'forbidden-scope' };
  return { status: own };
}

describe('authorization matrix (API_AUTH=required)', () => {
  let requests = 0;
  it('has a sample request for every catalogued operation, and none for an operation that is gone', () => {
    expect(OPERATIONS.filter((op) => !SAMPLES[op.operationId]).map((op) => `${op.operationId} (${op.method} ${op.path})`), 'operations without a SAMPLES entry').toEqual([]);
    const ids = new Set(OPERATIONS.map((op) => op.operationId));
    expect(Object.keys(SAMPLES).filter((id) => !ids.has(id)), 'SAMPLES entries naming no operation').toEqual([]);
  });

  for (const op of OPERATIONS) {
    it(`${op.operationId} ${op.method} ${op.path} (${op.access}): exact status for every caller`, async () => {
      const sample = SAMPLES[op.operationId];
      expect(sample, `SAMPLES has no entry for ${op.operationId}`).toBeDefined();
      const got: Record<string, string> = {};
      const want: Record<string, string> = {};
      for (const c of CALLERS) {
        const r = await sample!.request(world);
        const client = { 'x-forwarded-for': `198.18.${(++requests >> 8) & 255}.${requests & 255}` };
        const res = await fetch(svc.url + r.path, { method: op.method, redirect: 'manual', headers: { ...r.headers, ...client, ...(await headersOf(c, sample!)) }, body: r.body });
        const body = await res.text();
        const e = expected(op, sample!, c);
        const code = res.headers.get('content-type')?.startsWith('application/problem+json') ? (JSON.parse(body) as { code: string }).code : undefined;
        got[c.name] = `${res.status}${e.code ? ` ${code}` : ''}`;
        want[c.name] = `${e.status}${e.code ? ` ${e.code}` : ''}`;
        if (e.code === 'unauthenticated') expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="chungthuc"/);
      }
      expect(got).toEqual(want);
    });
  }

  it('an uncatalogued route fails closed: 401 for anonymous callers, then the router\'s 404', async () => {
    expect((await fetch(`${svc.url}/no-such-route`)).status).toBe(401);
    expect((await fetch(`${svc.url}/no-such-route`, { headers: bearer(keys['key:validate']!) })).status).toBe(404);
    expect((await fetch(`${svc.url}/no-such-route`, { headers: session(logins.officer!) })).status).toBe(404);
  });

  it('never reads the upload of an anonymous caller: 401 before the body limit', async () => {
    const res = await fetch(`${svc.url}/api/v1/signatures`, { method: 'POST', headers: { 'content-type': 'application/pdf', 'content-length': String(10 ** 12) }, body: null });
    expect(res.status).toBe(401);
  });
});

describe('revocation', () => {
  it('a revoked key stops working at the next request', async () => {
    const k = await createKey(svc, 'A', 'validate');
    const call = () => fetch(`${svc.url}/api/v1/validations`, { method: 'POST', headers: { ...bearer(k), 'content-type': 'application/pdf' }, body: readFileSync(fx.classic) });
    expect((await call()).status).toBe(200);
    expect((await cli(svc, ['apikey', 'revoke', k.id])).code).toBe(0);
    const res = await call();
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: 'unauthenticated', detail: 'the API key has been revoked' });
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
    // A second revocation is refused, so the first stays on record.
    expect((await cli(svc, ['apikey', 'revoke', k.id])).code).toBe(1);
    const list = JSON.parse((await cli(svc, ['apikey', 'list', '--tenant', 'A', '--json'])).out) as Array<{ id: string; revokedAt: string | null; lastUsedAt: string | null }>;
    const row = list.find((x) => x.id === k.id)!;
    expect(row.revokedAt).not.toBeNull();
    expect(row.lastUsedAt).not.toBeNull();
    expect(JSON.stringify(list)).not.toContain(/^ck_[0-9a-f]{12}_(.+)$/.exec(k.key)![1]!); // the secret (base64url: it may hold '_')
  });
});

describe('audit log', () => {
  it('records authenticated calls, denials and admin actions with who, what, outcome, ip and request id', async () => {
    const res = await fetch(`${svc.url}/api/v1/validations`, { method: 'POST', headers: { ...bearer(keys['key:validate']!), 'content-type': 'application/pdf', 'x-request-id': 'audit-probe-1' }, body: readFileSync(fx.classic) });
    expect(res.status).toBe(200);
    const denied = await fetch(`${svc.url}/api/v1/signatures`, { method: 'POST', headers: { ...bearer(keys['key:validate']!), 'content-type': 'application/pdf', 'x-request-id': 'audit-probe-2' }, body: readFileSync(fx.classic) });
    expect(denied.status).toBe(403);
    const r = await cli(svc, ['audit', 'list', '--json', '--tenant', 'A']);
    expect(r.code).toBe(0);
    const rows = r.out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.find((x) => x.requestId === 'audit-probe-1')).toMatchObject({
      actorKind: 'api-key', actorId: keys['key:validate']!.id, action: 'validations.create', outcome: 'success', status: 200, ip: '127.0.0.1',
    });
    expect(rows.find((x) => x.requestId === 'audit-probe-2')).toMatchObject({
      actorKind: 'api-key', actorId: keys['key:validate']!.id, action: 'signatures.create', outcome: 'denied', status: 403, details: { code: 'forbidden-scope' },
    });
    // Admin actions from the CLI.
    expect(rows.some((x) => x.action === 'apikey.create' && x.actorKind === 'cli' && x.object === `apikey:${keys['key:sign']!.id}`)).toBe(true);
    expect(rows.some((x) => x.action === 'apikey.revoke' && x.object === `apikey:${keys.revoked!.id}`)).toBe(true);
    expect(rows.some((x) => x.action === 'tenant.create' && x.object === 'tenant:A')).toBe(true);
    // Signing rows name the signature created.
    expect(rows.some((x) => x.action === 'signatures.create' && x.outcome === 'success' && String(x.object).startsWith('signature:'))).toBe(true);
    // A revoked key's attempts are attributed to it; secrets never appear.
    const all = new AuditLog(svc.db.db).list({ limit: 100_000 });
    expect(all.some((x) => x.actorId === keys.revoked!.id && x.outcome === 'denied' && x.details?.authFailure === 'revoked')).toBe(true);
    for (const k of Object.values(keys)) expect(JSON.stringify(all)).not.toContain(k.key);
    // --since filters.
    const later = await cli(svc, ['audit', 'list', '--json', '--since', new Date(Date.now() + 3600_000).toISOString()]);
    expect(later.out).toBe('');
  });

  it('is append-only', () => {
    expect(() => svc.db.db.prepare('UPDATE audit_log SET outcome = ? WHERE id = 1').run('success')).toThrow(/append-only/);
    expect(() => svc.db.db.prepare('DELETE FROM audit_log').run()).toThrow(/append-only/);
  });
});

describe('brute-force throttling', () => {
  it('answers 429 with Retry-After once an address has failed too often, even to a valid key', async () => {
    const s = await startTestService({ API_AUTH: 'required', API_AUTH_FAILURE_BURST: '3', API_AUTH_FAILURE_PER_MINUTE: '1' });
    try {
      await createTenant(s, 'T');
      const good = await createKey(s, 'T', 'validate');
      const guess = (i: number) => fetch(`${s.url}/api/v1/validations`, { method: 'POST', headers: bearer(`${good.key.slice(0, -4)}${String(i).padStart(4, '0')}`) });
      for (let i = 0; i < 3; i++) expect((await guess(i)).status).toBe(401);
      const blocked = await guess(3);
      expect(blocked.status).toBe(429);
      expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(await blocked.json()).toMatchObject({ code: 'too-many-requests' });
      const withGood = await fetch(`${s.url}/api/v1/validations`, { method: 'POST', headers: { ...bearer(good), 'content-type': 'application/pdf' }, body: readFileSync(fx.classic) });
      expect(withGood.status).toBe(429);
      // Callers without credentials are not throttled by this (public pages stay up).
      expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
      const denied = new AuditLog(s.db.db).list().filter((x) => x.outcome === 'denied');
      expect(denied.map((x) => x.details?.authFailure)).toEqual(['unknown', 'unknown', 'unknown', 'throttled', 'throttled']);
    } finally {
      await s.stop();
    }
  });
});
