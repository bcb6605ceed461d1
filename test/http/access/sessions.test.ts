/**
 * Officer sessions over HTTP on the real server: cookie flags, CSRF, login failures, lockout and the
 * per-address throttle, disabling and password changes taking effect at once, cross-tenant
 * administration refused, audit rows naming officers, API rate limits and the trusted proxy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog, OfficerRepository } from '../../../src/registry/index.ts';
import { startTestService, type TestService } from '../../support/service.ts';
import { bearer, cli, createKey, createOfficer, createTenant, loginOfficer, session, type CreatedOfficer } from './helpers.ts';

let svc: TestService;
let adminA: CreatedOfficer;
let adminB: CreatedOfficer;
let clerk: CreatedOfficer;

beforeAll(async () => {
  svc = await startTestService({ API_AUTH: 'required', TRUST_PROXY: 'loopback', API_AUTH_FAILURE_BURST: '8', API_AUTH_FAILURE_PER_MINUTE: '1' });
  await createTenant(svc, 'A');
  await createTenant(svc, 'B');
  adminA = await createOfficer(svc, 'A', 'admin-a', { role: 'admin' });
  adminB = await createOfficer(svc, 'B', 'admin-b', { role: 'admin' });
  clerk = await createOfficer(svc, 'A', 'clerk-a', { role: 'officer', key: 'officer1' });
});
afterAll(async () => {
  await svc?.stop();
});

/** Each test's requests come from its own client address (through the trusted loopback proxy). */
const from = (ip: string) => ({ 'x-forwarded-for': ip });
const login = (username: string, password: string, ip: string) =>
  fetch(`${svc.url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json', ...from(ip) }, body: JSON.stringify({ username, password }) });

describe('session cookie', () => {
  it('is HttpOnly, SameSite=Strict, Path=/, not Secure over http; the answer is not cached', async () => {
    const res = await login('ADMIN-A', adminA.password, '198.51.100.1');
    expect(res.status).toBe(200);
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^ct_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict$/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as { officer: Record<string, unknown>; csrfToken: string };
    expect(body.officer).toMatchObject({ username: 'admin-a', role: 'admin', scopes: ['admin', 'read-registry', 'validate'], tenant: { code: 'A' } });
    expect(body.csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('is Secure when the service is published over https', async () => {
    const s = await startTestService({ PUBLIC_BASE_URL: 'https://chungthuc.example.gov.vn' });
    try {
      await createTenant(s, 'S');
      const o = await createOfficer(s, 'S', 'secure-admin', { role: 'admin' });
      const res = await fetch(`${s.url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: o.username, password: o.password }) });
      const set = res.headers.get('set-cookie') ?? '';
      // __Host-: only with Secure, Path=/ and no Domain, so a sibling subdomain cannot plant one.
      expect(set).toMatch(/^__Host-ct_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Secure$/);
      const secret = /^__Host-ct_session=([^;]+)/.exec(set)![1]!;
      const me = (cookie: string) => fetch(`${s.url}/api/v1/session`, { headers: { cookie } }).then((r) => r.status);
      expect(await me(`__Host-ct_session=${secret}`)).toBe(200);
      // The unprefixed name is not read over https (a planted or stale one counts for nothing).
      expect(await me(`ct_session=${secret}`)).toBe(401);
    } finally {
      await s.stop();
    }
  });

  it('logout ends the session and clears the cookie', async () => {
    const l = await loginOfficer(svc, clerk.username, clerk.password);
    expect((await fetch(`${svc.url}/api/v1/session`, { headers: { cookie: l.cookie } })).status).toBe(200);
    const out = await fetch(`${svc.url}/api/v1/session`, { method: 'DELETE', headers: session(l) });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/^ct_session=; Path=\/; HttpOnly; SameSite=Strict; Max-Age=0/);
    const after = await fetch(`${svc.url}/api/v1/session`, { headers: { cookie: l.cookie } });
    expect(after.status).toBe(401);
    expect(await after.json()).toMatchObject({ code: 'unauthenticated', detail: 'the session has ended: sign in again' });
  });
});

