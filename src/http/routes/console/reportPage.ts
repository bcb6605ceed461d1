/**
 * The public "check a signed PDF" page (GET /report) and its result: the validation report of
 * src/pades/validation rendered for people — the verdict in words and colour, per signature the
 * signer, time, level and checks, then what changed after signing (ETSI EN 319 102-1 indications,
 * ISO 32000-1 §12.8 incremental updates). Same frame and CSP as the console pages.
 */
import type { RevisionReport, SignatureReport, ValidationReport } from '../../../pades/validation/index.ts';
import type { AppError } from '../../../errors.ts';
import { CONSOLE_MESSAGES, explainProblem, type ConsoleMessages } from './i18n.ts';
import { esc, layout, withLang, type Frame } from './layout.ts';

type PageFrame = Omit<Frame, 'title' | 'page' | 'who'>;

const TONE: Record<string, 'ok' | 'bad' | 'warn'> = { 'TOTAL-PASSED': 'ok', 'TOTAL-FAILED': 'bad', INDETERMINATE: 'warn', NO_SIGNATURE: 'warn' };

const VN_OFFSET_MS = 7 * 3600_000;
const vnDateTime = (iso: string): string => {
  const d = new Date(new Date(iso).getTime() + VN_OFFSET_MS).toISOString();
  return `${d.slice(11, 19)} ${d.slice(0, 10).split('-').reverse().join('/')} (UTC+7)`;
};

/** The CN of an RFC 4514-style subject, with the organisation when there is one. */
function who(subject: string | null): string {
  if (!subject) return '—';
  const attr = (k: string) => new RegExp(`(?:^|,)\\s*${k}=((?:\\\\.|[^,\\\\])+)`).exec(subject)?.[1]?.replace(/\\(.)/g, '$1');
  const cn = attr('CN');
  const o = attr('O');
  return cn ? (o && o !== cn ? `${cn} — ${o}` : cn) : subject;
}

/**
 * The PAdES baseline level the file's structure shows (ETSI EN 319 142-1 §6): B-T with a verified
 * signature timestamp, B-LT when a later revision adds validation data (DSS), B-LTA when a document
 * timestamp follows. A description of what is there, not a conformance claim.
 */
export function signatureLevel(r: ValidationReport, s: SignatureReport): string {
  if (s.type === 'document-timestamp') return 'RFC 3161';
  if (s.subFilter !== 'ETSI.CAdES.detached') return s.subFilter ?? '—';
  const later = r.revisions.filter((x) => s.signedRevision !== null && x.index > s.signedRevision);
  const hasTs = s.checks.some((c) => c.name === 'signature-timestamp' && c.status === 'passed');
  const hasDss = later.some((x) => x.changes.some((c) => c.kind === 'dss'));
  const hasDocTs = r.signatures.some((o) => o.type === 'document-timestamp' && o.signedRevision !== null && s.signedRevision !== null && o.signedRevision > s.signedRevision);
  if (!hasTs) return 'PAdES B-B';
  if (!hasDss) return 'PAdES B-T';
  return hasDocTs ? 'PAdES B-LTA' : 'PAdES B-LT';
}

function signatureSection(m: ConsoleMessages, r: ValidationReport, s: SignatureReport, n: number): string {
  const tone = TONE[s.indication] ?? 'warn';
  const time = s.bestSignatureTimeFromPoe
    ? `${vnDateTime(s.bestSignatureTime)} — ${m.timeProven}`
    : s.claimedSigningTime
      ? `${vnDateTime(s.claimedSigningTime)} — ${m.timeClaimed}`
      : '—';
  const rows = s.checks
    .map((c) => {
      const t = c.status === 'passed' ? 'ok' : c.status === 'failed' ? 'bad' : 'warn';
      return `<tr class="row-${t}"><th scope="row">${esc(c.name)}</th><td><span class="pill pill-${t}">${esc(m.checkStatus[c.status])}</span></td><td>${esc(c.detail ?? '')}${
        c.subIndication ? ` <code>${esc(c.subIndication)}</code>` : ''
      }</td></tr>`;
    })
    .join('\n');
  return `<section class="card sig sig-${tone}" aria-labelledby="${esc(s.id)}-h" data-signature="${esc(s.id)}" data-indication="${esc(s.indication)}">
<h3 id="${esc(s.id)}-h">${esc(m.sigHeading(n, s.type))} <span class="pill pill-${tone}">${esc(m.indication[s.indication])}</span>${s.subIndication ? ` <code>${esc(s.subIndication)}</code>` : ''}</h3>
<dl class="fields"><dt>${esc(m.signer)}</dt><dd data-field="signer">${esc(who(s.signerSubject))}</dd>
<dt>${esc(m.issuer)}</dt><dd>${esc(who(s.signerIssuer))}</dd>
<dt>${esc(m.signingTime)}</dt><dd>${esc(time)}</dd>
<dt>${esc(m.level)}</dt><dd data-field="level">${esc(signatureLevel(r, s))}</dd>
<dt>${esc(m.coversWhole)}</dt><dd>${esc(s.coversWholeDocument ? m.yes : m.no)}</dd></dl>
<div class="table-wrap"><table class="checks-table"><caption>${esc(m.checksCaption)}</caption><thead><tr><th scope="col">${esc(m.checkCol)}</th><th scope="col">${esc(m.resultCol)}</th><th scope="col">${esc(m.detailCol)}</th></tr></thead>
<tbody>${rows}</tbody></table></div></section>`;
}

