/**
 * The officer console when something fails, in headless Chromium against the real service: problems
 * in the page's language, the focus on what to fix after a refused action (the error sits at the top
 * of long pages), no page left stuck when its CSRF token could not be fetched at load, and the focus
 * after the annulment form closes.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemoTenant, type DemoCredentials } from '../../src/services/demoTenant.ts';
import { DEV_PATHS } from '../support/hsm.ts';
import { startPkiWorld, type PkiWorld } from '../support/pkiWorld.ts';
import { openBrowserPage, type BrowserPage } from './support.ts';

const SCAN = path.join(DEV_PATHS.root, 'fixtures', 'sample-scan-1.jpg');

let world: PkiWorld;
let browser: BrowserPage;
let context: BrowserContext;
let page: Page;
let accounts: Record<'officer' | 'supervisor' | 'admin', DemoCredentials>;
let base: string;

beforeAll(async () => {
  world = await startPkiWorld('console-errors', { API_AUTH: 'required' });
  base = world.svc.url;
  accounts = Object.fromEntries((await seedDemoTenant(world.svc.db.db)).created.map((c) => [c.role, c])) as typeof accounts;
  // A copy for the supervisor to annul, certified over the API as the officer.
  const signIn = await fetch(`${base}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: accounts.officer.username, password: accounts.officer.password }) });
  const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;
  const { csrfToken } = (await signIn.json()) as { csrfToken: string };
  const form = new FormData();
  for (const [k, v] of Object.entries({ documentType: 'Giấy khai sinh', originalIssuer: 'UBND phường Hạc Thành', requesterName: 'Nguyễn Văn Hủy', originalPages: '1' })) form.append(k, v);
  form.append('file', new Blob([new Uint8Array(readFileSync(SCAN))], { type: 'image/jpeg' }), 'scan.jpg');
  const certified = await fetch(`${base}/api/v1/certified-copies`, { method: 'POST', headers: { cookie, 'x-csrf-token': csrfToken }, body: form });
  expect(certified.status).toBe(201);
  browser = await openBrowserPage();
  ({ context, page } = browser);
}, 120_000);

afterAll(async () => {
  await browser?.browser.close();
  await world?.stop();
});

async function login(who: DemoCredentials, next: string): Promise<void> {
  await page.goto(`${base}/console/login?next=${encodeURIComponent(next)}`);
  await page.fill('#username', who.username);
  await page.fill('#password', who.password);
  await Promise.all([page.waitForURL((u) => !u.pathname.endsWith('/login')), page.click('#login-form button[type=submit]')]);
}

async function logout(): Promise<void> {
  await Promise.all([page.waitForURL(/\/console\/login/), page.click('#logout')]);
}

const focused = () => page.evaluate(() => document.activeElement?.id ?? '');
const inView = (selector: string) =>
  page.$eval(selector, (e) => {
    const r = e.getBoundingClientRect();
    return r.bottom > 0 && r.top < window.innerHeight;
  });

describe('console errors in Chromium', () => {
  it("a failed sign-in is explained in the page's language, with the problem code", async () => {
    for (const [lang, words] of [['vi', 'Sai tên đăng nhập hoặc mật khẩu'], ['en', 'Wrong user name or password']] as const) {
      await page.goto(`${base}/console/login${lang === 'en' ? '?lang=en' : ''}`);
      await page.fill('#username', accounts.officer.username);
      await page.fill('#password', 'wrong-password-123');
      await page.click('#login-form button[type=submit]');
      await page.waitForSelector('#error:not([hidden])');
      const text = (await page.textContent('#error'))!;
      expect(text).toContain(words);
      expect(text).toContain('(login-failed)');
      expect(text).not.toContain('wrong username or password');
    }
  });

  it('a refused action puts the focus on the field the service names, with its label in the message', async () => {
    await login(accounts.officer, '/console/certify');
    await page.fill('#documentType', 'Giấy khai sinh');
    await page.click('details.refuse summary');
    await page.selectOption('#ground', 'other');
    await page.click('#refuse-form button[type=submit]');
    await page.waitForSelector('#error:not([hidden])');
    const text = (await page.textContent('#error'))!;
    expect(text).toContain('Thông tin chưa hợp lệ: Lý do cụ thể');
    expect(text).toContain('(invalid-parameters)');
    expect(await focused()).toBe('reason');
    expect(await page.getAttribute('#reason', 'aria-invalid')).toBe('true');
  });

  it('a certification the service refuses brings its reason into view: the error is focused', async () => {
    await page.goto(`${base}/console/certify`);
    await page.setInputFiles('#files', SCAN);
    await page.waitForSelector('#preview figure');
    await page.fill('#documentType', 'Giấy khai sinh');
    await page.fill('#originalIssuer', 'UBND phường Hạc Thành');
    await page.fill('#requesterName', 'Nguyễn Thị Lỗi');
    // The service is busy: a 429 as the rate limiter sends it.
    await page.route(`${base}/api/v1/certified-copies`, (r) =>
      r.fulfill({ status: 429, headers: { 'retry-after': '17' }, contentType: 'application/problem+json', body: JSON.stringify({ type: 'urn:chungthuc:problem:rate-limited', title: 'Too many requests', status: 429, code: 'rate-limited', detail: 'too many requests; retry in 17 s', retryAfterSeconds: 17 }) }),
    );
    await page.click('#certify-button');
    await page.waitForSelector('#error:not([hidden])');
    expect(await page.textContent('#error')).toContain('Vui lòng thử lại sau 17 giây');
    expect(await focused()).toBe('error');
    expect(await inView('#error')).toBe(true);
    expect(await page.isEnabled('#certify-button')).toBe(true);
    await page.unroute(`${base}/api/v1/certified-copies`);
  });

  it('a page whose CSRF token could not be fetched at load still certifies: the token is asked for again', async () => {
    let refused = 0;
    await page.route(`${base}/api/v1/session`, (r) => {
      if (r.request().method() === 'GET' && refused === 0) {
        refused++;
        return r.abort('internetdisconnected');
      }
      return r.continue();
    });
    await page.goto(`${base}/console/certify`);
    await expect.poll(() => refused).toBe(1);
    await page.setInputFiles('#files', SCAN);
    await page.fill('#documentType', 'Giấy khai sinh');
    await page.fill('#originalIssuer', 'UBND phường Hạc Thành');
    await page.fill('#requesterName', 'Nguyễn Thị Mạng');
    await page.fill('#originalPages', '1');
    await page.click('#certify-button');
    await page.waitForSelector('#result:not([hidden])', { timeout: 45_000 });
    expect(await page.textContent('[data-field="number"]')).toMatch(/^\d+$/);
    await page.unroute(`${base}/api/v1/session`);
    await logout();
  });

  it('announces each stage of a certification in the polite notice region, not only on the bar', async () => {
    await context.clearCookies();
    await login(accounts.officer, '/console/certify');
    await page.evaluate(() => {
      const heard: string[] = [];
      (window as unknown as { heard: string[] }).heard = heard;
      const box = document.getElementById('notice')!;
      new MutationObserver(() => heard.push(box.textContent ?? '')).observe(box, { childList: true, characterData: true, subtree: true });
    });
    await page.setInputFiles('#files', SCAN);
    await page.fill('#documentType', 'Giấy khai sinh');
    await page.fill('#originalIssuer', 'UBND phường Hạc Thành');
    await page.fill('#requesterName', 'Nguyễn Thị Nghe');
    await page.fill('#originalPages', '1');
    await page.click('#certify-button');
    await page.waitForSelector('#result:not([hidden])', { timeout: 45_000 });
    const heard = (await page.evaluate(() => (window as unknown as { heard: string[] }).heard)).filter((h) => h !== '');
    const stages = heard.filter((h) => ['Đang tải lên', 'Đang ký số và đóng dấu thời gian…', 'Đã lưu.'].includes(h));
    expect(stages).toEqual(['Đang tải lên', 'Đang ký số và đóng dấu thời gian…', 'Đã lưu.']);
    // Once each, not every percent.
    expect(heard.filter((h) => h.startsWith('Đang tải lên'))).toHaveLength(1);
    await logout();
  });

  it('the annulment form gives the focus back: to its button when closed, to the row once annulled', async () => {
    await context.clearCookies();
    await login(accounts.supervisor, '/console/search');
    await page.waitForSelector('[data-annul]');
    const id = (await page.getAttribute('[data-annul]', 'data-annul'))!;
    await page.focus(`[data-annul="${id}"]`);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#annul:not([hidden])');
    await page.click('#annul-cancel');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-annul'))).toBe(id);
    await page.keyboard.press('Enter');
    await page.fill('#decisionNumber', '3/QĐ-UBND');
    await page.fill('#decisionDate', '2026-12-01');
    await page.fill('#annulReason', 'Chứng thực sai thẩm quyền');
    await page.click('#annul-form button[type=submit]');
    await expect.poll(() => page.getAttribute(`#search-table tr[data-id="${id}"] [data-status]`, 'data-status')).toBe('annulled');
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('data-id') ?? document.activeElement?.tagName)).toBe(id);
  });

  it('hit no CSP violation', () => {
    expect(browser.consoleErrors.filter((e) => /Content Security Policy/i.test(e))).toEqual([]);
  });
});
