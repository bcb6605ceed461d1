/**
 * Headers of our server-rendered pages: their own CSP, no MIME sniffing, the given referrer policy,
 * never cached (they may show a register entry or a signed-in officer), HTML in UTF-8.
 */
import type { Context } from 'koa';
import type { AppError } from '../errors.ts';
import type { AppState } from './middleware.ts';
import { retryAfterOf } from './problem.ts';

export function htmlPageHeaders(ctx: Context, csp: string, referrer: 'no-referrer' | 'same-origin'): void {
  ctx.set(htmlPageHeaderList(csp, referrer));
}

/** The headers `htmlPageHeaders` sets, for an answer written without Koa (the public lookup's fast path). */
export function htmlPageHeaderList(csp: string, referrer: 'no-referrer' | 'same-origin'): Readonly<Record<string, string>> {
  return {
    'Content-Security-Policy': csp,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': referrer,
    'Cache-Control': 'no-store',
    'Content-Type': 'text/html; charset=utf-8',
  };
}

/**
 * An error answered to a person with a page rather than problem+json: its status, and the log line
 * and audit code the error edge would have given it.
 */
export function pagedProblem(ctx: Context & { state: AppState }, err: AppError): void {
  ctx.state.problemCode = err.code;
  if (err.status >= 500) ctx.state.log.error({ err, code: err.code }, 'request failed');
  else ctx.state.log.info({ code: err.code, detail: err.message }, 'request rejected');
  ctx.status = err.status >= 400 && err.status <= 599 ? err.status : 500;
  const retryAfter = retryAfterOf(err.details);
  if (retryAfter !== undefined && (ctx.status === 503 || ctx.status === 429)) ctx.set('Retry-After', retryAfter);
}
