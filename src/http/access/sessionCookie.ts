/**
 * The officer session cookie `ct_session` (RFC 6265): HttpOnly (no script reads it), SameSite=Strict
 * (never sent on cross-site requests — the first CSRF defence; the per-session token is the second),
 * Path=/, Secure when the service is published over https. No Max-Age: the cookie ends with the
 * browser session and the server ends it earlier (idle / absolute timeouts). Written by hand rather
 * than with ctx.cookies, which refuses Secure on the plain-HTTP hop behind a TLS-terminating proxy.
 */
import type { Context } from 'koa';

export const SESSION_COOKIE = 'ct_session';
export const CSRF_HEADER = 'x-csrf-token';
export const CSRF_FIELD = '_csrf';

export interface CookieOptions {
  secure: boolean;
}

export function readSessionCookie(ctx: Context): string | undefined {
  const header = ctx.get('cookie');
  if (header === '') return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function attributes(o: CookieOptions): string {
  return `Path=/; HttpOnly; SameSite=Strict${o.secure ? '; Secure' : ''}`;
}

export function setSessionCookie(ctx: Context, secret: string, o: CookieOptions): void {
  ctx.append('Set-Cookie', `${SESSION_COOKIE}=${secret}; ${attributes(o)}`);
  // The answer carries a credential: no shared cache may keep it.
  ctx.set('Cache-Control', 'no-store');
}

export function clearSessionCookie(ctx: Context, o: CookieOptions): void {
  ctx.append('Set-Cookie', `${SESSION_COOKIE}=; ${attributes(o)}; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT`);
}
