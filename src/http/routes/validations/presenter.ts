/**
 * A human-readable rendering of a validation report (server-rendered, no scripts, no third-party
 * requests). Vietnamese first with English in parentheses.
 */
import type { ValidationReport } from '../../../pades/validation/index.ts';

const esc = (s: unknown): string =>
  String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const WORDS: Record<string, { vi: string; en: string; cls: string }> = {
  'TOTAL-PASSED': { vi: 'Hợp lệ', en: 'valid', cls: 'ok' },
  INDETERMINATE: { vi: 'Chưa xác định', en: 'indeterminate', cls: 'warn' },
  'TOTAL-FAILED': { vi: 'Không hợp lệ', en: 'invalid', cls: 'bad' },
  NO_SIGNATURE: { vi: 'Không có chữ ký', en: 'no signature', cls: 'warn' },
};

function verdict(indication: string): string {
  const w = WORDS[indication] ?? { vi: indication, en: indication, cls: 'warn' };
  return `<span class="v ${w.cls}">${esc(w.vi)} <small>(${esc(w.en)})</small></span>`;
}

export function renderReportHtml(r: ValidationReport): string {
  const sigs = r.signatures
    .map(
      (s) => `<section><h2>${esc(s.fieldName)} — ${s.type === 'document-timestamp' ? 'Dấu thời gian tài liệu (document timestamp)' : 'Chữ ký (signature)'}</h2>
<p>${verdict(s.indication)} ${s.subIndication ? `<code>${esc(s.subIndication)}</code>` : ''}</p>
<dl><dt>Người ký (signer)</dt><dd>${esc(s.signerSubject ?? '—')}</dd>
<dt>Thời điểm ký (signing time)</dt><dd>${esc(s.bestSignatureTime ?? s.claimedSigningTime ?? '—')}</dd>
<dt>Phủ toàn bộ tài liệu (covers whole document)</dt><dd>${s.coversWholeDocument ? 'Có (yes)' : 'Không (no)'}</dd></dl>
<table><thead><tr><th>Kiểm tra (check)</th><th>Kết quả (result)</th><th>Chi tiết (detail)</th></tr></thead><tbody>
${s.checks.map((c) => `<tr class="${c.status === 'passed' ? 'ok' : c.status === 'failed' ? 'bad' : 'warn'}"><td>${esc(c.name)}</td><td>${esc(c.status)}</td><td>${esc(c.detail ?? '')}</td></tr>`).join('\n')}
</tbody></table></section>`,
    )
    .join('\n');
  const revs = r.revisions
    .filter((x) => x.changes.length > 0)
    .map(
      (x) => `<li>Phiên bản ${x.index} (revision ${x.index}): ${esc(x.verdict)}<ul>${x.changes
        .map((c) => `<li class="${c.allowed ? 'ok' : 'bad'}">${esc(c.object)} — ${esc(c.kind)}: ${esc(c.reason)}</li>`)
        .join('')}</ul></li>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Kết quả kiểm tra chữ ký — ${esc(r.source)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem;color:#111}
.v{font-weight:700;padding:.1rem .4rem;border-radius:.2rem}.ok{color:#0a5d1a}.bad{color:#a00000}.warn{color:#7a4b00}
.v.ok{background:#e3f5e6}.v.bad{background:#fbe4e4}.v.warn{background:#fff1d6}table{border-collapse:collapse;width:100%}
td,th{border:1px solid #ccc;padding:.3rem;text-align:left;vertical-align:top}dt{font-weight:600}</style></head>
<body><main><h1>Kết quả kiểm tra chữ ký số <small>(signature validation report)</small></h1>
<p>Tệp (file): <strong>${esc(r.source)}</strong> · Chính sách (policy): ${esc(r.policyName)} · ${esc(r.validationTime)}</p>
<p>Kết luận (verdict): ${verdict(r.documentIndication)}</p>
${r.document.error ? `<p class="bad">Lỗi (error): <code>${esc(r.document.error.code)}</code> ${esc(r.document.error.message)}</p>` : ''}
${sigs}
<h2>Thay đổi sau khi ký (changes after signing)</h2>${revs ? `<ul>${revs}</ul>` : '<p>Không có (none).</p>'}
</main></body></html>`;
}
