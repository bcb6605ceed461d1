/**
 * Headers of our server-rendered pages: their own CSP, no MIME sniffing, the given referrer policy,
 * never cached (they may show a register entry or a signed-in officer), HTML in UTF-8.
 */
import type { Context } from 'koa';

export function htmlPageHeaders(ctx: Context, csp: string, referrer: 'no-referrer' | 'same-origin'): void {
  ctx.set('Content-Security-Policy', csp);
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Referrer-Policy', referrer);
  ctx.set('Cache-Control', 'no-store');
  ctx.type = 'text/html; charset=utf-8';
}
