/**
 * GET /v/{code} — what the QR code opens: is this certified copy genuine and still valid? Only the
 * fields domain.md allows (never the requester, never the document image). Server-rendered HTML,
 * Vietnamese first with English, no scripts or third-party requests; JSON with Accept: application/json.
 * (The full page with local file hashing and the access-code view comes with the web pages.)
 */
import Router from '@koa/router';
import type { AppState } from '../../middleware.ts';
import type { CopyRepository, PublicCopyView } from '../../../registry/index.ts';

const esc = (s: unknown): string =>
  String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const vnDate = (d: Date): string => new Date(d.getTime() + 7 * 3600_000).toISOString().slice(0, 10).split('-').reverse().join('/');

function page(title: string, body: string, status: 'ok' | 'bad' | 'none'): string {
  const colour = status === 'ok' ? '#0a5d1a' : status === 'bad' ? '#a00000' : '#444';
  return `<!doctype html><html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title><style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:1rem auto;padding:0 1rem;color:#111}
h1{color:${colour}}dt{font-weight:600;margin-top:.5rem}dd{margin:0;word-break:break-all}</style></head><body><main>${body}</main></body></html>`;
}

function render(v: PublicCopyView): string {
  const valid = v.status === 'valid';
  const head = valid ? 'Còn hiệu lực <small>(valid)</small>' : 'Đã bị hủy bỏ giá trị pháp lý <small>(annulled)</small>';
  const annul = v.annulment
    ? `<p>Quyết định số <strong>${esc(v.annulment.decisionNumber)}</strong> ngày ${esc(v.annulment.decisionDate)}: ${esc(v.annulment.reason)}</p>`
    : '';
  return page(
    'Tra cứu bản sao chứng thực',
    `<h1>${head}</h1>${annul}<dl>
<dt>Số chứng thực (number)</dt><dd>${v.number}</dd>
<dt>Quyển số (register volume)</dt><dd>${esc(v.volume)}</dd>
<dt>Ngày chứng thực (date)</dt><dd>${vnDate(v.certifiedAt)}</dd>
<dt>Cơ quan chứng thực (agency)</dt><dd>${esc(v.agency)}</dd>
<dt>Người chứng thực (certifier)</dt><dd>${esc(v.certifierName)} — ${esc(v.certifierTitle)}</dd>
<dt>Loại giấy tờ (document type)</dt><dd>${esc(v.documentType)}</dd>
<dt>Số trang bản chính (pages of the original)</dt><dd>${v.originalPages}</dd>
<dt>SHA-256 của bản sao (of the certified file)</dt><dd><code>${esc(v.pdfSha256)}</code></dd>
<dt>Chứng thư ký (signer certificate)</dt><dd>${esc(v.signerCertificate.subject)}</dd>
${v.agencyCertificate ? `<dt>Chứng thư con dấu (seal certificate)</dt><dd>${esc(v.agencyCertificate.subject)}</dd>` : ''}
${v.timestampAt ? `<dt>Dấu thời gian (timestamp)</dt><dd>${esc(v.timestampAt.toISOString())}</dd>` : ''}
</dl>`,
    valid ? 'ok' : 'bad',
  );
}

export function verificationRouter(deps: { copies: CopyRepository }): Router<AppState> {
  const router = new Router<AppState>();
  router.get('/v/:code', (ctx) => {
    const code = ctx.params.code ?? '';
    const view = /^[A-Za-z0-9-]{8,64}$/.test(code) ? deps.copies.findByPublicCode(code) : null;
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Referrer-Policy', 'no-referrer');
    const wantsJson = ctx.accepts('html', 'json') === 'json';
    ctx.state.log.info({ lookup: 'public-code', found: view !== null }, 'public verification lookup');
    if (!view) {
      ctx.status = 404;
      if (wantsJson) ctx.body = { status: 'not-found' };
      else ctx.body = page('Không tìm thấy', '<h1>Không tìm thấy <small>(not found)</small></h1><p>Mã tra cứu không tồn tại.</p>', 'none');
      return;
    }
    ctx.body = wantsJson ? view : render(view);
    if (!wantsJson) ctx.type = 'text/html; charset=utf-8';
  });
  return router;
}