function changesSection(m: ConsoleMessages, revisions: readonly RevisionReport[]): string {
  const changed = revisions.filter((x) => x.changes.length > 0);
  const items = changed
    .map((x) => {
      const bad = x.verdict === 'not-allowed';
      return `<li class="revision ${bad ? 'revision-bad' : ''}" data-revision="${x.index}" data-verdict="${esc(x.verdict)}"><strong>${esc(m.revision(x.index))}</strong>: <span class="pill pill-${bad ? 'bad' : 'ok'}">${esc(bad ? m.changeNotAllowed : m.changeAllowed)}</span>
<ul>${x.changes
        .map((c) => `<li class="${c.allowed ? '' : 'change-bad'}" data-allowed="${c.allowed}">${esc(c.kind)} <code>${esc(c.object)}</code>: ${esc(c.reason)}${c.allowed ? '' : ` — <strong>${esc(m.changeNotAllowed)}</strong>`}</li>`)
        .join('')}</ul></li>`;
    })
    .join('\n');
  return `<section aria-labelledby="changes-h" id="changes"><h2 id="changes-h">${esc(m.changesHeading)}</h2>${
    items ? `<ol class="revisions">${items}</ol>` : `<p data-changes="none">${esc(m.noChanges)}</p>`
  }</section>`;
}

function uploadForm(m: ConsoleMessages, lang: PageFrame['lang']): string {
  return `<form id="report-form" class="card" method="post" action="${esc(withLang('/report', lang))}" enctype="multipart/form-data">
<div class="drop" id="drop-zone"><label for="report-file">${esc(m.reportFile)}</label><span class="hint" id="report-hint">${esc(m.reportHint)}</span>
<input type="file" id="report-file" name="file" accept="application/pdf,.pdf" required aria-describedby="report-hint report-privacy"></div>
<p class="hint" id="report-privacy">${esc(m.reportPrivacy)}</p>
<button type="submit">${esc(m.reportButton)}</button></form>`;
}

export function renderReportForm(f: PageFrame): string {
  const m = CONSOLE_MESSAGES[f.lang];
  const body = `<h1>${esc(m.reportHeading)}</h1><p>${esc(m.reportLead)}</p>${uploadForm(m, f.lang)}`;
  return layout({ ...f, who: null, page: 'report', title: m.reportHeading }, body);
}

export function renderReportResult(f: PageFrame, r: ValidationReport): string {
  const m = CONSOLE_MESSAGES[f.lang];
  const tone = TONE[r.documentIndication] ?? 'warn';
  const sigs = r.signatures.map((s, i) => signatureSection(m, r, s, i + 1)).join('\n');
  const body = `<section class="verdict verdict-${tone}" aria-labelledby="verdict-h"><h1 id="verdict-h" data-indication="${esc(r.documentIndication)}">${esc(m.verdictHeading)}: ${esc(m.indication[r.documentIndication])}</h1>
<p>${esc(m.indicationLead[r.documentIndication])}</p>
<p class="meta">${esc(m.fileLabel)}: <strong>${esc(r.source)}</strong> · ${esc(m.validatedAt)}: ${esc(vnDateTime(r.validationTime))} · ${esc(m.policy)}: ${esc(r.policyName)}</p>
${r.document.error ? `<p class="error">${esc(m.documentError)}: <code>${esc(r.document.error.code)}</code> ${esc(r.document.error.message)}</p>` : ''}</section>
${sigs}
${r.signatures.length ? changesSection(m, r.revisions) : ''}
<h2>${esc(m.anotherFile)}</h2>${uploadForm(m, f.lang)}`;
  return layout({ ...f, who: null, page: 'report', title: `${m.verdictHeading}: ${m.indication[r.documentIndication]}` }, body);
}

export function renderReportMessage(f: PageFrame, heading: string, text: string): string {
  const m = CONSOLE_MESSAGES[f.lang];
  const body = `<h1>${esc(heading)}</h1><p class="error" role="alert">${esc(text)}</p>${uploadForm(m, f.lang)}`;
  return layout({ ...f, who: null, page: 'report', title: heading }, body);
}

/** A file that could not be checked: the reason in the page's language (the English detail only for a code the pages do not explain). */
export function renderReportProblem(f: PageFrame, err: AppError): string {
  const m = CONSOLE_MESSAGES[f.lang];
  return renderReportMessage(f, m.errorHeading, explainProblem(m, err.code, err.details) ?? err.message);
}
