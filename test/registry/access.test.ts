/** The access tables: API keys stored hashed, CIDR/scope validation, revocation, append-only audit, idempotency expiry. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ApiKeyRepository, AuditLog, IdempotencyRepository, TenantRepository, openDatabase, parseCidr } from '../../src/registry/index.ts';
import { addressAllowed } from '../../src/http/access/authenticate.ts';
import { FailureThrottle } from '../../src/http/access/FailureThrottle.ts';

function setup(now = () => new Date('2026-03-01T00:00:00Z')) {
  const db = openDatabase(':memory:');
  const tenant = new TenantRepository(db.db).create({ code: 'A', name: 'UBND xã A' });
  return { db, tenant, keys: new ApiKeyRepository(db.db, now) };
}

describe('ApiKeyRepository', () => {
  it('stores only the SHA-256 of the key, and checks it', () => {
    const { db, tenant, keys } = setup();
    const { key, token } = keys.create({ tenantId: tenant.id, name: 'one-stop', scopes: ['sign', 'validate'], createdBy: 'test' });
    expect(token).toMatch(/^ck_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(token.startsWith(`ck_${key.prefix}_`)).toBe(true);
    const row = db.db.prepare('SELECT * FROM api_keys').get() as Record<string, unknown>;
    expect(JSON.stringify(row)).not.toContain(token.split('_').slice(2).join('_'));
    expect(Buffer.from(row.secret_hash as Buffer).equals(createHash('sha256').update(token).digest())).toBe(true);
    expect(keys.check(token)).toMatchObject({ ok: true, key: { id: key.id, scopes: ['sign', 'validate'] } });
    // One character off in the secret, the prefix, or the shape.
    const last = token.at(-1) === 'A' ? 'B' : 'A';
    expect(keys.check(token.slice(0, -1) + last)).toEqual({ ok: false, reason: 'unknown' });
    expect(keys.check(token.replace(key.prefix, '000000000000'))).toEqual({ ok: false, reason: 'unknown' });
    expect(keys.check(token + 'x')).toEqual({ ok: false, reason: 'malformed' });
  });

  it('revokes once, never deletes, and refuses unknown scopes and bad CIDRs', () => {
    const { db, tenant, keys } = setup();
    const { key, token } = keys.create({ tenantId: tenant.id, name: 'k', scopes: ['admin'], allowedCidrs: ['192.0.2.7', '2001:db8::/32'], createdBy: 'test' });
    expect(key.allowedCidrs).toEqual(['192.0.2.7/32', '2001:db8::/32']);
    keys.revoke(key.id, 'test');
    expect(keys.check(token)).toMatchObject({ ok: false, reason: 'revoked' });
    expect(() => keys.revoke(key.id, 'again')).toThrow(/already revoked/);
    expect(() => db.db.prepare('DELETE FROM api_keys').run()).toThrow(/never deleted/);
    expect(() => db.db.prepare('UPDATE api_keys SET revoked_at = NULL').run()).toThrow(/revoked \(once\)/);
    expect(() => db.db.prepare("UPDATE api_keys SET scopes = '[\"sign\"]'").run()).toThrow();
    expect(() => keys.create({ tenantId: tenant.id, name: 'k', scopes: ['root' as 'admin'], createdBy: 't' })).toThrow(/unknown scope/);
    expect(() => keys.create({ tenantId: tenant.id, name: 'k', scopes: [], createdBy: 't' })).toThrow(/at least one scope/);
    expect(() => keys.create({ tenantId: 'nope', name: 'k', scopes: ['sign'], createdBy: 't' })).toThrow(/no tenant/);
    for (const bad of ['10.0.0.0/33', '10.0.0/8', 'example.org', '10.0.0.0/8/1', '::1/129', '10.0.0.0/x']) expect(() => parseCidr(bad), bad).toThrow(/CIDR/);
  });

  it('IP restriction: IPv4 and IPv6 blocks, IPv4-mapped clients', () => {
    expect(addressAllowed(null, '203.0.113.9')).toBe(true);
    expect(addressAllowed(['10.0.0.0/8'], '10.1.2.3')).toBe(true);
    expect(addressAllowed(['10.0.0.0/8'], '11.1.2.3')).toBe(false);
    expect(addressAllowed(['2001:db8::/32'], '2001:db8::1')).toBe(true);
    expect(addressAllowed(['2001:db8::/32'], '10.1.2.3')).toBe(false);
    expect(addressAllowed(['127.0.0.1/32'], 'not-an-ip')).toBe(false);
  });
});

describe('AuditLog', () => {
  it('appends and lists by time and tenant; refuses UPDATE and DELETE', () => {
    let t = new Date('2026-03-01T00:00:00Z');
    const { db, tenant } = setup();
    const log = new AuditLog(db.db, () => t);
    log.append({ actorKind: 'cli', actorId: 'alice', tenantId: tenant.id, action: 'apikey.create', object: 'apikey:1', outcome: 'success' });
    t = new Date('2026-03-02T00:00:00Z');
    log.append({ actorKind: 'public', actorId: null, tenantId: null, action: 'verification.lookup', object: null, outcome: 'rejected', status: 404, ip: '192.0.2.1', details: { path: '/v/x' } });
    expect(log.list().map((r) => r.action)).toEqual(['apikey.create', 'verification.lookup']);
    expect(log.list({ since: new Date('2026-03-01T12:00:00Z') }).map((r) => r.action)).toEqual(['verification.lookup']);
    expect(log.list({ tenantId: tenant.id }).map((r) => r.actorId)).toEqual(['alice']);
    expect(log.list()[1]!.details).toEqual({ path: '/v/x' });
    expect(() => db.db.prepare("UPDATE audit_log SET actor_id = 'mallory'").run()).toThrow(/append-only/);
    expect(() => db.db.prepare('DELETE FROM audit_log').run()).toThrow(/append-only/);
    expect(() => db.db.prepare("INSERT INTO audit_log (at, actor_kind, action, outcome) VALUES ('x', 'robot', 'a', 'success')").run()).toThrow(/CHECK/);
  });

  it('writes deferred page-view rows in one batch: within the window, at deferMax, or when listed — each with its own time', async () => {
    let t = new Date('2026-03-01T00:00:00Z');
    const { db } = setup();
    const count = () => (db.db.prepare('SELECT count(*) AS n FROM audit_log').get() as { n: number }).n;
    const log = new AuditLog(db.db, () => t, { deferMs: 20, deferMax: 3 });
    const view = { actorKind: 'public', actorId: null, tenantId: null, action: 'verification.lookup', object: null, outcome: 'success' } as const;
    log.appendDeferred(view);
    t = new Date('2026-03-01T00:00:01Z');
    log.appendDeferred(view);
    expect(count()).toBe(0);
    await new Promise((r) => setTimeout(r, 60));
    expect(count()).toBe(2);
    expect(log.list().map((r) => r.at.toISOString())).toEqual(['2026-03-01T00:00:00.000Z', '2026-03-01T00:00:01.000Z']);
    for (let i = 0; i < 3; i++) log.appendDeferred(view);
    expect(count()).toBe(5);
    log.appendDeferred(view);
    expect(log.list()).toHaveLength(6);
  });

  it('writes a large deferred batch (several rows per INSERT and a remainder) whole, in order, each row with its own values', () => {
    let t = new Date('2026-03-01T00:00:00Z').getTime();
    const { db } = setup();
    const log = new AuditLog(db.db, () => new Date(t), { deferMs: 60_000, deferMax: 1000 });
    for (let i = 0; i < 70; i++) {
      t += 1000;
      log.appendDeferred({ actorKind: 'public', actorId: null, tenantId: null, action: 'verification.lookup', object: `CODE${i}`, outcome: 'success', status: 200, ip: `10.0.0.${i}`, requestId: `r${i}`, details: { i } });
    }
    const rows = log.list();
    expect(rows).toHaveLength(70);
    rows.forEach((r, i) => {
      expect(r).toMatchObject({ object: `CODE${i}`, ip: `10.0.0.${i}`, requestId: `r${i}`, status: 200, details: { i } });
      expect(r.at.toISOString()).toBe(new Date(new Date('2026-03-01T00:00:00Z').getTime() + (i + 1) * 1000).toISOString());
    });
  });

  it('reports a deferred batch it could not write instead of losing it silently', () => {
    const { db } = setup();
    const lost: number[] = [];
    const log = new AuditLog(db.db, undefined, { onError: (_err, n) => lost.push(n) });
    log.appendDeferred({ actorKind: 'public', actorId: null, tenantId: null, action: 'verification.lookup', object: null, outcome: 'success' });
    db.close();
    log.flush();
    expect(lost).toEqual([1]);
  });
});

describe('IdempotencyRepository', () => {
  it('reserves once per (api key, key), completes, releases, and expires', () => {
    let t = new Date('2026-03-01T00:00:00Z');
    const { db, tenant, keys } = setup(() => t);
    const k = keys.create({ tenantId: tenant.id, name: 'k', scopes: ['sign'], createdBy: 't' }).key;
    const repo = new IdempotencyRepository(db.db, () => t);
    const req = { key: 'K1', apiKeyId: k.id, method: 'POST', path: '/api/v1/signatures', requestHash: 'h1', ttlMs: 3600_000 };
    const first = repo.reserve(req);
    expect(first.reserved).toBe(true);
    const dup = repo.reserve(req);
    expect(dup).toMatchObject({ reserved: false, existing: { state: 'pending', requestHash: 'h1' } });
    // Another API key (or anonymous) has its own key space.
    expect(repo.reserve({ ...req, apiKeyId: null }).reserved).toBe(true);
    expect(repo.reserve({ ...req, apiKeyId: null }).reserved).toBe(false);
    if (!first.reserved) throw new Error('unreachable');
    repo.complete(first.id, { status: 200, headers: { 'Content-Type': 'application/pdf' }, file: 'f.bin' });
    expect(repo.reserve(req)).toMatchObject({ reserved: false, existing: { state: 'done', response: { status: 200, file: 'f.bin' } } });
    // Released keys can be used again.
    const other = repo.reserve({ ...req, key: 'K2' });
    if (!other.reserved) throw new Error('expected a reservation');
    repo.release(other.id);
    expect(repo.reserve({ ...req, key: 'K2' }).reserved).toBe(true);
    // After the TTL: purged (with its file named for removal) and reusable.
    t = new Date(t.getTime() + 3600_001);
    expect(repo.purgeExpired()).toEqual(['f.bin']);
    expect(repo.reserve(req).reserved).toBe(true);
  });
});

describe('FailureThrottle', () => {
  it('allows `burst` failures, then asks to wait; refills over time', () => {
    let now = 0;
    const th = new FailureThrottle({ burst: 2, perMinute: 6, now: () => now });
    expect(th.retryAfterSeconds('a')).toBe(0);
    th.fail('a');
    th.fail('a');
    expect(th.retryAfterSeconds('a')).toBe(10);
    expect(th.retryAfterSeconds('b')).toBe(0);
    now += 10_000;
    expect(th.retryAfterSeconds('a')).toBe(0);
  });

  it('stays bounded under many addresses', () => {
    const th = new FailureThrottle({ burst: 1, perMinute: 1, maxTracked: 100, now: () => 0 });
    for (let i = 0; i < 1000; i++) th.fail(`10.0.${i >> 8}.${i & 255}`);
    expect((th as unknown as { buckets: Map<string, unknown> }).buckets.size).toBeLessThanOrEqual(100);
  });
});
