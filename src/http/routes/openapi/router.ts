/**
 * GET /openapi.json — the OpenAPI 3.1 document; GET /api — the same as a page for people
 * (server-rendered, no scripts, no third-party assets).
 */
import Router from '@koa/router';
import type { AppState } from '../../middleware.ts';
import { OPERATIONS, type Operation } from '../../operations.ts';

const esc = (s: unknown): string =>
  String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function renderPage(doc: Record<string, unknown>, ops: readonly Operation[]): string {
  const info = doc.info as { title: string; version: string; description: string };
  const paramsOf = (op: Operation): string => {
    const shape = { ...op.pathParams?.shape, ...op.query?.shape };
    const names = Object.keys(shape);
    return names.length ? `<p class="p">Parameters: ${names.map((n) => `<code>${esc(n)}</code>`).join(', ')}</p>` : '';
  };
  const rows = ops
    .map(
      (op) => `<section><h3><span class="m">${op.method}</span> <code>${esc(op.path)}</code></h3>
<p>${esc(op.summary)}</p>${op.description ? `<p>${esc(op.description)}</p>` : ''}
<p class="a">${op.access === 'public' ? 'Public' : `API key with scope <code>${esc(op.access)}</code>`}${op.idempotent ? ' · accepts <code>Idempotency-Key</code>' : ''}</p>${paramsOf(op)}</section>`,
    )
    .join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(info.title)} API ${esc(info.version)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:50rem;margin:1rem auto;padding:0 1rem;color:#111}
section{border-top:1px solid #ddd;padding:.25rem 0}h3{margin:.5rem 0 .25rem}.m{background:#234;color:#fff;padding:0 .4rem;border-radius:3px;font-size:.85em}
.a{color:#444;font-size:.9em}.p{font-size:.9em}code{background:#f3f3f3;padding:0 .2rem}</style></head>
<body><main><h1>${esc(info.title)} API <small>${esc(info.version)}</small></h1><p>${esc(info.description)}</p>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).</p>
${rows}</main></body></html>`;
}

export function openApiRouter(document: Record<string, unknown>): Router<AppState> {
  const router = new Router<AppState>({ sensitive: true });
  const json = JSON.stringify(document);
  const page = renderPage(document, OPERATIONS);
  router.get('/openapi.json', (ctx) => {
    ctx.type = 'application/json';
    ctx.body = json;
  });
  router.get('/api', (ctx) => {
    ctx.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'");
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = page;
  });
  return router;
}
