/**
 * The public pages' answers to people when something goes wrong or takes a detour, without a browser:
 * the "full validation" button without JavaScript (a report page under the same strict CSP, in the
 * page's language), errors on the public report page in the page's language, the focus after a
 * wrong access code or typed code, and the language switch of a rate-limited page.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPkiWorld, type PkiWorld } from '../support/pkiWorld.ts';
import { certifySample } from '../support/sampleCopy.ts';

let world: PkiWorld;
let base: string;
let code: string;
let signed: Buffer;

beforeAll(async () => {
  world = await startPkiWorld('pages', { API_AUTH: 'required' });
  base = world.svc.url;
  ({ code, pdf: signed } = await certifySample(world, 'PG'));
}, 120_000);

afterAll(() => world?.stop());

const form = { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };
const html = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };

function upload(bytes: Buffer, name: string, fields: Record<string, string> = {}): FormData {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) f.append(k, v);
  f.append('file', new Blob([new Uint8Array(bytes)], { type: 'application/pdf' }), name);
  return f;
}

/** The href of the language switch at the top of a page. */
const switchHref = (page: string): string => /<a class="lang" href="([^"]+)"/.exec(page)![1]!.replace(/&amp;/g, '&');

/** Styles the page's CSP blocks: a <style> element or a style attribute (no 'unsafe-inline'). */
const inlineStyles = (page: string): string[] => page.match(/<style\b|\sstyle="/g) ?? [];

describe('the "full validation" button without JavaScript', () => {
  it('carries the page language in the form, and answers a report page its CSP allows, in that language', async () => {
    for (const lang of ['vi', 'en'] as const) {
      const page = await (await fetch(`${base}/v/${code}${lang === 'en' ? '?lang=en' : ''}`, { headers: html })).text();
      const action = /<form id="server-check" method="post" action="([^"]+)"/.exec(page)![1]!.replace(/&amp;/g, '&');
      expect(action).toBe(lang === 'en' ? `/v/${code}/validation?lang=en` : `/v/${code}/validation`);
      const r = await fetch(`${base}${action}`, { method: 'POST', headers: html, body: upload(signed, 'ban-sao.pdf', { format: 'html' }) });
      expect(r.status).toBe(200);
      const csp = r.headers.get('content-security-policy')!;
      expect(csp).toContain("default-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      const report = await r.text();
      expect(inlineStyles(report)).toEqual([]);
      expect(report).toContain(`<html lang="${lang}"`);
      expect(report).toContain(lang === 'en' ? 'Verdict: Valid' : 'Kết luận: Hợp lệ');
      // Its own stylesheet, which the service serves.
      const css = /<link rel="stylesheet" href="(\/assets\/[^"]+\.css)"/.exec(report)![1]!;
      expect((await fetch(`${base}${css}`)).status).toBe(200);
      // The language switch leads back to the copy's page, which a GET can open.
      expect(switchHref(report)).toBe(lang === 'en' ? `/v/${code}` : `/v/${code}?lang=en`);
    }
  });

  it('explains a file that is not a PDF on a page, in the page language; programs still get problem+json', async () => {
    const vi = await fetch(`${base}/v/${code}/validation`, { method: 'POST', headers: html, body: upload(Buffer.from('not a pdf'), 'note.pdf', { format: 'html' }) });
    expect(vi.status).toBe(415);
    expect(vi.headers.get('content-type')).toMatch(/^text\/html/);
    const viText = await vi.text();
    expect(viText).toContain('không phải tệp PDF');
    expect(inlineStyles(viText)).toEqual([]);
    const en = await fetch(`${base}/v/${code}/validation?lang=en`, { method: 'POST', headers: html, body: upload(Buffer.from('not a pdf'), 'note.pdf', { format: 'html' }) });
    expect(await en.text()).toContain('is not a PDF');
    const json = await fetch(`${base}/v/${code}/validation`, { method: 'POST', headers: { accept: 'application/json' }, body: upload(Buffer.from('not a pdf'), 'note.pdf') });
    expect([json.status, ((await json.json()) as { code: string }).code]).toEqual([415, 'not-a-pdf']);
  });
});

describe('the public report page', () => {
  it('gives the reason for a refused file in the page language', async () => {
    const vi = await (await fetch(`${base}/report`, { method: 'POST', headers: html, body: upload(Buffer.from('not a pdf'), 'note.pdf') })).text();
    expect(/<p class="error" role="alert">([^<]*)<\/p>/.exec(vi)![1]).toContain('không phải tệp PDF');
    const en = await (await fetch(`${base}/report?lang=en`, { method: 'POST', headers: html, body: upload(Buffer.from('not a pdf'), 'note.pdf') })).text();
    expect(/<p class="error" role="alert">([^<]*)<\/p>/.exec(en)![1]).toContain('is not a PDF');
  });
});

describe('focus after an error on a server-rendered form', () => {
  it('a wrong access code puts the focus back in the access-code field; the page without error does not take the focus', async () => {
    const plain = await (await fetch(`${base}/v/${code}`, { headers: html })).text();
    expect(plain).not.toContain('autofocus');
    const r = await fetch(`${base}/v/${code}/access`, { method: 'POST', headers: form, body: 'access_code=ZZZZ-ZZZZ-ZZZZ' });
    expect(r.status).toBe(403);
    const page = await r.text();
    expect(/<input id="access-code"[^>]*>/.exec(page)![0]).toContain(' autofocus');
    expect(page.match(/autofocus/g)).toHaveLength(1);
  });

  it('a malformed typed code puts the focus back in the code field', async () => {
    expect(await (await fetch(`${base}/v`, { headers: html })).text()).not.toContain('autofocus');
    const r = await fetch(`${base}/v`, { method: 'POST', headers: form, body: 'code=ABC' });
    expect(r.status).toBe(400);
    expect(/<input id="code"[^>]*>/.exec(await r.text())![0]).toContain(' autofocus');
  });
});

describe('rate-limited pages', () => {
  it('switch language to a page a GET can open, not to the POST-only route that was limited', async () => {
    let limited: Response | undefined;
    for (let i = 0; i < 10 && !limited; i++) {
      const r = await fetch(`${base}/v/${code}/access?lang=en`, { method: 'POST', headers: form, body: 'access_code=ZZZZ-ZZZZ-ZZZY' });
      if (r.status === 429) limited = r;
      else await r.arrayBuffer();
    }
    const page = await limited!.text();
    expect(page).toContain('Too many requests');
    const href = switchHref(page);
    expect(href).toBe(`/v/${code}`);
    const other = await fetch(`${base}${href}`, { headers: html });
    expect(other.status).toBe(200);
    expect(other.headers.get('content-type')).toMatch(/^text\/html/);
  });
});