describe('CSRF', () => {
  it('refuses unsafe requests without the session token (403 csrf-failed), accepts the header or the _csrf form field', async () => {
    const l = await loginOfficer(svc, adminA.username, adminA.password);
    const create = (headers: Record<string, string>, body: string, type = 'application/json') =>
      fetch(`${svc.url}/api/v1/api-keys`, { method: 'POST', headers: { cookie: l.cookie, 'content-type': type, ...headers }, body });
    const payload = JSON.stringify({ name: 'csrf probe', scopes: ['validate'] });
    for (const headers of [{}, { 'x-csrf-token': 'wrong' }, { 'x-csrf-token': l.csrfToken.slice(1) }] as Array<Record<string, string>>) {
      const res = await create(headers, payload);
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ code: 'csrf-failed' });
    }
    // A token of another session does not do either.
    const other = await loginOfficer(svc, adminA.username, adminA.password);
    expect((await create({ 'x-csrf-token': other.csrfToken }, payload)).status).toBe(403);
    expect((await create({ 'x-csrf-token': l.csrfToken }, payload)).status).toBe(201);
    // The form field passes the CSRF check (the route itself takes JSON only: 415 from the handler).
    expect((await create({}, `_csrf=${l.csrfToken}&name=x`, 'application/x-www-form-urlencoded')).status).toBe(415);
    expect((await create({}, `_csrf=nope&name=x`, 'application/x-www-form-urlencoded')).status).toBe(403);
    // Safe methods need no token.
    expect((await fetch(`${svc.url}/api/v1/api-keys`, { headers: { cookie: l.cookie } })).status).toBe(200);
    const rows = new AuditLog(svc.db.db).list({ limit: 100_000 }).filter((r) => r.details?.authFailure === 'csrf');
    expect(rows.length).toBeGreaterThanOrEqual(4);
    expect(rows[0]).toMatchObject({ actorKind: 'officer', outcome: 'denied', status: 403 });
  });
});

