/**
 * The officer console end to end in headless Chromium against the real service (HSM, SQLite, dev
 * OCSP/CRL so signatures are trusted), with the demo office seeded as `npm start` seeds it:
 * an officer signs in, uploads the two-page sample scan, sees the preview with the stamp frame,
 * fills in the form, certifies and downloads the PDF; the QR code on its last page (pdftoppm +
 * zbarimg) opens "Còn hiệu lực"; the downloaded file matches on the public page and a modified one
 * does not; a supervisor annuls and the public page shows it; the administrator manages accounts
 * and API keys. The tests run in order on one browser.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CopyRepository, TenantRepository, registerYear } from '../../src/registry/index.ts';
import { DEMO_TENANT, seedDemoTenant, type DemoCredentials } from '../../src/services/demoTenant.ts';
import { DEV_PATHS } from '../support/hsm.ts';
import { startPkiWorld, type PkiWorld } from '../support/pkiWorld.ts';
import { dropFile, SCREENSHOTS } from './consoleSupport.ts';
import { axeViolations, launchBrowser, seriousOrWorse } from './support.ts';

const SCANS = [1, 2].map((n) => path.join(DEV_PATHS.root, 'fixtures', `sample-scan-${n}.jpg`));
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let world: PkiWorld;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let accounts: Record<'officer' | 'supervisor' | 'admin', DemoCredentials>;
let demoTenantId: string;
let downloaded: string;
let verifyUrl: string;
let copyNumber: string;
let publicCode: string;
const requested: string[] = [];
const consoleErrors: string[] = [];

beforeAll(async () => {
  world = await startPkiWorld('console', { API_AUTH: 'required' });
  const seed = await seedDemoTenant(world.svc.db.db);
  demoTenantId = seed.tenant.id;
  accounts = Object.fromEntries(seed.created.map((c) => [c.role, c])) as typeof accounts;
  browser = await launchBrowser();
  context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.on('request', (r) => requested.push(r.url()));
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await world?.stop();
});

const shot = (n: string) => page.screenshot({ path: path.join(SCREENSHOTS, `${n}.png`), fullPage: true });
const noSeriousAxe = async (name: string) => expect(seriousOrWorse(await axeViolations(page, name))).toEqual([]);

async function login(who: DemoCredentials, next = '/console'): Promise<void> {
  await page.goto(`${world.svc.url}/console/login?next=${encodeURIComponent(next)}`);
  await page.fill('#username', who.username);
  await page.fill('#password', who.password);
  await Promise.all([page.waitForURL((u) => !u.pathname.endsWith('/login')), page.click('#login-form button[type=submit]')]);
}

async function logout(): Promise<void> {
  await Promise.all([page.waitForURL(/\/console\/login/), page.click('#logout')]);
}

describe('officer console in Chromium', () => {
  it('the demo seed is idempotent: a second start creates nothing and prints no password', async () => {
    expect(Object.keys(accounts).sort()).toEqual(['admin', 'officer', 'supervisor']);
    const again = await seedDemoTenant(world.svc.db.db);
    expect(again.created).toEqual([]);
    expect(again.tenant.code).toBe(DEMO_TENANT.code);
    // Stored hashed: the password is nowhere in the database file.
    const db = readFileSync(path.join(world.svc.dataDir, 'chungthuc.sqlite'));
    expect(db.includes(Buffer.from(accounts.officer.password))).toBe(false);
  });

  it('sends a visitor without a session to the login page; a wrong password shows the problem detail', async () => {
    await page.goto(`${world.svc.url}/console/certify`);
    expect(new URL(page.url()).pathname).toBe('/console/login');
    expect(new URL(page.url()).searchParams.get('next')).toBe('/console/certify');
    const res = await page.goto(page.url());
    expect(res!.headers()['content-security-policy']).not.toContain('unsafe-inline');
    await page.fill('#username', accounts.officer.username);
    await page.fill('#password', 'wrong-password-123');
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#error:not([hidden])');
    expect(await page.textContent('#error')).toContain('login-failed');
    await noSeriousAxe('console-login');
    await shot('console-login');
  });

  it('an officer signs in, adds the two-page scan and sees the preview with the stamp frame on the last page', async () => {
    await login(accounts.officer, '/console/certify');
    expect(new URL(page.url()).pathname).toBe('/console/certify');
    expect(await page.textContent('.who')).toContain(accounts.officer.username);
    // The admin section is not offered to an officer, and refused if typed in.
    expect(await page.$('a[href="/console/admin"]')).toBeNull();
    expect((await page.request.get(`${world.svc.url}/console/admin`, { maxRedirects: 0 })).status()).toBe(403);
    await page.setInputFiles('#files', SCANS);
    expect(await page.$$eval('#file-list li', (l) => l.map((e) => e.querySelector('.name')!.textContent))).toEqual([
      expect.stringContaining('sample-scan-1.jpg'),
      expect.stringContaining('sample-scan-2.jpg'),
    ]);
    // Reorder and back: ↓ on the first file swaps the two.
    await page.click('#file-list li:first-child button[aria-label^="Xuống"]');
    expect(await page.textContent('#file-list li:first-child .name')).toContain('sample-scan-2.jpg');
    await page.click('#file-list li:first-child button[aria-label^="Xuống"]');
    expect(await page.textContent('#file-list li:first-child .name')).toContain('sample-scan-1.jpg');
    await page.waitForSelector('#preview figure[data-page="2"] .stamp-box');
    expect(await page.$$eval('#preview figure', (l) => l.length)).toBe(2);
    expect(await page.$('#preview figure[data-page="1"] .stamp-box')).toBeNull();
    // The frame lies inside the page image, in its lower part (the stamp band).
    const sheet = (await page.locator('#preview figure[data-page="2"] .sheet').boundingBox())!;
    const box = (await page.locator('#preview figure[data-page="2"] .stamp-box').boundingBox())!;
    expect(box.width).toBeGreaterThan(10);
    expect(box.y).toBeGreaterThanOrEqual(sheet.y);
    expect(box.y + box.height).toBeLessThanOrEqual(sheet.y + sheet.height + 1);
    expect(box.y).toBeGreaterThan(sheet.y + sheet.height / 2);
    expect(await page.inputValue('#originalPages')).toBe('2');
    await noSeriousAxe('console-certify');
    await shot('console-certify-preview');
  });

  it('fills in the form, certifies with upload progress, gets number, codes and the PDF', async () => {
    await page.fill('#documentType', 'Giấy khai sinh');
    await page.fill('#originalIssuer', 'UBND phường Hạc Thành');
    await page.fill('#requesterName', 'Nguyễn Thị Mẫu');
    await page.fill('#copies', '2');
    await page.fill('#caseCode', 'HS-2026-0001');
    await page.fill('#receivingSite', 'Bộ phận một cửa');
    const posted = page.waitForRequest((r) => r.url() === `${world.svc.url}/api/v1/certified-copies` && r.method() === 'POST');
    await page.click('#certify-button');
    const req = await posted;
    expect(req.headers()['x-csrf-token']).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(req.headers()['idempotency-key']).toBeTruthy();
    await page.waitForSelector('#result:not([hidden])', { timeout: 60_000 });
    // The progress bar went through the upload to the end.
    expect(await page.getAttribute('#upload-progress', 'value')).toBe('100');
    copyNumber = (await page.textContent('[data-field="number"]'))!;
    publicCode = (await page.textContent('[data-field="public-code"]'))!;
    const accessCode = (await page.textContent('[data-field="access-code"]'))!;
    expect(copyNumber).toMatch(/^\d+$/);
    expect(publicCode).toMatch(/^[A-Z2-7]{32}$/);
    expect(accessCode.length).toBeGreaterThanOrEqual(8);
    expect(await page.textContent('[data-field="volume"]')).toMatch(/SCT\/BS/);
    await noSeriousAxe('console-certified');
    await shot('console-certified');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-pdf')]);
    downloaded = path.join(world.tmp, 'downloaded.pdf');
    await download.saveAs(downloaded);
    expect(readFileSync(downloaded).subarray(0, 5).toString()).toBe('%PDF-');
    expect(execFileSync('pdfinfo', [downloaded], { encoding: 'utf8' })).toMatch(/Pages:\s+2/);
  });

  it('the QR code on the last page opens the public page: "Còn hiệu lực"', async () => {
    execFileSync('pdftoppm', ['-png', '-r', '150', '-f', '2', '-l', '2', '-singlefile', downloaded, path.join(world.tmp, 'last')]);
    verifyUrl = execFileSync('zbarimg', ['--raw', '-q', path.join(world.tmp, 'last.png')], { encoding: 'utf8' }).trim();
    expect(verifyUrl).toBe(`${world.svc.url}/v/${publicCode}`);
    await page.goto(verifyUrl);
    await expect.poll(() => page.textContent('h1')).toContain('Còn hiệu lực');
    await shot('console-public-valid');
  });

  it('the downloaded file matches on the public page; a modified one does not', async () => {
    const drop = (bytes: Buffer) => dropFile(page, '#drop-zone', bytes, 'ban-sao.pdf');
    const bytes = readFileSync(downloaded);
    await drop(bytes);
    await expect.poll(() => page.getAttribute('#local-result', 'data-match')).toBe('yes');
    await shot('console-public-match');
    const altered = Buffer.from(bytes);
    altered[Math.floor(altered.length / 2)]! ^= 0x01;
    expect(sha256(altered)).not.toBe(sha256(bytes));
    await drop(altered);
    await expect.poll(() => page.getAttribute('#local-result', 'data-match')).toBe('no');
    await shot('console-public-mismatch');
  });

  it('"Hôm nay" lists the copy; the register search finds it by code and by number; an officer cannot annul', async () => {
    await page.goto(`${world.svc.url}/console/today`);
    await page.waitForSelector(`#today-table tr[data-number="${copyNumber}"]`);
    expect(await page.textContent(`#today-table tr[data-number="${copyNumber}"]`)).toContain('Nguyễn Thị Mẫu');
    expect(await page.getAttribute(`#today-table tr[data-number="${copyNumber}"] [data-status]`, 'data-status')).toBe('valid');
    await noSeriousAxe('console-today');
    await shot('console-today');
    // A number voided by a failed certification has no file: its row offers no PDF link.
    const copies = new CopyRepository(world.svc.db.db);
    const reserved = copies.reserveNumber(demoTenantId, registerYear(new Date()), 60_000);
    copies.voidReservation(reserved.id, 'certification failed (test)');
    await page.reload();
    const voidRow = `#today-table tr[data-number="${reserved.number}"]`;
    await page.waitForSelector(voidRow);
    expect(await page.getAttribute(`${voidRow} [data-status]`, 'data-status')).toBe('void');
    expect(await page.$(`${voidRow} a[download]`)).toBeNull();
    expect(await page.$(`#today-table tr[data-number="${copyNumber}"] a[download]`)).not.toBeNull();
    await page.goto(`${world.svc.url}/console/search`);
    await page.fill('#code', publicCode.toLowerCase());
    await page.click('#search-form button[type=submit]');
    await expect.poll(() => page.$$eval('#search-table tbody tr', (l) => l.map((e) => e.getAttribute('data-number')))).toEqual([copyNumber]);
    await page.fill('#code', '');
    await page.fill('#number', copyNumber);
    await page.click('#search-form button[type=submit]');
    await expect.poll(() => page.$$eval('#search-table tbody tr', (l) => l.length)).toBe(1);
    expect(await page.$('#annul')).toBeNull();
    expect(await page.$('[data-annul]')).toBeNull();
    await noSeriousAxe('console-search');
    await shot('console-search');
  });

  it('a refusal is recorded with its ground', async () => {
    await page.goto(`${world.svc.url}/console/certify`);
    await page.fill('#documentType', 'Bằng tốt nghiệp');
    await page.click('details.refuse summary');
    await page.selectOption('#ground', 'altered');
    await page.fill('#reason', 'Bản chính có dấu hiệu tẩy xóa ở trang 1');
    const answered = page.waitForResponse((r) => r.url().endsWith('/api/v1/refusals') && r.request().method() === 'POST');
    await page.click('#refuse-form button[type=submit]');
    expect((await answered).status()).toBe(201);
    await expect.poll(() => page.textContent('#notice')).toContain('Đã ghi nhận');
    await logout();
  });

  it('a supervisor annuls the copy from the register; the public page then shows the annulment', async () => {
    await login(accounts.supervisor, '/console/search');
    await page.fill('#code', publicCode);
    await page.click('#search-form button[type=submit]');
    await page.waitForSelector(`[data-annul]`);
    await page.click('[data-annul]');
    await page.fill('#decisionNumber', '15/QĐ-UBND');
    await page.fill('#decisionDate', '2026-12-01');
    await page.fill('#annulReason', 'Bản chính không đủ điều kiện chứng thực');
    await shot('console-annul');
    await page.click('#annul-form button[type=submit]');
    await expect.poll(() => page.getAttribute(`#search-table tr[data-number="${copyNumber}"] [data-status]`, 'data-status')).toBe('annulled');
    expect(await page.textContent('#notice')).toContain('Đã hủy bỏ');
    await page.goto(verifyUrl);
    await expect.poll(() => page.textContent('h1')).toContain('Đã bị hủy bỏ giá trị pháp lý');
    expect(await page.textContent('.verdict')).toContain('15/QĐ-UBND');
    await shot('console-public-annulled');
    await page.goto(`${world.svc.url}/console/search`);
    await logout();
  });

  it('the administrator lists accounts, creates an officer with a free key, creates an API key shown once and revokes it', async () => {
    // One more key for the office: the demo officers hold officer1 and officer2, and seal is the seal's.
    new TenantRepository(world.svc.db.db).allowSigningKey(demoTenantId, 'officer-spare');
    await login(accounts.admin);
    expect(new URL(page.url()).pathname).toBe('/console/admin');
    await page.waitForSelector(`#officers-table tr[data-username="${accounts.supervisor.username}"]`);
    expect(await page.$$eval('#officers-table tbody tr', (l) => l.length)).toBe(3);
    await page.click('#officer-form >> xpath=..//summary');
    // The personal key is chosen among the keys no one holds: neither the seal's nor the officers'.
    const offered = () => page.$$eval('#o-signingKeyLabel option', (l) => l.map((o) => (o as HTMLOptionElement).value));
    await expect.poll(offered).toEqual(['', 'officer-spare']);
    await page.fill('#o-username', 'canbo2.demo');
    await page.fill('#o-displayName', 'Phạm Văn Dũng');
    await page.fill('#o-title', 'Công chức Tư pháp – Hộ tịch');
    await page.selectOption('#o-role', 'officer');
    await page.selectOption('#o-signingKeyLabel', 'officer-spare');
    await page.fill('#o-password', 'mat-khau-rat-dai-2026');
    await page.click('#officer-form button[type=submit]');
    await page.waitForSelector('#officers-table tr[data-username="canbo2.demo"]');
    expect(await page.textContent('#officers-table tr[data-username="canbo2.demo"]')).toContain('officer-spare');
    // Now held: no longer offered.
    await expect.poll(offered).toEqual(['']);
    // Edited: a new title, and the key given back (as when a certificate is renewed under a new key).
    await page.click('#officers-table tr[data-username="canbo2.demo"] button:has-text("Sửa")');
    await page.waitForSelector('#officer-edit:not([hidden])');
    expect(await page.inputValue('#e-displayName')).toBe('Phạm Văn Dũng');
    expect(await page.inputValue('#e-signingKeyLabel')).toBe('officer-spare');
    await page.fill('#e-title', 'Phó Chủ tịch UBND phường');
    await page.selectOption('#e-signingKeyLabel', '');
    await page.click('#officer-edit-form button[type=submit]');
    await page.waitForSelector('#officer-edit[hidden]', { state: 'attached' });
    const row = '#officers-table tr[data-username="canbo2.demo"]';
    await expect.poll(() => page.$$eval(`${row} td`, (cells) => cells.slice(2, 5).map((c) => c.textContent))).toEqual(['Phó Chủ tịch UBND phường', 'cán bộ', '—']);
    await expect.poll(offered).toEqual(['', 'officer-spare']);
    // A password reset: the service makes the password and the page shows it once; it signs in.
    page.once('dialog', (d) => void d.accept());
    await page.click(`${row} button:has-text("Đặt lại mật khẩu")`);
    await page.waitForSelector('#new-password:not([hidden]) #new-password-value');
    const password = (await page.textContent('#new-password-value'))!;
    expect(password.length).toBeGreaterThanOrEqual(12);
    const signIn = await fetch(`${world.svc.url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'canbo2.demo', password }) });
    expect(signIn.status, await signIn.clone().text()).toBeLessThan(300);
    await page.click('#key-form >> xpath=..//summary');
    await page.fill('#k-name', 'Phần mềm một cửa');
    await page.check('#key-form input[value="read-registry"]');
    await page.click('#key-form button[type=submit]');
    await page.waitForSelector('#new-key:not([hidden]) #new-key-value');
    const key = (await page.textContent('#new-key-value'))!;
    expect(key).toMatch(/^ck_[0-9a-f]{12}_/);
    // The key works (tenant-scoped read of the register), then is revoked from the page.
    const list = await fetch(`${world.svc.url}/api/v1/certified-copies?limit=5`, { headers: { authorization: `Bearer ${key}` } });
    expect(list.status).toBe(200);
    expect(((await list.json()) as { items: { publicCode: string }[] }).items.map((i) => i.publicCode)).toContain(publicCode);
    await noSeriousAxe('console-admin');
    await shot('console-admin');
    page.once('dialog', (d) => void d.accept());
    const prefix = key.split('_')[1]!;
    await page.click(`#keys-table tr[data-prefix="${prefix}"] button`);
    await expect.poll(() => page.textContent(`#keys-table tr[data-prefix="${prefix}"]`)).toContain('Đã thu hồi');
    expect((await fetch(`${world.svc.url}/api/v1/certified-copies?limit=5`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(401);
  });

  it('switches the console to English and keeps the section', async () => {
    await page.click('a.lang');
    expect(new URL(page.url()).searchParams.get('lang')).toBe('en');
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    expect(await page.textContent('h1')).toContain('Office administration');
    await shot('console-admin-en');
    await logout();
    expect(new URL(page.url()).searchParams.get('lang')).toBe('en');
  });

  it('an officer changes their own password on the account page; the old one no longer signs in', async () => {
    await login(accounts.officer, '/console/account');
    expect(await page.textContent('h1')).toContain('Tài khoản');
    await noSeriousAxe('console-account');
    await page.fill('#currentPassword', 'not-my-password');
    await page.fill('#newPassword', 'mat-khau-moi-cua-toi-2026');
    await page.click('#password-form button[type=submit]');
    await page.waitForSelector('#error:not([hidden])');
    // In the page's language, with the problem's code.
    expect(await page.textContent('#error')).toContain('Mật khẩu hiện tại không đúng. (current-password-wrong)');
    await page.fill('#currentPassword', accounts.officer.password);
    await page.fill('#newPassword', 'mat-khau-moi-cua-toi-2026');
    await page.click('#password-form button[type=submit]');
    await expect.poll(() => page.textContent('#notice')).toContain('Đã đổi mật khẩu');
    await shot('console-account');
    // The session goes on (new cookie and CSRF token): signing out works, and only the new password signs in.
    await logout();
    const signIn = (password: string) =>
      fetch(`${world.svc.url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: accounts.officer.username, password }) }).then((r) => r.status);
    expect(await signIn(accounts.officer.password)).toBe(401);
    expect(await signIn('mat-khau-moi-cua-toi-2026')).toBe(200);
  });

  it('made no third-party request and hit no CSP violation', () => {
    expect(requested.filter((u) => !u.startsWith(world.svc.url) && !u.startsWith('data:') && !u.startsWith('blob:'))).toEqual([]);
    expect(consoleErrors.filter((e) => /Content Security Policy/i.test(e))).toEqual([]);
  });
});

// Keeps the scan fixtures honest: small, two pages, JFIF density set (scripts/gen-sample-scan.ts).
describe('sample scan fixture', () => {
  it('is two JPEGs of A4 at 100 dpi, under 200 KB together', () => {
    const total = SCANS.reduce((s, f) => s + readFileSync(f).length, 0);
    expect(total).toBeLessThan(200 * 1024);
    for (const f of SCANS) {
      const b = readFileSync(f);
      expect(b.toString('latin1', 6, 11)).toBe('JFIF\0');
      expect([b[13], b.readUInt16BE(14), b.readUInt16BE(16)]).toEqual([1, 100, 100]);
    }
  });
});
