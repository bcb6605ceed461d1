/** Officer accounts and sessions in the registry: scrypt hashes, lockout, session timeouts and revocation, on an injected clock. */
import { describe, expect, it } from 'vitest';
import {
  IdempotencyRepository,
  OfficerRepository,
  SessionRepository,
  TenantRepository,
  hashPassword,
  openDatabase,
  verifyPassword,
} from '../../src/registry/index.ts';
import { OfficerSessions } from '../../src/services/officerSessions.ts';
import { limitKey, resolveClient, trustedProxies } from '../../src/http/access/trustProxy.ts';
import { FailureThrottle } from '../../src/http/access/FailureThrottle.ts';
import { TokenBuckets } from '../../src/http/routes/verification/rateLimit.ts';

const MIN = 60_000;
const timeouts = { idleMs: 30 * MIN, absoluteMs: 12 * 60 * MIN };

function setup() {
  let t = new Date('2026-03-01T08:00:00Z').getTime();
  const clock = { now: () => new Date(t), advance: (ms: number) => (t += ms) };
  const db = openDatabase(':memory:');
  const tenants = new TenantRepository(db.db, clock.now);
  const a = tenants.create({ code: 'A', name: 'UBND xã A' });
  const b = tenants.create({ code: 'B', name: 'UBND xã B' });
  tenants.allowSigningKey(a.id, 'officer1');
  const officers = new OfficerRepository(db.db, clock.now);
  const sessions = new SessionRepository(db.db, timeouts, clock.now);
  const auth = new OfficerSessions({ officers, sessions, tenants, lockout: { maxFailures: 5, lockMs: 15 * MIN }, now: clock.now });
  return { db, clock, a, b, officers, sessions, auth };
}

const client = { ip: '192.0.2.1', userAgent: 'test' };