describe('sign-in failures', () => {
  it('answers an unknown user and a wrong password alike, and locks the account after 5 failures (423)', async () => {
    const victim = await createOfficer(svc, 'A', 'victim-a');
    const atWork = await loginOfficer(svc, victim.username, victim.password);
    const unknown = await login('no-such-user', 'whatever-password', '198.51.100.20');
    const wrong = await login(victim.username, 'whatever-password', '198.51.100.20');
    expect(unknown.status).toBe(401);
    expect(wrong.status).toBe(401);
    const strip = (p: Record<string, unknown>) => ({ ...p, requestId: undefined });
    expect(strip(await unknown.json())).toEqual(strip(await wrong.json()));
    for (let i = 0; i < 3; i++) expect((await login(victim.username, `wrong-${i}-password`, '198.51.100.20')).status).toBe(401);
    const locked = await login(victim.username, 'wrong-5-password', '198.51.100.20');
    expect(locked.status).toBe(423);
    expect(await locked.json()).toMatchObject({ code: 'account-locked', retryAfterSeconds: 900 });
    expect(locked.headers.get('retry-after')).toBe('900');
    // The right password from another address does not open it: the lock is the account's, in the database.
    expect((await login(victim.username, victim.password, '198.51.100.21')).status).toBe(423);
    // But the session the officer already had goes on: failed guesses cannot sign them out.
    expect((await fetch(`${svc.url}/api/v1/session`, { headers: { cookie: atWork.cookie } })).status).toBe(200);
    expect(new OfficerRepository(svc.db.db).getByUsername('victim-a')!.lockedUntil!.getTime()).toBeGreaterThan(Date.now() + 14 * 60_000);
    // An administrator's password reset lifts it.
    const reset = await cli(svc, ['officer', 'reset-password', 'victim-a']);
    expect(reset.code).toBe(0);
    const fresh = /password: (\S+)/.exec(reset.out)![1]!;
    expect((await login(victim.username, fresh, '198.51.100.22')).status).toBe(200);
  });

  it('locks an unknown username and a disabled account after 5 failures too, so the lock tells nothing about which exist', async () => {
    const gone = await createOfficer(svc, 'A', 'gone-a');
    new OfficerRepository(svc.db.db).disable(gone.id);
    const real = await createOfficer(svc, 'A', 'real-a');
    const answers = async (username: string, password: string) => {
      const out: string[] = [];
      // One address per attempt: the per-address throttle is not what is tested here.
      for (let i = 0; i < 6; i++) {
        const r = await login(username, password, `198.51.100.${60 + i}`);
        const body = (await r.json()) as { code: string; retryAfterSeconds?: number };
        out.push(`${r.status} ${body.code} ${body.retryAfterSeconds ?? ''} ${r.headers.get('retry-after') ?? ''}`);
      }
      return out;
    };
    const expected = [...Array<string>(4).fill('401 login-failed  '), '423 account-locked 900 900', '423 account-locked 900 900'];
    expect(await answers('real-a', 'not-the-password')).toEqual(expected);
    expect(await answers('khong-ton-tai', 'not-the-password')).toEqual(expected);
    expect(await answers('gone-a', gone.password)).toEqual(expected);
    // Names are compared as usernames are: case and spaces do not make a fresh count.
    expect((await login(' KHONG-TON-TAI ', 'x-password', '198.51.100.70')).status).toBe(423);
  });

  it('throttles an address that keeps failing (429), whatever the usernames', async () => {
    for (let i = 0; i < 8; i++) expect((await login(`guess-${i}`, 'password-guess', '198.51.100.30')).status).toBe(401);
    const blocked = await login(adminA.username, adminA.password, '198.51.100.30');
    expect(blocked.status).toBe(429);
    expect(await blocked.json()).toMatchObject({ code: 'too-many-requests' });
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Other addresses are unaffected.
    expect((await login(adminA.username, adminA.password, '198.51.100.31')).status).toBe(200);
  });
});

