/**
 * The officer session cookie `ct_session` (RFC 6265): HttpOnly (no script reads it), SameSite=Strict
 * (never sent on cross-site requests — the first CSRF defence; the per-session token is the second),
 * Path=/, Secure when the service is published over https — and then named `__Host-ct_session`
 * (RFC 6265bis §4.1.3.2): browsers accept that name only with Secure, Path=/ and no Domain, so a
 * sibling subdomain cannot plant one (session fixation). No Max-Age: the cookie ends with the
 * browser session and the server ends it earlier (idle / absolute timeouts). Written by hand rather
 * than with ctx.cookies, which refuses Secure on the plain-HTTP hop behind a TLS-terminating proxy.
 */
import type { Context } from 'koa';

export const SESSION_COOKIE = 'ct_session';
const HOST_SESSION_COOKIE = `__Host-${SESSION_COOKIE}`;
export const CSRF_HEADER = 'x-csrf-token';
export const CSRF_FIELD = '_csrf';

export interface CookieOptions {
  secure: boolean;
}

/** The cookie's name: `__Host-ct_session` over https, `ct_session` on plain http (development). */
export const sessionCookieName = (o: CookieOptions): string => (o.secure ? HOST_SESSION_COOKIE : SESSION_COOKIE);

export function readSessionCookie(ctx: Context, o: CookieOptions): string | undefined {
  const header = ctx.get('cookie');
  if (header === '') return undefined;
  const name = sessionCookieName(o);
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function attributes(o: CookieOptions): string {
  return `Path=/; HttpOnly; SameSite=Strict${o.secure ? '; Secure' : ''}`;
}

export function setSessionCookie(ctx: Context, secret: string, o: CookieOptions): void {
  ctx.append('Set-Cookie', `${sessionCookieName(o)}=${secret}; ${attributes(o)}`);
  // The answer carries a credential: no shared cache may keep it.
  ctx.set('Cache-Control', 'no-store');
}

export function clearSessionCookie(ctx: Context, o: CookieOptions): void {
  ctx.append('Set-Cookie', `${sessionCookieName(o)}=; ${attributes(o)}; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT`);
}
