/**
 * Console page access and words without a browser: who is sent to the login page, who gets 403,
 * what each role's pages offer, no open redirect after login, and both languages complete.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_MESSAGES } from '../../src/http/routes/console/i18n.ts';
import { safeNext } from '../../src/http/routes/console/router.ts';
import { demoBannerLines, seedDemoTenant, type DemoCredentials } from '../../src/services/demoTenant.ts';
import { loadConfig } from '../../src/config.ts';
import { OfficerRepository } from '../../src/registry/index.ts';
import { startTestService, type TestService } from '../support/service.ts';

let svc: TestService;
let accounts: Record<string, DemoCredentials>;

beforeAll(async () => {
  svc = await startTestService({ API_AUTH: 'required' });
  accounts = Object.fromEntries((await seedDemoTenant(svc.db.db)).created.map((c) => [c.role, c]));
}, 60_000);
afterAll(() => svc?.stop());

async function cookieOf(who: DemoCredentials): Promise<string> {
  const r = await fetch(`${svc.url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: who.username, password: who.password }) });
  expect(r.status).toBe(200);
  return r.headers.get('set-cookie')!.split(';')[0]!;
}

const get = (p: string, cookie?: string) => fetch(`${svc.url}${p}`, { redirect: 'manual', headers: cookie ? { cookie } : {} });

describe('page assets', () => {
  it('serves the public pages\' and the console\'s own CSS and JS (one route, two routers), cached for a year, and 404 for others', async () => {
    const urls = new Set<string>();
    for (const page of ['/v', '/console/login']) {
      const html = await (await get(page)).text();
      for (const m of html.matchAll(/(?:href|src)="(\/assets\/[^"]+)"/g)) urls.add(m[1]!);
    }
    expect([...urls].some((u) => u.startsWith('/assets/verify.'))).toBe(true);
    expect([...urls].some((u) => u.startsWith('/assets/console.'))).toBe(true);
    for (const u of urls) {
      const r = await get(u);
      expect(r.status, u).toBe(200);
      expect(r.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(r.headers.get('content-type')).toMatch(u.endsWith('.css') ? /^text\/css/ : /^text\/javascript/);
      expect((await r.text()).length).toBeGreaterThan(100);
    }
    const missing = await get('/assets/console.000000000000.css');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });
});

describe('console pages', () => {
  it('sends visitors without a session to the login page, keeping the section and the language', async () => {
    for (const section of ['certify', 'today', 'search', 'admin']) {
      const r = await get(`/console/${section}?lang=en`);
      expect(r.status).toBe(303);
      expect(r.headers.get('location')).toBe(`/console/login?next=%2Fconsole%2F${section}&lang=en`);
    }
    expect((await get('/console')).headers.get('location')).toBe('/console/login');
  });

  it('lands each role on its first section and refuses sections the role lacks with 403', async () => {
    const officer = await cookieOf(accounts.officer!);
    const admin = await cookieOf(accounts.admin!);
    expect((await get('/console', officer)).headers.get('location')).toBe('/console/certify');
    expect((await get('/console', admin)).headers.get('location')).toBe('/console/admin');
    expect((await get('/console/admin', officer)).status).toBe(403);
    expect((await get('/console/certify', admin)).status).toBe(403);
    const page = await get('/console/today', officer);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    // A signed-in officer asking for the login page goes on to the console.
    expect((await get('/console/login?next=/console/today', officer)).headers.get('location')).toBe('/console/today');
  });

  it('offers the annulment form to supervisors only', async () => {
    const officer = await (await get('/console/search', await cookieOf(accounts.officer!))).text();
    const supervisor = await (await get('/console/search', await cookieOf(accounts.supervisor!))).text();
    expect(officer).not.toContain('id="annul-form"');
    expect(supervisor).toContain('id="annul-form"');
  });

  it('follows only console paths after login (no open redirect)', () => {
    expect(safeNext('/console/today')).toBe('/console/today');
    for (const bad of ['//evil.example', 'https://evil.example/console', '/console/../api', '/consolex', '/console/today?x=1', undefined, ['/console']]) {
      expect(safeNext(bad)).toBe('/console');
    }
  });

  it('has every browser message in both languages', () => {
    expect(Object.keys(CONSOLE_MESSAGES.en.js).sort()).toEqual(Object.keys(CONSOLE_MESSAGES.vi.js).sort());
    for (const lang of ['vi', 'en'] as const) for (const [k, v] of Object.entries(CONSOLE_MESSAGES[lang].js)) expect(v, `${lang}.${k}`).not.toBe('');
  });

  it('the start banner shows the passwords at the first start only, and how to certify the sample scan', async () => {
    const first = demoBannerLines({ tenant: (await seedDemoTenant(svc.db.db)).tenant, created: Object.values(accounts), renamed: [] }, svc.url).join('\n');
    for (const a of Object.values(accounts)) expect(first).toContain(a.password);
    expect(first).toContain('fixtures/sample-scan-1.jpg');
    expect(first).toContain(`${svc.url}/console`);
    const later = demoBannerLines(await seedDemoTenant(svc.db.db), svc.url).join('\n');
    for (const a of Object.values(accounts)) expect(later).not.toContain(a.password);
    expect(later).toContain('printed at the first start');
  });

  it('a demo supervisor still named as an earlier build named her gets her key certificate\'s name; a name an administrator chose stays', async () => {
    const officers = new OfficerRepository(svc.db.db);
    const supervisor = officers.getByUsername('lanhdao.demo')!;
    expect(supervisor.displayName).toBe('Lê Thị Bình');
    officers.update(supervisor.id, { displayName: 'Trần Thị Bình' });
    const mended = await seedDemoTenant(svc.db.db);
    expect(mended.renamed).toEqual(['lanhdao.demo']);
    expect(officers.get(supervisor.id)!.displayName).toBe('Lê Thị Bình');
    expect(demoBannerLines(mended, svc.url).join('\n')).toContain('lanhdao.demo renamed to "Lê Thị Bình"');
    expect((await seedDemoTenant(svc.db.db)).renamed).toEqual([]);
    officers.update(supervisor.id, { displayName: 'Phạm Thị Dung' });
    expect((await seedDemoTenant(svc.db.db)).renamed).toEqual([]);
    expect(officers.get(supervisor.id)!.displayName).toBe('Phạm Thị Dung');
    officers.update(supervisor.id, { displayName: 'Lê Thị Bình' });
  });

  it('DEMO is on only with the dev PKI and refused with another one', () => {
    expect(loadConfig({ ...process.env, CERTS_DIR: 'certs' }).demo).toBe(true);
    expect(loadConfig({ ...process.env, CERTS_DIR: 'certs', DEMO: 'off' }).demo).toBe(false);
    expect(loadConfig({ ...process.env, CERTS_DIR: '/etc/chungthuc/pki', API_AUTH: 'required' }).demo).toBe(false);
    expect(() => loadConfig({ ...process.env, CERTS_DIR: '/etc/chungthuc/pki', DEMO: 'on' })).toThrow(/DEMO=on needs the dev PKI/);
  });
});