describe('revocation takes effect at once', () => {
  it('a disabled officer, and an officer whose password changed, are signed out at the next request', async () => {
    const admin = await loginOfficer(svc, adminA.username, adminA.password);
    const o = await createOfficer(svc, 'A', 'leaving-a', { role: 'supervisor' });
    const s1 = await loginOfficer(svc, o.username, o.password);
    const me = () => fetch(`${svc.url}/api/v1/session`, { headers: { cookie: s1.cookie } });
    expect((await me()).status).toBe(200);
    const patch = (body: unknown) => fetch(`${svc.url}/api/v1/officers/${o.id}`, { method: 'PATCH', headers: { ...session(admin), 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const reset = await patch({ resetPassword: true });
    expect(reset.status).toBe(200);
    const newPassword = ((await reset.json()) as { password: string }).password;
    expect((await me()).status).toBe(401);
    const s2 = await loginOfficer(svc, o.username, newPassword);
    expect((await patch({ disabled: true })).status).toBe(200);
    expect((await fetch(`${svc.url}/api/v1/session`, { headers: { cookie: s2.cookie } })).status).toBe(401);
    expect((await login(o.username, newPassword, '198.51.100.40')).status).toBe(401);
    // An admin cannot lock themselves out.
    const self = await fetch(`${svc.url}/api/v1/officers/${adminA.id}`, { method: 'PATCH', headers: { ...session(admin), 'content-type': 'application/json' }, body: JSON.stringify({ disabled: true }) });
    expect(self.status).toBe(409);
  });

  it('an officer changes their own password: the current one is required, other sessions end, this client goes on', async () => {
    const o = await createOfficer(svc, 'A', 'changer-a', { role: 'officer' });
    const laptop = await loginOfficer(svc, o.username, o.password);
    const phone = await loginOfficer(svc, o.username, o.password);
    const change = (who: typeof laptop, body: unknown, extra: Record<string, string> = {}) =>
      fetch(`${svc.url}/api/v1/session/password`, { method: 'POST', headers: { ...session(who), 'content-type': 'application/json', ...extra }, body: JSON.stringify(body) });
    const code = async (r: Response) => [r.status, ((await r.json()) as { code: string }).code];
    // A wrong current password changes nothing and counts as a failed sign-in; no CSRF token, no change.
    expect(await code(await change(laptop, { currentPassword: 'wrong-password', newPassword: 'Mật-khẩu-mới-2026' }))).toEqual([403, 'current-password-wrong']);
    expect(new OfficerRepository(svc.db.db).get(o.id)?.failedLogins).toBe(1);
    const noCsrf = await fetch(`${svc.url}/api/v1/session/password`, { method: 'POST', headers: { cookie: laptop.cookie, 'content-type': 'application/json' }, body: JSON.stringify({ currentPassword: o.password, newPassword: 'Mật-khẩu-mới-2026' }) });
    expect(noCsrf.status).toBe(403);
    // Too short a new password is refused before anything changes (the laptop's session goes on below).
    expect(await code(await change(laptop, { currentPassword: o.password, newPassword: 'short' }))).toEqual([422, 'password-too-weak']);
    const ok = await change(laptop, { currentPassword: o.password, newPassword: 'Mật-khẩu-mới-2026' });
    expect(ok.status).toBe(200);
    const fresh = { cookie: /ct_session=[^;]+/.exec(ok.headers.get('set-cookie') ?? '')![0], csrfToken: ((await ok.json()) as { csrfToken: string }).csrfToken, body: {} } as typeof laptop;
    const me = (cookie: string) => fetch(`${svc.url}/api/v1/session`, { headers: { cookie } }).then((r) => r.status);
    expect([await me(laptop.cookie), await me(phone.cookie), await me(fresh.cookie)]).toEqual([401, 401, 200]);
    expect((await login(o.username, o.password, '198.51.100.41')).status).toBe(401);
    expect((await login(o.username, 'Mật-khẩu-mới-2026', '198.51.100.41')).status).toBe(200);
    // API keys have no password of their own to change.
    const key = await createKey(svc, 'A', 'certify');
    expect((await fetch(`${svc.url}/api/v1/session/password`, { method: 'POST', headers: { ...bearer(key), 'content-type': 'application/json' }, body: '{"currentPassword":"x","newPassword":"y"}' })).status).toBe(401);
  });

  it('a key revoked through the admin API stops working at the next request', async () => {
    const admin = await loginOfficer(svc, adminA.username, adminA.password);
    const created = await fetch(`${svc.url}/api/v1/api-keys`, { method: 'POST', headers: { ...session(admin), 'content-type': 'application/json' }, body: JSON.stringify({ name: 'gateway', scopes: ['validate'] }) });
    expect(created.status).toBe(201);
    const { apiKey, key } = (await created.json()) as { apiKey: { id: string; prefix: string }; key: string };
    expect(key.startsWith(`ck_${apiKey.prefix}_`)).toBe(true);
    const call = () => fetch(`${svc.url}/api/v1/validations`, { method: 'POST', headers: { ...bearer(key), 'content-type': 'application/pdf' }, body: '%PDF-1.7' });
    expect((await call()).status).not.toBe(401);
    expect((await fetch(`${svc.url}/api/v1/api-keys/${apiKey.id}`, { method: 'DELETE', headers: session(admin) })).status).toBe(200);
    expect((await call()).status).toBe(401);
    // The list shows it revoked and never the secret.
    const list = await (await fetch(`${svc.url}/api/v1/api-keys`, { headers: { cookie: admin.cookie } })).text();
    expect(list).toContain(apiKey.id);
    expect(list).not.toContain(key);
  });
});

describe('tenant isolation of administration', () => {
  it("a tenant-B admin can neither see nor change tenant A's officers, keys or audit", async () => {
    const b = await loginOfficer(svc, adminB.username, adminB.password);
    const keyA = await createKey(svc, 'A', 'validate');
    const officers = (await (await fetch(`${svc.url}/api/v1/officers`, { headers: { cookie: b.cookie } })).json()) as { items: Array<{ username: string }> };
    expect(officers.items.map((o) => o.username)).toEqual(['admin-b']);
    const keys = await (await fetch(`${svc.url}/api/v1/api-keys`, { headers: { cookie: b.cookie } })).text();
    expect(keys).not.toContain(keyA.id);
    const patch = await fetch(`${svc.url}/api/v1/officers/${clerk.id}`, { method: 'PATCH', headers: { ...session(b), 'content-type': 'application/json' }, body: JSON.stringify({ disabled: true }) });
    expect(patch.status).toBe(404);
    expect((await fetch(`${svc.url}/api/v1/api-keys/${keyA.id}`, { method: 'DELETE', headers: session(b) })).status).toBe(404);
    expect(new OfficerRepository(svc.db.db).get(clerk.id)!.disabledAt).toBeNull();
    const audit = (await (await fetch(`${svc.url}/api/v1/audit?limit=200`, { headers: { cookie: b.cookie } })).json()) as { items: Array<{ tenantId: string }> };
    const tenantB = b.body.officer.tenant.id;
    expect(audit.items.length).toBeGreaterThan(0);
    expect(audit.items.every((r) => r.tenantId === tenantB)).toBe(true);
    // A tenant-B admin key neither.
    const bKey = await createKey(svc, 'B', 'admin');
    expect((await fetch(`${svc.url}/api/v1/officers/${clerk.id}`, { method: 'PATCH', headers: { ...bearer(bKey), 'content-type': 'application/json' }, body: JSON.stringify({ title: 'x' }) })).status).toBe(404);
  });

  it("lists the tenant's own signing keys with what each is for, to its admins only", async () => {
    type Keys = { items: Array<{ label: string; use: string; holder: { id: string; username: string } | null; certificateName: string | null }> };
    const a = await loginOfficer(svc, adminA.username, adminA.password);
    const listA = (await (await fetch(`${svc.url}/api/v1/signing-keys`, { headers: { cookie: a.cookie } })).json()) as Keys;
    expect(listA.items.find((k) => k.label === 'officer1')).toEqual({ label: 'officer1', use: 'personal', holder: { id: clerk.id, username: 'clerk-a' }, certificateName: 'Nguyễn Văn An' });
    const b = await loginOfficer(svc, adminB.username, adminB.password);
    const listB = (await (await fetch(`${svc.url}/api/v1/signing-keys`, { headers: { cookie: b.cookie } })).json()) as Keys;
    // B's own keys (the same labels, allowed to B too), none held by A's clerk.
    expect(listB.items.map((k) => [k.label, k.use, k.holder])).toEqual([
      ['officer1', 'free', null],
      ['officer2', 'free', null],
      ['seal', 'seal', null],
    ]);
    const c = await loginOfficer(svc, clerk.username, clerk.password);
    expect((await fetch(`${svc.url}/api/v1/signing-keys`, { headers: { cookie: c.cookie } })).status).toBe(403);
  });

  it("refuses to give an officer a key whose certificate names someone else, at creation and when the name or key changes", async () => {
    const b = await loginOfficer(svc, adminB.username, adminB.password);
    const create = (displayName: string) =>
      fetch(`${svc.url}/api/v1/officers`, { method: 'POST', headers: { ...session(b), 'content-type': 'application/json' }, body: JSON.stringify({ username: `b-${displayName.length}`, displayName, title: 'T', role: 'officer', signingKeyLabel: 'officer2' }) });
    const wrong = await create('Trần Văn Bình');
    expect(wrong.status).toBe(422);
    expect(await wrong.json()).toMatchObject({ code: 'signing-key-name-mismatch', field: 'signingKeyLabel', certificateName: 'Lê Thị Bình' });
    // The name as the certificate has it, in capitals: the same person.
    const right = await create('LÊ THỊ BÌNH');
    expect(right.status).toBe(201);
    const id = ((await right.json()) as { officer: { id: string } }).officer.id;
    const patch = (body: Record<string, unknown>) => fetch(`${svc.url}/api/v1/officers/${id}`, { method: 'PATCH', headers: { ...session(b), 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await patch({ displayName: 'Lê Thị Bích' })).status).toBe(422);
    expect((await patch({ signingKeyLabel: 'officer1' })).status).toBe(422); // officer1 is Nguyễn Văn An's
    expect(new OfficerRepository(svc.db.db).get(id)).toMatchObject({ displayName: 'LÊ THỊ BÌNH', signingKeyLabel: 'officer2' });
    // Without a key, any name.
    expect((await patch({ signingKeyLabel: null, displayName: 'Lê Thị Bích' })).status).toBe(200);
    // The command line checks the same.
    const byCli = await cli(svc, ['officer', 'create', '--tenant', 'B', '--username', 'b-cli', '--name', 'Trần Văn Bình', '--title', 'T', '--role', 'officer', '--key', 'officer2']);
    expect(byCli.code).toBe(1);
    expect(byCli.err).toContain('[signing-key-name-mismatch]');
    expect(new OfficerRepository(svc.db.db).getByUsername('b-cli')).toBeNull();
  });

  it('chungthuc officer update changes name, title, role and key, with the same name check', async () => {
    const made = await cli(svc, ['officer', 'create', '--tenant', 'B', '--username', 'b-upd', '--name', 'Lê Thị Bình', '--title', 'Công chức', '--role', 'officer', '--key', 'officer2']);
    expect(made.code, made.err).toBe(0);
    const officers = new OfficerRepository(svc.db.db);
    const renamed = await cli(svc, ['officer', 'update', 'b-upd', '--name', 'Trần Văn Bình']);
    expect(renamed.code).toBe(1);
    expect(renamed.err).toContain('[signing-key-name-mismatch]');
    // Without the key the new name is anyone's; the key comes back only with its holder's name.
    expect((await cli(svc, ['officer', 'update', 'b-upd', '--no-key', '--name', 'Trần Văn Bình'])).code).toBe(0);
    expect(officers.getByUsername('b-upd')).toMatchObject({ displayName: 'Trần Văn Bình', signingKeyLabel: null });
    expect((await cli(svc, ['officer', 'update', 'b-upd', '--key', 'officer2'])).err).toContain('[signing-key-name-mismatch]');
    const back = await cli(svc, ['officer', 'update', 'b-upd', '--key', 'officer2', '--name', 'Lê Thị Bình', '--title', 'Phó Chủ tịch', '--role', 'supervisor']);
    expect(back.code, back.err).toBe(0);
    expect(back.out).toContain('key=officer2');
    expect(officers.getByUsername('b-upd')).toMatchObject({ displayName: 'Lê Thị Bình', title: 'Phó Chủ tịch', role: 'supervisor', signingKeyLabel: 'officer2' });
    expect((await cli(svc, ['officer', 'update', 'b-upd'])).err).toContain('nothing to change');
    expect((await cli(svc, ['officer', 'update', 'b-upd', '--role', 'boss'])).err).toContain('--role must be one of');
    // Free the key again for the tests after this one.
    expect((await cli(svc, ['officer', 'update', 'b-upd', '--no-key'])).code).toBe(0);
  });

  it("refuses an officer's personal key that is not one of the tenant's keys", async () => {
    const b = await loginOfficer(svc, adminB.username, adminB.password);
    const r = await fetch(`${svc.url}/api/v1/officers`, { method: 'POST', headers: { ...session(b), 'content-type': 'application/json' }, body: JSON.stringify({ username: 'b-clerk', displayName: 'B', title: 'T', role: 'officer', signingKeyLabel: 'no-such-key' }) });
    expect(r.status).toBe(422);
    expect(await r.json()).toMatchObject({ code: 'signing-key-not-allowed' });
  });
});

describe('audit and paging', () => {
  it('audit rows name the officer and tenant; lists page with nextCursor', async () => {
    const admin = await loginOfficer(svc, adminA.username, adminA.password);
    const res = await fetch(`${svc.url}/api/v1/officers`, { method: 'POST', headers: { ...session(admin), 'content-type': 'application/json', 'x-request-id': 'officer-audit-1' }, body: JSON.stringify({ username: 'paged-1', displayName: 'P', title: 'T', role: 'officer' }) });
    expect(res.status).toBe(201);
    const row = new AuditLog(svc.db.db).list({ limit: 100_000 }).find((r) => r.requestId === 'officer-audit-1');
    expect(row).toMatchObject({ actorKind: 'officer', actorId: adminA.id, tenantId: admin.body.officer.tenant.id, action: 'officers.create', outcome: 'success', status: 201 });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = (await (await fetch(`${svc.url}/api/v1/officers?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { headers: { cookie: admin.cookie } })).json()) as { items: Array<{ username: string }>; nextCursor: string | null };
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((o) => o.username));
      cursor = page.nextCursor;
    } while (cursor);
    const all = new OfficerRepository(svc.db.db).list(admin.body.officer.tenant.id).map((o) => o.username);
    expect(seen).toEqual(all);
    expect((await fetch(`${svc.url}/api/v1/officers?limit=500`, { headers: { cookie: admin.cookie } })).status).toBe(400);
  });
});

describe('API rate limits and the trusted proxy', () => {
  it('answers 429 rate-limited with Retry-After per API key, and per address', async () => {
    const s = await startTestService({ API_AUTH: 'required', RATE_LIMIT_KEY_BURST: '3', RATE_LIMIT_KEY_PER_SECOND: '1', RATE_LIMIT_IP_BURST: '5', RATE_LIMIT_IP_PER_SECOND: '1' });
    try {
      await createTenant(s, 'R');
      const k1 = await createKey(s, 'R', 'admin');
      const k2 = await createKey(s, 'R', 'admin');
      const call = (k: { key: string }) => fetch(`${s.url}/api/v1/api-keys`, { headers: bearer(k) });
      for (let i = 0; i < 3; i++) expect((await call(k1)).status).toBe(200);
      const limited = await call(k1);
      expect(limited.status).toBe(429);
      expect(await limited.json()).toMatchObject({ code: 'rate-limited', limit: 'caller' });
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      // Another key from the same address has its own bucket, until the address's runs dry.
      expect((await call(k2)).status).toBe(200);
      const byIp = await call(k2);
      expect(byIp.status).toBe(429);
      expect(await byIp.json()).toMatchObject({ code: 'rate-limited', limit: 'address' });
      // Health checks and public pages are outside the API limits.
      expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
    } finally {
      await s.stop();
    }
  });

  it('honours X-Forwarded-For only with TRUST_PROXY', async () => {
    const s = await startTestService({ API_AUTH: 'required' });
    try {
      await fetch(`${s.url}/api/v1/officers`, { headers: { ...from('203.0.113.77'), authorization: 'Bearer nope', 'x-request-id': 'xff-untrusted' } });
      const row = new AuditLog(s.db.db).list().find((r) => r.requestId === 'xff-untrusted');
      expect(row?.ip).toBe('127.0.0.1');
    } finally {
      await s.stop();
    }
    await fetch(`${svc.url}/api/v1/officers`, { headers: { ...from('203.0.113.78'), authorization: 'Bearer nope', 'x-request-id': 'xff-trusted' } });
    expect(new AuditLog(svc.db.db).list({ limit: 100_000 }).find((r) => r.requestId === 'xff-trusted')?.ip).toBe('203.0.113.78');
  });
});