describe('passwords', () => {
  it('are scrypt hashes with their parameters and a per-password salt, checked in constant time', async () => {
    const h1 = await hashPassword('correct horse battery');
    const h2 = await hashPassword('correct horse battery');
    expect(h1).toMatch(/^\$scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
    expect(h1).not.toBe(h2);
    expect(await verifyPassword('correct horse battery', h1)).toBe(true);
    expect(await verifyPassword('correct horse batterY', h1)).toBe(false);
    // The stored parameters are honoured (a cheaper old hash still verifies), a malformed one never matches.
    expect(await verifyPassword('x'.repeat(12), await hashPassword('x'.repeat(12), { ln: 10, r: 8, p: 1 }))).toBe(true);
    expect(await verifyPassword('anything', '$scrypt$ln=15,r=8,p=1$bad')).toBe(false);
  });
});

describe('OfficerRepository', () => {
  it('creates officers with case-insensitive unique usernames and only the tenant’s keys', async () => {
    const { a, b, officers, db } = setup();
    const o = await officers.create({ tenantId: a.id, username: 'NguyenVanA', displayName: 'Nguyễn Văn A', title: 'Phó Chủ tịch UBND xã', role: 'officer', signingKeyLabel: 'officer1', password: 'a-long-password', createdBy: 'test' });
    expect(o).toMatchObject({ username: 'nguyenvana', signingKeyLabel: 'officer1', disabledAt: null });
    expect(officers.getByUsername('NGUYENVANA')?.id).toBe(o.id);
    await expect(officers.create({ tenantId: b.id, username: 'nguyenvanA', displayName: 'X', title: 'Y', role: 'officer', password: 'a-long-password', createdBy: 't' })).rejects.toThrow(/taken/);
    await expect(officers.create({ tenantId: b.id, username: 'other', displayName: 'X', title: 'Y', role: 'officer', signingKeyLabel: 'officer1', password: 'a-long-password', createdBy: 't' })).rejects.toThrow(/not one of the tenant's keys/);
    await expect(officers.create({ tenantId: a.id, username: 'short', displayName: 'X', title: 'Y', role: 'officer', password: 'short', createdBy: 't' })).rejects.toThrow(/at least 10/);
    await expect(officers.create({ tenantId: a.id, username: 'a b', displayName: 'X', title: 'Y', role: 'officer', password: 'a-long-password', createdBy: 't' })).rejects.toThrow(/username/);
    expect(() => officers.update(o.id, { signingKeyLabel: 'seal' })).toThrow(/not one of the tenant's keys/);
    expect(officers.list(a.id).map((x) => x.id)).toEqual([o.id]);
    expect(officers.list(b.id)).toEqual([]);
    // The hash, never the password, is stored; rows are never deleted.
    expect(JSON.stringify(db.db.prepare('SELECT * FROM officers').all())).not.toContain('a-long-password');
    expect(() => db.db.prepare('DELETE FROM officers').run()).toThrow(/never deleted/);
  });

  it("gives each personal key to one active officer, never the tenant's seal", async () => {
    const { a, officers, db } = setup();
    const tenants = new TenantRepository(db.db);
    for (const k of ['seal', 'officer2']) tenants.allowSigningKey(a.id, k);
    const make = (username: string, signingKeyLabel?: string) =>
      officers.create({ tenantId: a.id, username, displayName: username, title: 'Công chức', role: 'officer', signingKeyLabel, password: 'a-long-password', createdBy: 't' });
    // What each key is for, as the console offers them: the seal's, held, or free.
    expect(officers.signingKeys(a.id)).toEqual([
      { label: 'officer1', use: 'free', holder: null },
      { label: 'officer2', use: 'free', holder: null },
      { label: 'seal', use: 'seal', holder: null },
    ]);
    const first = await make('holder', 'officer1');
    await expect(make('second', 'officer1')).rejects.toThrow(/already the personal key of holder/);
    await expect(make('sealer', 'seal')).rejects.toThrow(/agency seal's key/);
    const other = await make('other', 'officer2');
    expect(officers.signingKeys(a.id).map((k) => [k.label, k.use, k.holder?.username ?? null])).toEqual([
      ['officer1', 'personal', 'holder'],
      ['officer2', 'personal', 'other'],
      ['seal', 'seal', null],
    ]);
    expect(() => officers.update(other.id, { signingKeyLabel: 'officer1' })).toThrow(/already the personal key/);
    expect(officers.update(first.id, { title: 'Phó Chủ tịch' }).signingKeyLabel).toBe('officer1');
    // A disabled officer frees the key; back at work only while nobody else holds it.
    officers.disable(first.id);
    expect(officers.signingKeys(a.id)[0]).toEqual({ label: 'officer1', use: 'free', holder: null });
    const next = officers.update(other.id, { signingKeyLabel: 'officer1' });
    expect(next.signingKeyLabel).toBe('officer1');
    expect(() => officers.enable(first.id)).toThrow(/already the personal key of other/);
  });
});

describe('sign-in and sessions', () => {
  async function withOfficer() {
    const s = setup();
    const o = await s.officers.create({ tenantId: s.a.id, username: 'cb1', displayName: 'Cán bộ 1', title: 'Công chức', role: 'supervisor', password: 'the-right-password', createdBy: 'test' });
    return { ...s, o };
  }

  it('locks the account after 5 failures in a row for 15 minutes, in the database', async () => {
    const { auth, officers, o, clock } = await withOfficer();
    for (let i = 0; i < 4; i++) expect(await auth.passwordLogin('cb1', 'wrong-password', client)).toMatchObject({ ok: false, reason: 'invalid' });
    expect(await auth.passwordLogin('cb1', 'wrong-password', client)).toMatchObject({ ok: false, reason: 'locked', retryAfterSeconds: 900 });
    // Locked: even the right password is refused, and the state is a column, not process memory.
    expect(await auth.passwordLogin('cb1', 'the-right-password', client)).toMatchObject({ ok: false, reason: 'locked' });
    expect(officers.get(o.id)!.lockedUntil).toEqual(new Date(clock.now().getTime() + 15 * MIN));
    clock.advance(15 * MIN);
    const ok = await auth.passwordLogin('cb1', 'the-right-password', client);
    expect(ok).toMatchObject({ ok: true, officer: { id: o.id } });
    expect(officers.get(o.id)!.failedLogins).toBe(0);
  });

  it('an unknown username locked by failures stays locked while other unknown names crowd the memory', async () => {
    const { officers, sessions, clock, db } = await withOfficer();
    const tenants = new TenantRepository(db.db, clock.now);
    const auth = new OfficerSessions({ officers, sessions, tenants, lockout: { maxFailures: 5, lockMs: 15 * MIN }, now: clock.now, unlockableTracked: 3 });
    for (let i = 0; i < 5; i++) await auth.passwordLogin('khong-co', 'wrong-password', client);
    expect(await auth.passwordLogin('khong-co', 'wrong-password', client)).toMatchObject({ ok: false, reason: 'locked' });
    // Four other names fail once each: more than the three tracked, yet the locked one is not forgotten.
    for (const other of ['ten-1', 'ten-2', 'ten-3', 'ten-4']) await auth.passwordLogin(other, 'wrong-password', client);
    expect(await auth.passwordLogin('khong-co', 'wrong-password', client)).toMatchObject({ ok: false, reason: 'locked' });
    clock.advance(15 * MIN);
    expect(await auth.passwordLogin('khong-co', 'wrong-password', client)).toMatchObject({ ok: false, reason: 'invalid' });
  });

  it('a name counted while every other tracked name is locked can still lock', async () => {
    const { officers, sessions, clock, db } = await withOfficer();
    const tenants = new TenantRepository(db.db, clock.now);
    const auth = new OfficerSessions({ officers, sessions, tenants, lockout: { maxFailures: 2, lockMs: 15 * MIN }, now: clock.now, unlockableTracked: 2 });
    for (const locked of ['mot', 'hai']) for (let i = 0; i < 2; i++) await auth.passwordLogin(locked, 'wrong-password', client);
    expect(await auth.passwordLogin('hai', 'wrong-password', client)).toMatchObject({ reason: 'locked' });
    await auth.passwordLogin('ba', 'wrong-password', client);
    expect(await auth.passwordLogin('ba', 'wrong-password', client)).toMatchObject({ ok: false, reason: 'locked' });
  });

  it('answers an unknown user exactly as a wrong password', async () => {
    const { auth } = await withOfficer();
    expect(await auth.passwordLogin('nobody', 'the-right-password', client)).toEqual({ ok: false, reason: 'invalid', officer: null });
  });

  it('ends a session after 30 idle minutes, after 12 hours however busy, and at logout', async () => {
    const { auth, clock, o } = await withOfficer();
    const first = await auth.passwordLogin('cb1', 'the-right-password', client);
    if (!first.ok) throw new Error('login failed');
    expect(auth.resume(first.secret)).toMatchObject({ officer: { id: o.id }, scopes: ['certify', 'read-registry', 'validate', 'annul'] });
    clock.advance(29 * MIN);
    expect(auth.resume(first.secret)).not.toBeNull(); // slides the idle timeout
    clock.advance(29 * MIN);
    expect(auth.resume(first.secret)).not.toBeNull();
    clock.advance(31 * MIN);
    expect(auth.resume(first.secret)).toBeNull();
    const busy = await auth.passwordLogin('cb1', 'the-right-password', client);
    if (!busy.ok) throw new Error('login failed');
    for (let i = 0; i < 12 * 3 - 1; i++) {
      clock.advance(20 * MIN);
      expect(auth.resume(busy.secret)).not.toBeNull();
    }
    clock.advance(20 * MIN);
    expect(auth.resume(busy.secret)).toBeNull();
    const third = await auth.passwordLogin('cb1', 'the-right-password', client);
    if (!third.ok) throw new Error('login failed');
    auth.logout(third.session.id);
    expect(auth.resume(third.secret)).toBeNull();
  });

  it('stores only the SHA-256 of the cookie secret; a password change or disabling ends every session', async () => {
    const { auth, officers, sessions, o, db } = await withOfficer();
    const s1 = await auth.passwordLogin('cb1', 'the-right-password', client);
    const s2 = await auth.passwordLogin('cb1', 'the-right-password', client);
    if (!s1.ok || !s2.ok) throw new Error('login failed');
    expect(JSON.stringify(db.db.prepare('SELECT * FROM officer_sessions').all())).not.toContain(s1.secret);
    expect(sessions.listLive(o.id)).toHaveLength(2);
    await officers.setPassword(o.id, 'a-new-password!');
    expect(auth.resume(s1.secret)).toBeNull();
    expect(auth.resume(s2.secret)).toBeNull();
    const s3 = await auth.passwordLogin('cb1', 'a-new-password!', client);
    if (!s3.ok) throw new Error('login failed');
    officers.disable(o.id);
    expect(auth.resume(s3.secret)).toBeNull();
    expect(await auth.passwordLogin('cb1', 'a-new-password!', client)).toMatchObject({ ok: false, reason: 'invalid' });
    officers.enable(o.id);
    expect((await auth.passwordLogin('cb1', 'a-new-password!', client)).ok).toBe(true);
  });

  it('scopes Idempotency-Key values per officer', async () => {
    const { db, officers, a, o } = await withOfficer();
    const other = await officers.create({ tenantId: a.id, username: 'cb2', displayName: 'Cán bộ 2', title: 'Công chức', role: 'officer', password: 'the-right-password', createdBy: 'test' });
    const repo = new IdempotencyRepository(db.db);
    const r = { key: 'k1', apiKeyId: null, method: 'POST', path: '/x', requestHash: 'h', ttlMs: 60_000 };
    expect(repo.reserve({ ...r, officerId: o.id }).reserved).toBe(true);
    expect(repo.reserve({ ...r, officerId: other.id }).reserved).toBe(true);
    expect(repo.reserve({ ...r, officerId: o.id }).reserved).toBe(false);
  });
});

describe('trusted proxies', () => {
  it('believes X-Forwarded-For only from a trusted peer, and takes the right-most untrusted hop', () => {
    const trusted = trustedProxies(['loopback', '10.0.0.0/8']);
    expect(resolveClient('::ffff:127.0.0.1', '203.0.113.9', trusted)).toBe('203.0.113.9');
    // A client that writes its own header cannot choose its address: the proxy appended the real one.
    expect(resolveClient('127.0.0.1', '198.51.100.1, 203.0.113.9, 10.1.2.3', trusted)).toBe('203.0.113.9');
    expect(resolveClient('203.0.113.50', '198.51.100.1', trusted)).toBe('203.0.113.50');
    expect(resolveClient('127.0.0.1', 'garbage', trusted)).toBe('0.0.0.0'); // a proxy that names no client
    expect(resolveClient('::1', '2001:db8::5', trusted)).toBe('2001:db8::5');
  });

  it('reads hops with a port or in brackets, and stops at a hop that is not an address instead of believing what is left of it', () => {
    const trusted = trustedProxies(['loopback', '10.0.0.0/8']);
    expect(resolveClient('127.0.0.1', '10.20.0.5, 203.0.113.9:41234', trusted)).toBe('203.0.113.9');
    expect(resolveClient('127.0.0.1', '10.20.0.5, [2001:db8::7]', trusted)).toBe('2001:db8::7');
    expect(resolveClient('127.0.0.1', '10.20.0.5, [2001:db8::7]:443', trusted)).toBe('2001:db8::7');
    // The proxy hid its client ("unknown"): neither the client-written entry left of it nor the proxy
    // (whose internal address a key's CIDR block may allow) is the client, but the unspecified address.
    expect(resolveClient('127.0.0.1', '10.20.0.5, unknown', trusted)).toBe('0.0.0.0');
    expect(resolveClient('127.0.0.1', '198.51.100.1, unknown, 10.1.2.3', trusted)).toBe('0.0.0.0');
    for (const bad of ['[2001:db8::7', '[2001:db8::7]x', '203.0.113.9:', '203.0.113.9:port', '[203.0.113.9]']) {
      expect(resolveClient('127.0.0.1', `198.51.100.1, ${bad}`, trusted), bad).toBe('0.0.0.0');
    }
    // An untrusted hop before the unknown one is still the client (the walk stopped there first).
    expect(resolveClient('127.0.0.1', 'unknown, 203.0.113.9', trusted)).toBe('203.0.113.9');
  });

  it('limits count an IPv6 client by its /64, an IPv4 client by its address, other keys as they are', () => {
    expect(limitKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd')).toBe('2001:db8:1:2::/64');
    expect(limitKey('2001:0db8:0001:0002::7')).toBe('2001:db8:1:2::/64');
    expect(limitKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(limitKey('::1')).toBe('0:0:0:0::/64');
    expect(limitKey('64:ff9b::192.0.2.1')).toBe('64:ff9b:0:0::/64');
    expect(limitKey('203.0.113.9')).toBe('203.0.113.9');
    expect(limitKey('apikey:abc')).toBe('apikey:abc');
    const buckets = new TokenBuckets({ capacity: 2, refillPerSecond: 0.001 });
    expect(buckets.take('2001:db8:1:2::a').ok).toBe(true);
    expect(buckets.take('2001:db8:1:2::b').ok).toBe(true);
    expect(buckets.take('2001:db8:1:2:ffff::c').ok).toBe(false); // same /64: the bucket is empty
    expect(buckets.take('2001:db8:1:3::a').ok).toBe(true); // another /64
    const throttle = new FailureThrottle({ burst: 1, perMinute: 0.001 });
    throttle.fail('2001:db8:9:9::1');
    expect(throttle.retryAfterSeconds('2001:db8:9:9::2')).toBeGreaterThan(0);
    expect(throttle.retryAfterSeconds('2001:db8:9:8::1')).toBe(0);
  });

  it('matches IPv4 blocks bit by bit, single addresses and IPv6 blocks, and refuses malformed addresses', () => {
    const trusted = trustedProxies(['172.16.0.0/12', '192.0.2.7', 'fd00::/8']);
    expect(trusted('172.16.0.1')).toBe(true);
    expect(trusted('172.31.255.255')).toBe(true);
    expect(trusted('172.32.0.0')).toBe(false);
    expect(trusted('172.15.255.255')).toBe(false);
    expect(trusted('192.0.2.7')).toBe(true);
    expect(trusted('::ffff:192.0.2.7')).toBe(true);
    expect(trusted('192.0.2.8')).toBe(false);
    expect(trusted('fd12:3456::1')).toBe(true);
    expect(trusted('fe80::1')).toBe(false);
    for (const bad of ['192.0.2.07', '192.0.2', '192.0.2.7.1', '192.0.2.256', '192.0.2.7 ', '', 'localhost']) expect(trusted(bad), bad).toBe(false);
    expect(trustedProxies(['0.0.0.0/0'])('203.0.113.9')).toBe(true);
    expect(trustedProxies(['loopback'])('127.255.0.1')).toBe(true);
    expect(trustedProxies(['loopback'])('128.0.0.1')).toBe(false);
  });
});
