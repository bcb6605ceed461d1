/**
 * The public report page (/report) in headless Chromium: anyone uploads a signed PDF and reads
 * each signature's result and what changed after signing. The copy is certified with the real CLI
 * (B-LT, OCSP/CRL from the dev responders) so the untouched file is TOTAL-PASSED; the modified one
 * gets a page appended in an incremental update after the signatures.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IncrementalUpdate, PdfDict, PdfDocument, PdfRef, PdfStream, name } from '../../src/pdf/index.ts';
import { cli } from '../http/access/helpers.ts';
import { DEV_PATHS } from '../support/hsm.ts';
import { startPkiWorld, type PkiWorld } from '../support/pkiWorld.ts';
import { dropFile, SCREENSHOTS } from './consoleSupport.ts';
import { axeViolations, launchBrowser, seriousOrWorse } from './support.ts';

let world: PkiWorld;
let browser: Browser;
let page: Page;
let signed: string;
let modified: string;
const requested: string[] = [];

/** A page appended after the signatures (ISO 32000-1 §7.5.6 incremental update): a change no signature allows. */
function appendPage(file: string, out: string): void {
  const bytes = new Uint8Array(readFileSync(file));
  const doc = PdfDocument.open(bytes);
  const u = new IncrementalUpdate(doc);
  const pagesRef = doc.catalog.get('Pages') as PdfRef;
  const content = u.add(new PdfStream(new PdfDict(), new TextEncoder().encode('BT /F1 24 Tf 72 720 Td (Added later) Tj ET')));
  const added = u.add(new PdfDict({ Type: name('Page'), Parent: pagesRef, MediaBox: [0, 0, 595, 842], Contents: content }));
  const pages = u.edit(pagesRef.num);
  pages.set('Kids', [...(doc.resolve(pages.get('Kids')) as PdfRef[]), added]);
  pages.set('Count', doc.pageCount + 1);
  writeFileSync(out, Buffer.concat([bytes, u.build().bytes]));
}

beforeAll(async () => {
  // As in production: the API needs keys; this page does not.
  world = await startPkiWorld('report', { API_AUTH: 'required' });
  expect((await cli(world.svc, ['tenant', 'create', '--code', 'RP', '--name', 'UBND phường Thử'])).code).toBe(0);
  signed = path.join(world.tmp, 'ban-sao.pdf');
  const r = await cli(world.svc, ['certify', path.join(DEV_PATHS.root, 'fixtures', 'sample-scan-1.jpg'), '-o', signed, '--tenant', 'RP', '--document-type', 'Giấy khai sinh', '--issuer', 'UBND phường Thử', '--requester', 'Nguyễn Văn Thử', '--original-pages', '1']);
  expect(r.code, r.err).toBe(0);
  modified = path.join(world.tmp, 'ban-sao-sua.pdf');
  appendPage(signed, modified);
  browser = await launchBrowser();
  page = await browser.newPage();
  page.on('request', (req) => requested.push(req.url()));
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await world?.stop();
});

const shot = (n: string) => page.screenshot({ path: path.join(SCREENSHOTS, `${n}.png`), fullPage: true });

