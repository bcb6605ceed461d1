/**
 * The public page's script when things do not go the happy way, in headless Chromium: files chosen
 * one after the other while a hash is still being computed, a file the browser cannot read, and the
 * "full validation" button facing a proxy's 413 page, a lost connection, a double click and the
 * service's own 429 with Retry-After.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPkiWorld, type PkiWorld } from '../support/pkiWorld.ts';
import { certifySample } from '../support/sampleCopy.ts';
import { openBrowserPage, type BrowserPage } from './support.ts';

let world: PkiWorld;
let browser: BrowserPage;
let page: Page;
let base: string;
let code: string;
let copy: Buffer;
let altered: Buffer;

beforeAll(async () => {
  world = await startPkiWorld('verify-script', { API_AUTH: 'required' });
  base = world.svc.url;
  ({ code, pdf: copy } = await certifySample(world, 'VS'));
  altered = Buffer.from(copy);
  altered[altered.length >> 1]! ^= 0x01;
  browser = await openBrowserPage();
  page = browser.page;
}, 120_000);

afterAll(async () => {
  await browser?.browser.close();
  await world?.stop();
});

const pdf = (buffer: Buffer) => ({ name: 'ban-sao.pdf', mimeType: 'application/pdf', buffer });
const serverResult = () => page.textContent('#server-result');
const validationUrl = () => `${base}/v/${code}/validation`;

describe('"check your file" on the public page', () => {
  it('shows the result of the file chosen last, even when the hash of an earlier one ends later', async () => {
    await page.goto(`${base}/v/${code}`);
    // The first hash computed from now on takes 1.5 s, as a large file's would.
    await page.evaluate(() => {
      const w = window as unknown as { digests: number };
      w.digests = 0;
      const subtle = crypto.subtle;
      const digest = subtle.digest.bind(subtle);
      subtle.digest = ((algorithm: AlgorithmIdentifier, data: BufferSource) => {
        const slow = w.digests++ === 0;
        return digest(algorithm, data).then((d) => new Promise<ArrayBuffer>((resolve) => setTimeout(() => resolve(d), slow ? 1500 : 0)));
      }) as typeof subtle.digest;
    });
    await page.setInputFiles('#file-input', pdf(copy));
    await page.waitForFunction(() => (window as unknown as { digests: number }).digests === 1);
    await page.setInputFiles('#file-input', pdf(altered));
    await expect.poll(() => page.getAttribute('#local-result', 'data-match')).toBe('no');
    // The certified copy's (slow) hash arrives after: it must not turn the altered file into a match.
    await page.waitForTimeout(2000);
    expect(await page.getAttribute('#local-result', 'data-match')).toBe('no');
    expect(await page.textContent('#local-result')).toContain('Không khớp');
  });

  it('says so when the browser cannot read the file, rather than blaming its hashing', async () => {
    await page.goto(`${base}/v/${code}`);
    await page.evaluate(() => {
      File.prototype.arrayBuffer = () => Promise.reject(new DOMException('could not be read', 'NotReadableError'));
    });
    await page.setInputFiles('#file-input', pdf(copy));
    await expect.poll(() => page.textContent('#local-result')).toContain('không đọc được tệp này');
  });
});

describe('the "full validation" button', () => {
  it('a proxy refusing the upload with its own 413 page: "too large", and the button works again', async () => {
    await page.goto(`${base}/v/${code}`);
    await page.route(validationUrl(), (r) => r.fulfill({ status: 413, contentType: 'text/html', body: '<html><body><h1>413 Request Entity Too Large</h1></body></html>' }));
    await page.setInputFiles('#file-input', pdf(copy));
    await page.click('#server-check button[type=submit]');
    await expect.poll(serverResult).toContain('Tệp quá lớn');
    expect(await page.getAttribute('#server-check button[type=submit]', 'aria-disabled')).toBeNull();
    await page.unroute(validationUrl());
  });

  it('the service full of anonymous validations (503 server-busy): how long to wait', async () => {
    const problem = { type: 'urn:chungthuc:problem:server-busy', title: 'Service unavailable', status: 503, code: 'server-busy', retryable: true, retryAfterSeconds: 10 };
    await page.route(validationUrl(), (r) => r.fulfill({ status: 503, contentType: 'application/problem+json', headers: { 'retry-after': '10' }, body: JSON.stringify(problem) }));
    await page.click('#server-check button[type=submit]');
    await expect.poll(serverResult).toMatch(/đợi 10 giây/);
    await page.unroute(validationUrl());
  });

  it('a lost connection is told apart from a refusal', async () => {
    await page.route(validationUrl(), (r) => r.abort('internetdisconnected'));
    await page.click('#server-check button[type=submit]');
    await expect.poll(serverResult).toContain('Không kết nối được máy chủ');
    await page.unroute(validationUrl());
  });

  it('sends the file once however often the button is pressed while it is on its way', async () => {
    let sent = 0;
    await page.route(validationUrl(), async (r) => {
      sent++;
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await r.continue();
    });
    await page.click('#server-check button[type=submit]');
    expect(await page.getAttribute('#server-check button[type=submit]', 'aria-disabled')).toBe('true');
    // People can press it again (playwright would wait for aria-disabled to go).
    await page.click('#server-check button[type=submit]', { force: true });
    await page.click('#server-check button[type=submit]', { force: true });
    await expect.poll(() => page.getAttribute('#server-result', 'data-indication'), { timeout: 30_000 }).toBe('TOTAL-PASSED');
    expect(sent).toBe(1);
    await page.unroute(validationUrl());
  });

  it("the service's 429: how long to wait, from Retry-After", async () => {
    // Spend this client's validation allowance (the test runs on the browser's address).
    let retryAfter = '';
    for (let i = 0; i < 10 && !retryAfter; i++) {
      const form = new FormData();
      form.append('file', new Blob([new Uint8Array(Buffer.from('nope'))]), 'x.pdf');
      const r = await fetch(validationUrl(), { method: 'POST', body: form, headers: { accept: 'application/json' } });
      if (r.status === 429) retryAfter = r.headers.get('retry-after')!;
      await r.arrayBuffer();
    }
    expect(retryAfter).toMatch(/^\d+$/);
    // The page's own 429 carries its own Retry-After (a moment later, so maybe a second less): the
    // page must show that one.
    const answer = page.waitForResponse((r) => r.url() === validationUrl() && r.request().method() === 'POST');
    await page.click('#server-check button[type=submit]');
    const own = await answer;
    expect(own.status()).toBe(429);
    const ownRetryAfter = Number(await own.headerValue('retry-after'));
    expect(Math.abs(ownRetryAfter - Number(retryAfter))).toBeLessThanOrEqual(10);
    await expect.poll(serverResult).toMatch(/Vui lòng đợi \d+ giây/);
    const waited = Number(/đợi (\d+) giây/.exec((await serverResult())!)![1]);
    expect(waited).toBe(ownRetryAfter);
    expect(await page.getAttribute('#server-result', 'data-indication')).toBeNull();
  });

  it('hit no CSP violation', () => {
    expect(browser.consoleErrors.filter((e) => /Content Security Policy/i.test(e))).toEqual([]);
  });
});
