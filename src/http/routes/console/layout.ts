/**
 * The frame shared by the console pages and the public report page: one stylesheet and one deferred
 * script of our own (content-hashed under /assets), no inline script or style, so the CSP can be
 * `default-src 'self'`. The messages the script needs travel as a JSON data block
 * (`<script type="application/json">` is data, never executed, so the CSP does not apply to it).
 */
import type { Context } from 'koa';
import type { OfficerRole } from '../../../registry/index.ts';
import { htmlPageHeaders } from '../../htmlPage.ts';
import { loadAsset, type Asset } from '../verification/assets.ts';
import { esc } from '../verification/presenter.ts';
import { CONSOLE_MESSAGES, type ConsoleMessages, type Lang } from './i18n.ts';

/**
 * Our own files and nothing else; data: and blob: images only for the scan previews the preview API
 * returns as data URLs. Scripts and styles from 'self' only (no 'unsafe-inline').
 */
const CSP = "default-src 'self'; img-src 'self' data: blob:; base-uri 'none'; object-src 'none'; form-action 'self'; frame-ancestors 'none'";

/** Headers of every page in this frame (console pages, the report page wherever it is answered). */
export const consolePageHeaders = (ctx: Context): void => htmlPageHeaders(ctx, CSP, 'same-origin');

export interface ConsoleAssets {
  readonly css: Asset;
  readonly js: Asset;
  byUrl(url: string): Asset | undefined;
}

export function loadConsoleAssets(): ConsoleAssets {
  const css = loadAsset('console.css', 'css', 'text/css; charset=utf-8');
  const js = loadAsset('console.js', 'js', 'text/javascript; charset=utf-8');
  const all = new Map([css, js].map((a) => [a.url, a]));
  return { css, js, byUrl: (url) => all.get(url) };
}

export const withLang = (path: string, lang: Lang): string => (lang === 'en' ? `${path}${path.includes('?') ? '&' : '?'}lang=en` : path);

/** Who is signed in, as the header shows it (null on the login and report pages). */
export interface SignedIn {
  readonly username: string;
  readonly role: OfficerRole;
  readonly scopes: readonly string[];
}

export type ConsolePage = 'login' | 'certify' | 'today' | 'search' | 'admin' | 'account' | 'report';

export interface Frame {
  readonly lang: Lang;
  readonly assets: ConsoleAssets;
  readonly page: ConsolePage;
  readonly title: string;
  readonly who: SignedIn | null;
  /** The current path with its query minus `lang`, for the language switch. */
  readonly path: string;
}

/** JSON inside HTML: `<` escaped so the text can never close the data block. */
const jsonData = (v: unknown): string => JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028|\u2029/g, (c) => (c === '\u2028' ? '\\u2028' : '\\u2029'));

function nav(m: ConsoleMessages, f: Frame): string {
  if (!f.who) return '';
  const link = (page: ConsolePage, href: string, text: string) =>
    `<li><a href="${esc(withLang(href, f.lang))}"${f.page === page ? ' aria-current="page"' : ''}>${esc(text)}</a></li>`;
  const s = f.who.scopes;
  const items = [
    s.includes('certify') ? link('certify', '/console/certify', m.nav.certify) : '',
    s.includes('read-registry') ? link('today', '/console/today', m.nav.today) : '',
    s.includes('read-registry') ? link('search', '/console/search', m.nav.search) : '',
    s.includes('admin') ? link('admin', '/console/admin', m.nav.admin) : '',
    link('account', '/console/account', m.nav.account),
  ].join('');
  return `<nav class="tabs" aria-label="${esc(m.navLabel)}"><ul>${items}</ul>
<p class="who"><span>${esc(m.signedInAs(f.who.username, m.roles[f.who.role]))}</span> <button type="button" id="logout" class="link">${esc(m.nav.logout)}</button></p></nav>`;
}

export function layout(f: Frame, body: string): string {
  const m = CONSOLE_MESSAGES[f.lang];
  const other: Lang = f.lang === 'vi' ? 'en' : 'vi';
  const site = f.page === 'report' ? m.reportTitle : m.consoleTitle;
  const home = f.page === 'report' ? '/report' : '/console';
  return `<!doctype html>
<html lang="${f.lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${esc(f.title)} — ${esc(site)}</title>
<link rel="stylesheet" href="${f.assets.css.url}"><script src="${f.assets.js.url}" defer></script></head>
<body data-page="${f.page}" data-lang="${f.lang}"><a class="skip" href="#main">${f.lang === 'vi' ? 'Bỏ qua đến nội dung' : 'Skip to content'}</a>
<header class="top"><p class="site"><a href="${esc(withLang(home, f.lang))}">${esc(site)}</a></p>
<a class="lang" href="${esc(withLang(f.path, other))}" hreflang="${other}" lang="${other}" aria-label="${esc(m.switchLabel)}: ${esc(m.switchLang)}">${esc(m.switchLang)}</a></header>
${nav(m, f)}
<main id="main">${body}</main>
<script type="application/json" id="i18n">${jsonData({ ...m.js, problems: m.problems })}</script></body></html>`;
}

/** A labelled input; `hint` is tied with aria-describedby. */
export function field(id: string, label: string, opts: { type?: string; required?: boolean; hint?: string; attrs?: string; optional?: string; requiredWord?: string } = {}): string {
  const hint = opts.hint ? `<span class="hint" id="${id}-hint">${esc(opts.hint)}</span>` : '';
  const mark = opts.required ? ` <span class="req">(${esc(opts.requiredWord ?? '*')})</span>` : opts.optional ? ` <span class="opt">(${esc(opts.optional)})</span>` : '';
  const input =
    opts.type === 'textarea'
      ? `<textarea id="${id}" name="${id}" rows="2"${opts.hint ? ` aria-describedby="${id}-hint"` : ''} ${opts.attrs ?? ''}></textarea>`
      : `<input id="${id}" name="${id}" type="${opts.type ?? 'text'}"${opts.required ? ' required' : ''}${opts.hint ? ` aria-describedby="${id}-hint"` : ''} ${opts.attrs ?? ''}>`;
  return `<div class="field"><label for="${id}">${esc(label)}${mark}</label>${hint}${input}</div>`;
}

/** The live regions every page has: errors (assertive; focusable, so a failed action can bring it into view) and notices (polite). */
export const messageRegions = `<p id="error" class="error" role="alert" tabindex="-1" hidden></p><p id="notice" class="notice" role="status" aria-live="polite"></p>`;

export { esc };
