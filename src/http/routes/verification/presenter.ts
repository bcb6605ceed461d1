/**
 * Server-rendered HTML of the public verification pages. Small and self-contained: one stylesheet
 * and one deferred script of our own, no inline script or style, so the Content-Security-Policy can
 * be `default-src 'self'`. Only the fields domain.md "Registry data safe to show" allows appear
 * before the access code; the requester and the file only after it.
 */
import type { PublicCopyView } from '../../../registry/index.ts';
import type { CopyAssessment, SignatureSummary } from './assessment.ts';
import type { WebAssets } from './assets.ts';
import { MESSAGES, type Lang, type Messages } from './i18n.ts';

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const SPECIAL = /[&<>"']/;
/** HTML-escapes text and attribute values; most strings have nothing to escape and are returned as they are. */
export const esc = (value: unknown): string => {
  const s = String(value ?? '');
  return SPECIAL.test(s) ? s.replace(/[&<>"']/g, (c) => ENTITIES[c]!) : s;
};

/** Dates are shown in Vietnam's time zone (UTC+7, no daylight saving). */
const VN_OFFSET_MS = 7 * 3600_000;
const two = (n: number): string => (n < 10 ? `0${n}` : String(n));
/** The instant moved to UTC+7, read back with the getUTC… methods. */
const inVietnam = (d: Date): Date => new Date(d.getTime() + VN_OFFSET_MS);
const dayMonthYear = (t: Date): string => `${two(t.getUTCDate())}/${two(t.getUTCMonth() + 1)}/${t.getUTCFullYear()}`;
const vnDate = (d: Date): string => dayMonthYear(inVietnam(d));
const vnDateTime = (iso: string | Date): string => {
  const t = inVietnam(new Date(iso));
  return `${two(t.getUTCHours())}:${two(t.getUTCMinutes())}:${two(t.getUTCSeconds())} ${dayMonthYear(t)} (UTC+7)`;
};
const calendarDate = (ymd: string): string => (/^\d{4}-\d{2}-\d{2}$/.test(ymd) ? ymd.split('-').reverse().join('/') : ymd);

/** The CN of an RFC 4514-style subject, for display; the whole subject when there is none. */
function commonName(subject: string | null): string {
  if (!subject) return '—';
  let cn = commonNames.get(subject);
  if (cn === undefined) {
    const m = /(?:^|,)\s*CN=((?:\\.|[^,\\])+)/.exec(subject);
    cn = m ? m[1]!.replace(/\\(.)/g, '$1') : subject;
    if (commonNames.size >= 1024) commonNames.clear();
    commonNames.set(subject, cn);
  }
  return cn;
}
/** Subjects repeat (the same officers, seals and CAs sign every copy): their CNs, bounded. */
const commonNames = new Map<string, string>();

const withLang = (path: string, lang: Lang): string => (lang === 'en' ? `${path}?lang=en` : path);

export interface PageFrame {
  readonly lang: Lang;
  readonly assets: WebAssets;
  /** Path the language switch points at (the same page in the other language). */
  readonly path: string;
  readonly title: string;
  readonly tone?: 'ok' | 'bad' | 'none';
}

function layout(f: PageFrame, body: string): string {
  const m = MESSAGES[f.lang];
  const other: Lang = f.lang === 'vi' ? 'en' : 'vi';
  return `<!doctype html>
<html lang="${f.lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${esc(f.title)} — ${esc(m.siteTitle)}</title>
<link rel="stylesheet" href="${f.assets.css.url}"><script src="${f.assets.js.url}" defer></script></head>
<body class="tone-${f.tone ?? 'none'}"><header class="top"><p class="site"><a href="${withLang('/v', f.lang)}">${esc(m.siteTitle)}</a></p>
<nav aria-label="${esc(m.switchLabel)}"><a class="lang" href="${esc(withLang(f.path, other))}" hreflang="${other}" lang="${other}">${esc(m.switchLang)}</a></nav></header>
<main id="main">${body}</main></body></html>`;
}

function checksSection(m: Messages, a: CopyAssessment): string {
  const row = (name: 'integrity' | 'status' | 'issuer', outcome: string, sentence: string) =>
    `<li class="check outcome-${outcome.toLowerCase()}" data-check="${name}" data-outcome="${outcome}"><span class="badge">${esc(m.outcome[outcome as keyof Messages['outcome']])}</span>
<div><h3>${esc(m.checkNames[name])}</h3><p>${esc(sentence)}</p></div></li>`;
  return `<section aria-labelledby="checks-h"><h2 id="checks-h">${esc(m.checksHeading)}</h2><ul class="checks">
${row('integrity', a.integrity.outcome, m.integrity[a.integrity.reason])}
${row('status', a.status.outcome, m.status[a.status.reason])}
${row('issuer', a.issuer.outcome, m.issuer[a.issuer.reason])}
</ul></section>`;
}

const item = (dt: string, dd: string): string => `<dt>${esc(dt)}</dt><dd>${dd}</dd>`;

/** The details' values, escaped, in the order `detailsSection` shows them (the seal and time only when present). */
function detailValues(v: PublicCopyView): string[] {
  const values = [
    esc(v.number),
    esc(v.volume),
    esc(vnDate(v.certifiedAt)),
    esc(v.agency),
    esc(v.certifierName),
    esc(v.certifierTitle),
    esc(v.documentType),
    esc(v.originalPages),
    esc(v.pdfSha256),
    esc(commonName(v.signerCertificate.subject)),
  ];
  if (v.agencyCertificate) values.push(esc(commonName(v.agencyCertificate.subject)));
  if (v.timestampAt) values.push(esc(vnDateTime(v.timestampAt)));
  return values;
}

/** The details list around `values` (escaped, see `detailValues`; SLOTs in the cached text). */
function detailsSection(m: Messages, values: readonly string[], seal: boolean, time: boolean): string {
  const f = m.fields;
  let i = 0;
  const next = (): string => values[i++]!;
  return `<section aria-labelledby="details-h"><h2 id="details-h">${esc(m.detailsHeading)}</h2><dl class="fields">
${item(f.number, next())}${item(f.volume, next())}${item(f.date, next())}
${item(f.agency, next())}${item(f.certifier, `${next()} — ${next()}`)}
${item(f.documentType, next())}${item(f.pages, next())}
${item(f.sha256, `<code class="hash">${next()}</code>`)}
${item(f.signerCert, next())}
${seal ? item(f.sealCert, next()) : ''}
${time ? item(f.timestamp, next()) : ''}
</dl></section>`;
}

function signaturesSection(m: Messages, sigs: readonly SignatureSummary[]): string {
  const items = sigs
    .map((s) => {
      const ind = m.indication[s.indication as keyof Messages['indication']] ?? s.indication;
      const rev = m.revocationStatus[s.revocation.status as keyof Messages['revocationStatus']] ?? s.revocation.status;
      return `<li><h3>${esc(m.sigKind[s.kind])}: ${esc(commonName(s.signer))}</h3><ul>
<li>${esc(m.sigResult)}: <strong>${esc(ind)}</strong>${s.subIndication ? ` <code>${esc(s.subIndication)}</code>` : ''}</li>
<li>${esc(m.sigChain(s.chainTrusted))}${s.signerIssuer ? ` (${esc(commonName(s.signerIssuer))})` : ''}</li>
${s.kind === 'signature' ? `<li>${esc(m.sigRevocation)}: ${esc(rev)}</li>` : ''}
${s.timestampTime ? `<li>${esc(m.sigTimestamp)}: ${esc(vnDateTime(s.timestampTime))}</li>` : ''}
</ul></li>`;
    })
    .join('\n');
  return `<section aria-labelledby="sigs-h"><h2 id="sigs-h">${esc(m.signaturesHeading)}</h2>${
    sigs.length ? `<ol class="sigs">${items}</ol>` : `<p>${esc(m.noSignatures)}</p>`
  }</section>`;
}

/** The messages the script needs, as data attributes (no inline script under the CSP); built once per language. */
const jsMessagesOf = new Map<Messages, string>();
function jsMessages(m: Messages): string {
  let attrs = jsMessagesOf.get(m);
  if (attrs === undefined) {
    attrs = Object.entries(m.js)
      .map(([k, v]) => `data-msg-${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}="${esc(v)}"`)
      .join(' ');
    jsMessagesOf.set(m, attrs);
  }
  return attrs;
}

function fileSection(m: Messages, lang: Lang, sha256: string, code: string): string {
  return `<section id="check-file" class="card" aria-labelledby="file-h" data-sha256="${esc(sha256)}" ${jsMessages(m)}>
<h2 id="file-h">${esc(m.fileHeading)}</h2><p>${esc(m.fileLead)}</p>
<form id="server-check" method="post" action="/v/${esc(code)}/validation${lang === 'en' ? '?lang=en' : ''}" enctype="multipart/form-data">
<input type="hidden" name="format" value="html">
<div class="drop" id="drop-zone"><label for="file-input">${esc(m.fileLabel)}</label>
<span class="hint" id="file-hint">${esc(m.fileHint)}</span>
<input type="file" id="file-input" name="file" accept="application/pdf,.pdf" aria-describedby="file-hint"></div>
<p id="local-result" class="result-line" role="status" aria-live="polite"></p>
<noscript><p>${esc(m.fileNoJs)}</p></noscript>
<p class="hint" id="server-hint">${esc(m.serverHint)}</p>
<button type="submit" aria-describedby="server-hint">${esc(m.serverButton)}</button>
<p id="server-result" class="result-line" role="status" aria-live="polite"></p>
</form></section>`;
}

export interface Unlocked {
  readonly requesterName: string;
  readonly documentName: string;
  readonly viewUrl: string;
  readonly downloadUrl: string;
  readonly ttlMinutes: number;
}

export type AccessState = { readonly kind: 'locked' } | { readonly kind: 'wrong' } | { readonly kind: 'unlocked'; readonly unlocked: Unlocked };

function accessSection(m: Messages, lang: Lang, code: string, access: AccessState): string {
  if (access.kind === 'unlocked') {
    const u = access.unlocked;
    return `<section id="access" class="card" aria-labelledby="access-h"><h2 id="access-h">${esc(m.unlockedHeading)}</h2>
<dl class="fields"><dt>${esc(m.requester)}</dt><dd data-field="requester">${esc(u.requesterName)}</dd><dt>${esc(m.documentName)}</dt><dd>${esc(u.documentName)}</dd></dl>
<p class="actions"><a class="button" id="view-file" href="${esc(u.viewUrl)}">${esc(m.viewFile)}</a>
<a class="button" id="download-file" href="${esc(u.downloadUrl)}" download>${esc(m.downloadFile)}</a></p>
<p class="hint">${esc(m.linkExpires(u.ttlMinutes))}</p></section>`;
  }
  const wrong = access.kind === 'wrong';
  return `<section id="access" class="card" aria-labelledby="access-h"><h2 id="access-h">${esc(m.accessHeading)}</h2><p>${esc(m.accessLead)}</p>
<form method="post" action="${esc(withLang(`/v/${code}/access`, lang))}">
<label for="access-code">${esc(m.accessLabel)}</label>
${wrong ? `<p id="access-error" class="error" role="alert">${esc(m.accessWrong)}</p>` : ''}
<input id="access-code" name="access_code" type="text" required autocomplete="off" autocapitalize="characters" spellcheck="false" maxlength="40"${
    wrong ? ' aria-invalid="true" aria-describedby="access-error" autofocus' : ''
  }>
<button type="submit">${esc(m.accessButton)}</button></form></section>`;
}

/**
 * Marks where a per-copy value goes in the copy page's cached fixed text. Never part of page text: no
 * message holds it, `esc` leaves it as it is, and values are escaped before they are put in.
 */
const SLOT = '\u0000';
/** The copy page's fixed text per assets, language, status and check results, as UTF-8 bytes cut at its slots. */
const copyTemplates = new WeakMap<WebAssets, Map<string, Buffer[]>>();

/**
 * Page bodies are cut from shared slabs, as Buffer.allocUnsafe does for small buffers: a page (~7 KB)
 * is above its pool's limit, and an ArrayBuffer of its own per page view costs more than rendering
 * the page's values. A slab is freed once no page cut from it is referenced.
 */
const SLAB_BYTES = 256 * 1024;
let slab = Buffer.allocUnsafe(0);
let slabUsed = 0;
function pageBuffer(length: number): Buffer {
  if (length > SLAB_BYTES / 4) return Buffer.allocUnsafe(length);
  if (slabUsed + length > slab.length) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    slabUsed = 0;
  }
  const out = slab.subarray(slabUsed, slabUsed + length);
  slabUsed += (length + 7) & ~7;
  return out;
}
/** The signature summary of a stored file, rendered once per language (the summary is kept with the file's facts). */
const signatureHtml = new WeakMap<readonly SignatureSummary[], Partial<Record<Lang, Buffer>>>();

/**
 * The page for a registered copy, as UTF-8 bytes. Most of it is fixed text for its language, status
 * and check results: that is rendered and encoded once (with SLOTs for the copy's values) and reused,
 * so a page view only renders and encodes the details, the access form and a few codes.
 */
export function renderCopyPage(
  frame: Omit<PageFrame, 'title' | 'tone'>,
  code: string,
  v: PublicCopyView,
  a: CopyAssessment,
  access: AccessState,
): Buffer {
  const m = MESSAGES[frame.lang];
  const seal = v.agencyCertificate !== null;
  const time = v.timestampAt !== null;
  // The access form (locked or after a wrong code) is fixed text around the code; the unlocked section is rendered per view.
  const formAccess = access.kind !== 'unlocked';
  const key = `${frame.lang}|${v.status}|${a.integrity.outcome}|${a.integrity.reason}|${a.status.outcome}|${a.status.reason}|${a.issuer.outcome}|${a.issuer.reason}|${seal}|${time}|${access.kind}`;
  let templates = copyTemplates.get(frame.assets);
  if (!templates) copyTemplates.set(frame.assets, (templates = new Map()));
  let template = templates.get(key);
  if (!template) {
    const details = detailsSection(m, new Array<string>(10 + Number(seal) + Number(time)).fill(SLOT), seal, time);
    const html = copyPageHtml({ ...frame, path: SLOT }, v.status, a, {
      annulment: SLOT,
      details,
      signatures: SLOT,
      sha256: SLOT,
      code: SLOT,
      access: formAccess ? accessSection(m, frame.lang, SLOT, access) : SLOT,
    });
    template = html.split(SLOT).map((part) => Buffer.from(part, 'utf8'));
    templates.set(key, template);
  }
  let sigs = signatureHtml.get(a.signatures);
  if (!sigs) signatureHtml.set(a.signatures, (sigs = {}));
  const signatures = (sigs[frame.lang] ??= Buffer.from(signaturesSection(m, a.signatures), 'utf8'));
  const annulment = v.annulment
    ? `<p class="annulment"><strong>${esc(m.decision(v.annulment.decisionNumber, calendarDate(v.annulment.decisionDate)))}</strong><br>${esc(m.reason)}: ${esc(v.annulment.reason)}</p>`
    : '';
  const escapedCode = esc(code);
  // In the order the slots appear in the page.
  const values: Array<string | Buffer> = [esc(frame.path), annulment, ...detailValues(v), signatures, esc(v.pdfSha256), escapedCode, formAccess ? escapedCode : accessSection(m, frame.lang, code, access)];
  if (template.length !== values.length + 1) throw new Error(`copy page template has ${template.length - 1} slots for ${values.length} values`);
  // One allocation: measure, then write the values between the template's parts.
  let length = 0;
  for (const part of template) length += part.length;
  for (const value of values) length += typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : value.length;
  const out = pageBuffer(length);
  let at = template[0]!.copy(out, 0);
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    at += typeof value === 'string' ? out.write(value, at, 'utf8') : value.copy(out, at);
    at += template[i + 1]!.copy(out, at);
  }
  return out;
}

/** The copy page's HTML with the given (already escaped) pieces in place of the copy's values. */
function copyPageHtml(
  frame: Omit<PageFrame, 'title' | 'tone'>,
  status: PublicCopyView['status'],
  a: CopyAssessment,
  piece: { annulment: string; details: string; signatures: string; sha256: string; code: string; access: string },
): string {
  const m = MESSAGES[frame.lang];
  const valid = status === 'valid';
  const body = `<section class="verdict ${valid ? 'verdict-ok' : 'verdict-bad'}" aria-labelledby="verdict-h">
<h1 id="verdict-h" data-status="${status}"><span aria-hidden="true">${valid ? '✓' : '✗'}</span> ${esc(valid ? m.valid : m.annulled)}</h1>
<p>${esc(valid ? m.validLead : m.annulledLead)}</p>${piece.annulment}</section>
${checksSection(m, a)}
${piece.details}
${piece.signatures}
${fileSection(m, frame.lang, piece.sha256, piece.code)}
${piece.access}
<p class="more"><a href="${withLang('/v', frame.lang)}">${esc(m.entryLink)}</a></p>`;
  return layout({ ...frame, title: valid ? m.valid : m.annulled, tone: valid ? 'ok' : 'bad' }, body);
}

export function renderNotFoundPage(frame: Omit<PageFrame, 'title' | 'tone'>): string {
  const m = MESSAGES[frame.lang];
  const body = `<section class="verdict verdict-none" aria-labelledby="verdict-h"><h1 id="verdict-h" data-status="not-found"><span aria-hidden="true">?</span> ${esc(m.notFound)}</h1>
<p>${esc(m.notFoundLead)}</p></section>
<ul class="checks"><li class="check outcome-invalid" data-check="status" data-outcome="INVALID"><span class="badge">${esc(m.outcome.INVALID)}</span>
<div><h2 class="h3">${esc(m.checkNames.status)}</h2><p>${esc(m.status['not-found'])}</p></div></li></ul>
${entryForm(m, frame.lang, null, '')}`;
  return layout({ ...frame, title: m.notFound, tone: 'none' }, body);
}

function entryForm(m: Messages, lang: Lang, error: string | null, value: string): string {
  return `<form class="card entry" method="post" action="${withLang('/v', lang)}">
<label for="code">${esc(m.entryLabel)}</label><span class="hint" id="code-hint">${esc(m.entryHint)}</span>
${error ? `<p id="code-error" class="error" role="alert">${esc(error)}</p>` : ''}
<input id="code" name="code" type="text" required autocomplete="off" autocapitalize="characters" spellcheck="false" maxlength="80" value="${esc(value)}" aria-describedby="code-hint${error ? ' code-error' : ''}"${error ? ' aria-invalid="true" autofocus' : ''}>
<button type="submit">${esc(m.entryButton)}</button></form>`;
}

export function renderEntryPage(frame: Omit<PageFrame, 'title' | 'tone'>, error: boolean, value = ''): string {
  const m = MESSAGES[frame.lang];
  const body = `<h1>${esc(m.entryHeading)}</h1><p>${esc(m.entryLead)}</p>${entryForm(m, frame.lang, error ? m.entryInvalid : null, value)}`;
  return layout({ ...frame, title: m.entryHeading }, body);
}

export function renderMessagePage(frame: Omit<PageFrame, 'title' | 'tone'>, heading: string, text: string): string {
  const m = MESSAGES[frame.lang];
  const body = `<h1>${esc(heading)}</h1><p role="alert">${esc(text)}</p><p><a href="${withLang('/v', frame.lang)}">${esc(m.backToEntry)}</a></p>`;
  return layout({ ...frame, title: heading }, body);
}