describe('public report page', () => {
  it('shows the upload form under a strict CSP, in Vietnamese with an English switch, without serious axe violations', async () => {
    const res = await page.goto(`${world.svc.url}/report`);
    expect(res!.status()).toBe(200);
    const csp = res!.headers()['content-security-policy']!;
    expect(csp).toContain("default-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(await page.getAttribute('html', 'lang')).toBe('vi');
    expect(await page.textContent('h1')).toContain('Kiểm tra chữ ký số');
    expect(seriousOrWorse(await axeViolations(page, 'report-form'))).toEqual([]);
    await shot('report-form');
    await page.click('a.lang');
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    expect(await page.textContent('h1')).toContain('Check the digital signatures');
    await page.click('a.lang');
    expect(await page.getAttribute('html', 'lang')).toBe('vi');
  });

  it('a valid signed PDF: verdict "Hợp lệ", each signature with signer, time, level and checks, nothing changed after signing', async () => {
    await page.setInputFiles('#report-file', signed);
    await Promise.all([page.waitForURL(`${world.svc.url}/report`), page.click('#report-form button[type=submit]')]);
    await page.waitForSelector('#verdict-h');
    expect(await page.getAttribute('#verdict-h', 'data-indication')).toBe('TOTAL-PASSED');
    expect(await page.textContent('#verdict-h')).toContain('Hợp lệ');
    const sigs = await page.$$eval('[data-signature]', (els) => els.map((e) => e.getAttribute('data-indication')));
    // The officer's signature, the seal and the archive timestamp chain of a certified copy.
    expect(sigs.length).toBeGreaterThanOrEqual(2);
    expect(sigs.every((s) => s === 'TOTAL-PASSED')).toBe(true);
    const levels = await page.$$eval('[data-field="level"]', (els) => els.map((e) => e.textContent));
    expect(levels).toContain('PAdES B-LT');
    expect(await page.textContent('[data-field="signer"]')).not.toBe('—');
    expect(await page.textContent('.checks-table')).toContain('certificate-chain');
    expect(await page.$$eval('#changes [data-verdict="not-allowed"]', (l) => l.length)).toBe(0);
    expect(seriousOrWorse(await axeViolations(page, 'report-valid'))).toEqual([]);
    await shot('report-valid');
  });

  it('a PDF modified after signing, dropped on the page: not valid, and the disallowed change is listed', async () => {
    await page.goto(`${world.svc.url}/report?lang=en`);
    await Promise.all([page.waitForURL(`${world.svc.url}/report?lang=en`), dropFile(page, '#drop-zone', readFileSync(modified), 'ban-sao-sua.pdf')]);
    await page.waitForSelector('#verdict-h');
    expect(await page.getAttribute('#verdict-h', 'data-indication')).not.toBe('TOTAL-PASSED');
    expect(await page.textContent('main')).toContain('ban-sao-sua.pdf');
    const bad = await page.$$eval('#changes [data-verdict="not-allowed"]', (els) => els.map((e) => e.textContent ?? ''));
    expect(bad.length).toBe(1);
    expect(bad[0]).toContain('NOT allowed');
    expect(bad[0]).toMatch(/page/);
    expect(seriousOrWorse(await axeViolations(page, 'report-modified'))).toEqual([]);
    await shot('report-modified');
  });

  it('a file that is not a PDF is explained on the page; programs get problem+json', async () => {
    await page.goto(`${world.svc.url}/report`);
    await page.setInputFiles('#report-file', { name: 'note.pdf', mimeType: 'application/pdf', buffer: Buffer.from('not a pdf at all') });
    await page.click('#report-form button[type=submit]');
    await page.waitForSelector('p.error');
    expect(await page.textContent('h1')).toContain('Không kiểm tra được');
    expect(await page.textContent('p.error')).toContain('%PDF-');
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(Buffer.from('nope'))]), 'x.pdf');
    const r = await fetch(`${world.svc.url}/report`, { method: 'POST', body: form, headers: { accept: 'application/json' } });
    expect(r.status).toBe(415);
    expect(((await r.json()) as { code: string }).code).toBe('not-a-pdf');
  });

  it('is rate-limited per client: a page for people, 429 problem+json for programs', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const form = new FormData();
      form.append('file', new Blob([new Uint8Array(Buffer.from('nope'))]), 'x.pdf');
      const r = await fetch(`${world.svc.url}/report`, { method: 'POST', body: form, headers: { accept: 'application/json' } });
      statuses.push(r.status);
      await r.arrayBuffer();
    }
    expect(statuses).toContain(429);
    const html = await fetch(`${world.svc.url}/report`, { method: 'POST', body: new FormData(), headers: { accept: 'text/html' } });
    expect(html.status).toBe(429);
    expect(html.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await html.text()).toContain('Quá nhiều yêu cầu');
  });

  it('made no third-party request', () => {
    expect(requested.length).toBeGreaterThan(0);
    expect(requested.filter((u) => !u.startsWith(world.svc.url))).toEqual([]);
  });
});
