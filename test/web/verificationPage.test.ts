/**
 * The public verification page in a real browser (headless Chromium): a copy certified with the CLI,
 * its QR code read back with zbarimg, then everything a citizen or a receiving office does with it.
 * The tests run in order on one copy and one browser: the rate-limit bursts come after the happy
 * paths they would otherwise block, and the annulment comes last.
 */
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateFixtures } from '../../scripts/gen-fixtures.ts';
import { DEV_PATHS } from '../support/hsm.ts';
import { startOcspResponder, type OcspResponder } from '../support/ocspResponder.ts';
import { startRepoServer, type RepoServer } from '../support/repoServer.ts';
import { startTestService, type TestService } from '../support/service.ts';
import { ARTIFACTS, axeViolations, launchBrowser, seriousOrWorse } from './support.ts';

const run = promisify(execFile);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'chungthuc-web-'));
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let svc: TestService;
let ocsp: OcspResponder;
let repo: RepoServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let cli: (args: string[]) => Promise<{ stdout: string }>;
let copyPath: string;
let url: string;
let code: string;
let accessCode: string;
/** Every URL the browser asked for, to prove there are no third-party requests. */
const requested: string[] = [];
const consoleErrors: string[] = [];

beforeAll(async () => {
  // As in production: the API needs keys; the public pages (and their validation button) do not.
  svc = await startTestService({ API_AUTH: 'required' });
  ocsp = await startOcspResponder();
  repo = await startRepoServer();
  const env = { ...process.env, DATA_DIR: svc.dataDir, PUBLIC_BASE_URL: svc.url, LOG_LEVEL: 'silent' };
  cli = (args) => run(process.execPath, ['bin/chungthuc.mjs', ...args], { cwd: DEV_PATHS.root, env, encoding: 'utf8' });
  await cli(['tenant', 'create', '--code', 'HN', '--name', 'Trung tâm Phục vụ hành chính công thành phố Hà Nội']);
  const fx = generateFixtures(path.join(tmp, 'fx'));
  execFileSync('pdftoppm', ['-png', '-r', '100', '-singlefile', fx.classic, path.join(tmp, 'scan')]);
  copyPath = path.join(tmp, 'copy.pdf');
  const r = await cli(['certify', path.join(tmp, 'scan.png'), '-o', copyPath, '--tenant', 'HN', '--document-type', 'Giấy khai sinh', '--issuer', 'UBND phường Hoàn Kiếm', '--requester', 'Nguyễn Thị Hoa', '--original-pages', '1', '--certifier-title', 'Phó Chủ tịch UBND']);
  const told = /mã truy cập[^:]*: (\S+)/.exec(r.stdout)![1]!;
  // The holder reads the access code off the copy itself (printed under the public code).
  accessCode = /Mã truy cập: (\S+)/.exec(execFileSync('pdftotext', [copyPath, '-'], { encoding: 'utf8' }).normalize('NFC'))![1]!;
  expect(accessCode).toBe(told);
  // The QR code, as a phone would read it off the rendered last page.
  execFileSync('pdftoppm', ['-png', '-r', '150', '-singlefile', copyPath, path.join(tmp, 'page')]);
  url = execFileSync('zbarimg', ['--raw', '-q', path.join(tmp, 'page.png')], { encoding: 'utf8' }).trim();
  code = url.split('/v/')[1]!;
  browser = await launchBrowser();
  // A phone-sized viewport: the QR code is scanned with a phone.
  context = await browser.newContext({ acceptDownloads: true, viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
  page = await context.newPage();
  page.on('request', (req) => requested.push(req.url()));
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(msg.text());
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await ocsp?.stop();
  await repo?.stop();
  await svc?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const shot = (name: string) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
const outcomes = () => page.$$eval('[data-check]', (els) => Object.fromEntries(els.map((e) => [e.getAttribute('data-check'), e.getAttribute('data-outcome')])));

describe('public verification page in Chromium', () => {
  it('the QR code opens "Còn hiệu lực" with three VALID checks and no personal data, under a strict CSP', async () => {
    expect(url).toMatch(new RegExp(`^${svc.url}/v/[A-Z2-7]{32}$`));
    const res = await page.goto(url);
    expect(res!.status()).toBe(200);
    expect(res!.headers()['content-security-policy']).toContain("default-src 'self'");
    expect(await page.getAttribute('html', 'lang')).toBe('vi');
    await expect.poll(() => page.textContent('h1')).toContain('Còn hiệu lực');
    expect(await outcomes()).toEqual({ integrity: 'VALID', status: 'VALID', issuer: 'VALID' });
    const text = (await page.textContent('main'))!;
    expect(text).toContain('Giấy khai sinh');
    expect(text).toContain('Phó Chủ tịch UBND');
    expect(text).toContain(sha256(readFileSync(copyPath)));
    expect(text).not.toContain('Nguyễn Thị Hoa');
    // The signature summary comes from validating the stored copy: signer, chain, revocation, timestamp.
    expect(await page.$$eval('.sigs > li', (l) => l.length)).toBeGreaterThanOrEqual(2);
    expect(await page.textContent('.sigs')).toContain('Chuỗi chứng thư đến gốc tin cậy: có');
    await shot('verify-valid-vi');
    // Our own stylesheet and script, cached for a year.
    const css = requested.find((u) => /\/assets\/verify\.[0-9a-f]{12}\.css$/.test(u))!;
    expect((await fetch(css)).headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const js = requested.filter((u) => /\/assets\/verify\.[0-9a-f]{12}\.js$/.test(u));
    expect(js).toHaveLength(1);
    // Small: the page with its own CSS and JS stays under 60 KB (issue 8's target).
    const sizes = await Promise.all([url, css, js[0]!].map(async (u) => (await (await fetch(u)).arrayBuffer()).byteLength));
    expect(sizes.reduce((a, b) => a + b, 0)).toBeLessThan(60 * 1024);
    console.info(`page ${sizes[0]} B, css ${sizes[1]} B, js ${sizes[2]} B`);
  });

  it('has no serious or critical accessibility violations (axe-core)', async () => {
    const violations = await axeViolations(page, 'verify-valid');
    expect(seriousOrWorse(violations)).toEqual([]);
  });

  it('switches to English and back with the link at the top', async () => {
    await page.click('a.lang');
    await expect.poll(() => page.textContent('h1')).toContain('Valid');
    expect(page.url()).toBe(`${url}?lang=en`);
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    expect(await page.textContent('[data-check="issuer"] .badge')).toBe('VALID');
    await shot('verify-valid-en');
    await page.click('a.lang');
    await expect.poll(() => page.textContent('h1')).toContain('Còn hiệu lực');
  });

  it('hashes a chosen file in the browser: the certified copy matches, a modified one does not, nothing is uploaded', async () => {
    const before = requested.length;
    await page.setInputFiles('#file-input', copyPath);
    await expect.poll(() => page.getAttribute('#local-result', 'data-match')).toBe('yes');
    expect(await page.textContent('#local-result')).toContain('Khớp');
    await shot('verify-file-match');
    const altered = Buffer.from(readFileSync(copyPath));
    const mid = Math.floor(altered.length / 2);
    altered[mid] = altered[mid]! ^ 0x01;
    await page.setInputFiles('#file-input', { name: 'copy.pdf', mimeType: 'application/pdf', buffer: altered });
    await expect.poll(() => page.getAttribute('#local-result', 'data-match')).toBe('no');
    expect(await page.textContent('#local-result')).toContain('Không khớp');
    await shot('verify-file-mismatch');
    expect(requested.slice(before)).toEqual([]);
  });

  it('drops a file on the drop zone and sends it, on request only, for a full signature validation', async () => {
    const bytes = readFileSync(copyPath);
    // A real drop event carrying the file, as the browser builds it when a file is dragged in.
    const dataTransfer = await page.evaluateHandle((b64) => {
      const bin = atob(b64);
      const arr = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) arr[i] = bin.charCodeAt(i);
      const dt = new DataTransfer();
      dt.items.add(new File([arr], 'copy.pdf', { type: 'application/pdf' }));
      return dt;
    }, bytes.toString('base64'));
    await page.dispatchEvent('#drop-zone', 'drop', { dataTransfer });
    await expect.poll(() => page.getAttribute('#local-result', 'data-match')).toBe('yes');
    const posted = page.waitForRequest((r) => r.url() === `${svc.url}/v/${code}/validation` && r.method() === 'POST');
    await page.click('#server-check button[type=submit]');
    await posted;
    await expect.poll(() => page.getAttribute('#server-result', 'data-indication'), { timeout: 30_000 }).toBe('TOTAL-PASSED');
    expect(await page.textContent('#server-result')).toContain('hợp lệ');
  });

  it('the access code unlocks the requester and the registered PDF; a wrong one is refused', async () => {
    await page.fill('#access-code', 'ZZZZZ-ZZZZZ');
    await page.click('#access button[type=submit]');
    await page.waitForSelector('#access-error');
    expect(await page.textContent('#access-error')).toContain('không đúng');
    expect(await page.textContent('main')).not.toContain('Nguyễn Thị Hoa');

    await page.fill('#access-code', accessCode.toLowerCase());
    await page.click('#access button[type=submit]');
    await page.waitForSelector('[data-field="requester"]');
    expect(await page.textContent('[data-field="requester"]')).toBe('Nguyễn Thị Hoa');
    // The access code went in the POST body, never into a URL.
    expect(requested.some((u) => u.includes(accessCode) || u.toLowerCase().includes(accessCode.toLowerCase()))).toBe(false);
    await shot('verify-unlocked');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-file')]);
    expect(download.suggestedFilename()).toMatch(/^ban-sao-1-\d{4}\.pdf$/);
    expect(sha256(readFileSync((await download.path())!))).toBe(sha256(readFileSync(copyPath)));
    // The link is bound to this code and expires; a forged token is refused.
    const href = (await page.getAttribute('#view-file', 'href'))!;
    expect((await fetch(`${svc.url}${href}`)).headers.get('content-type')).toBe('application/pdf');
    expect((await fetch(`${svc.url}/v/${code}/file?t=9999999999.${'A'.repeat(43)}`)).status).toBe(403);
  });

  it('rate-limits wrong access codes', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const r = await fetch(`${svc.url}/v/${code}/access`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'access_code=WRONG-CODE0' });
      statuses.push(r.status);
      if (r.status === 429) {
        expect(r.headers.get('retry-after')).toMatch(/^\d+$/);
        expect(await r.text()).toContain('Quá nhiều yêu cầu');
      } else await r.arrayBuffer();
    }
    expect(statuses).toContain(429);
    expect(statuses.every((s) => s === 403 || s === 429)).toBe(true);
    // Once limited, even the right code waits: the limit is checked before the code.
    const right = await fetch(`${svc.url}/v/${code}/access`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `access_code=${accessCode}` });
    expect(right.status).toBe(429);
  });

  it('manual code entry: a typed code (any case, with spaces) opens the page; a malformed one is explained', async () => {
    await page.goto(`${svc.url}/v`);
    expect(await page.textContent('h1')).toContain('Nhập mã tra cứu');
    expect(seriousOrWorse(await axeViolations(page, 'entry'))).toEqual([]);
    await shot('entry-vi');
    await page.fill('#code', 'ABC');
    await page.press('#code', 'Enter');
    await page.waitForSelector('#code-error');
    expect(await page.getAttribute('#code', 'aria-invalid')).toBe('true');
    const spaced = code.toLowerCase().replace(/(.{8})/g, '$1 ').trim();
    await page.fill('#code', spaced);
    await page.click('form.entry button[type=submit]');
    await page.waitForURL(url);
    expect(await page.textContent('h1')).toContain('Còn hiệu lực');
  });

  it('a burst of typed codes is rate-limited: a page for people, problem+json for programs', async () => {
    const body = `code=${code}`;
    const headers = { 'content-type': 'application/x-www-form-urlencoded' };
    const statuses: number[] = [];
    for (let i = 0; i < 14; i++) {
      const r = await fetch(`${svc.url}/v`, { method: 'POST', headers, body, redirect: 'manual' });
      statuses.push(r.status);
      await r.arrayBuffer();
    }
    expect(statuses).toContain(303);
    expect(statuses).toContain(429);
    const json = await fetch(`${svc.url}/v`, { method: 'POST', headers: { ...headers, accept: 'application/json' }, body, redirect: 'manual' });
    expect(json.status).toBe(429);
    expect(json.headers.get('content-type')).toContain('application/problem+json');
    expect(((await json.json()) as { code: string }).code).toBe('rate-limited');
    await page.goto(`${svc.url}/v`);
    await page.fill('#code', code);
    await page.click('form.entry button[type=submit]');
    await expect.poll(() => page.textContent('h1')).toContain('Quá nhiều yêu cầu');
    await shot('entry-rate-limited');
  });

  it('an unknown code says "Không tìm thấy"', async () => {
    const res = await page.goto(`${svc.url}/v/${'A'.repeat(32)}`);
    expect(res!.status()).toBe(404);
    expect(await page.textContent('h1')).toContain('Không tìm thấy');
    expect(seriousOrWorse(await axeViolations(page, 'not-found'))).toEqual([]);
  });

  it('after `chungthuc annul` the page shows the annulment with decision, date and reason', async () => {
    await cli(['annul', code, '--decision', '27/QĐ-UBND', '--date', '2026-12-01', '--reason', 'Bản chính không đủ điều kiện chứng thực']);
    await page.goto(url);
    await expect.poll(() => page.textContent('h1')).toContain('Đã bị hủy bỏ giá trị pháp lý');
    const verdict = (await page.textContent('.verdict'))!;
    expect(verdict).toContain('27/QĐ-UBND');
    expect(verdict).toContain('01/12/2026');
    expect(verdict).toContain('Bản chính không đủ điều kiện chứng thực');
    expect(await outcomes()).toEqual({ integrity: 'VALID', status: 'INVALID', issuer: 'VALID' });
    expect(seriousOrWorse(await axeViolations(page, 'annulled'))).toEqual([]);
    await shot('verify-annulled-vi');
    await page.screenshot({ path: path.join(ARTIFACTS, 'verify-annulled-vi-top.png') });
  });

  it('made no third-party request and hit no CSP violation', () => {
    expect(requested.length).toBeGreaterThan(0);
    expect(requested.filter((u) => !u.startsWith(svc.url))).toEqual([]);
    expect(consoleErrors.filter((e) => /Content Security Policy/i.test(e))).toEqual([]);
  });
});
