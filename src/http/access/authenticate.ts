/**
 * Authentication and authorization of HTTP calls.
 *
 * - Credentials, one per request:
 *   - `Authorization: Bearer ck_<prefix>_<secret>` (RFC 6750 §2.1), an API key of a calling system.
 *     Checked against the database on every request (constant-time hash comparison, revocation read
 *     fresh: a revoked key stops working at the next request), then its optional CIDR restriction.
 *   - the `ct_session` cookie of an officer signed in through POST /api/v1/session. Also read fresh
 *     on every request: logout, expiry, a password change or a disabled/locked account end it at
 *     once. Unsafe methods (not GET/HEAD/OPTIONS) must prove they come from our own pages with the
 *     session's CSRF token (header `X-CSRF-Token`, or form field `_csrf` in a urlencoded form) →
 *     else 403 `csrf-failed`. Bearer requests carry no ambient credential and need no token.
 * - Each catalogued operation says what it needs (src/http/operations.ts): `public`,
 *   `authenticated`, or one scope (officers hold their role's scopes, ROLE_SCOPES). A route missing
 *   from the catalogue needs an authenticated caller (fail closed).
 * - Failures: 401 `unauthenticated` with `WWW-Authenticate: Bearer` (RFC 6750 §3), 403
 *   `forbidden-scope` / `forbidden-address` / `csrf-failed`, 429 `too-many-requests` once an address
 *   has failed too often.
 * - With `mode: 'off'` (development only) nothing is demanded, but presented credentials are still
 *   checked and bound, so audit rows name the caller; tenant-scoped handlers still need a caller
 *   (`callerOf`), since an anonymous request belongs to no tenant.
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import type { Context, Middleware } from 'koa';
import type { ApiKey, ApiKeyRepository, ApiScope } from '../../registry/index.ts';
import type { OfficerSessions } from '../../services/officerSessions.ts';
import { readBody } from '../body.ts';
import type { AppState, Principal } from '../middleware.ts';
import type { OperationIndex } from '../operations.ts';
import { HttpError } from '../problem.ts';
import type { FailureThrottle } from './FailureThrottle.ts';
import { clearSessionCookie, CSRF_FIELD, CSRF_HEADER, readSessionCookie, type CookieOptions } from './sessionCookie.ts';
import { clientAddress } from './trustProxy.ts';

export { clientAddress } from './trustProxy.ts';

export interface AccessDeps {
  mode: 'required' | 'off';
  apiKeys: ApiKeyRepository;
  throttle: FailureThrottle;
  operations: OperationIndex;
  sessions: OfficerSessions;
  cookie: CookieOptions;
}

const REALM = 'Bearer realm="chungthuc"';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** A urlencoded form that carries `_csrf` is small (console forms); uploads use the header. */
const FORM_BYTES = 64 * 1024;

export function addressAllowed(cidrs: readonly string[] | null, ip: string): boolean {
  if (cidrs === null) return true;
  const family = isIPv4(ip) ? 'ipv4' : isIPv6(ip) ? 'ipv6' : undefined;
  if (!family) return false;
  const list = new BlockList();
  for (const c of cidrs) {
    const [addr, bits] = c.split('/');
    list.addSubnet(addr!, Number(bits), isIPv4(addr!) ? 'ipv4' : 'ipv6');
  }
  return list.check(ip, family);
}

function unauthenticated(ctx: { set(k: string, v: string): void }, detail: string, invalidToken: boolean): HttpError {
  // RFC 6750 §3.1: error="invalid_token" when a token was presented but is not acceptable.
  ctx.set('WWW-Authenticate', invalidToken ? `${REALM}, error="invalid_token"` : REALM);
  return new HttpError('unauthenticated', detail, { status: 401 });
}

/** Forms read while checking their `_csrf` field, for the handler (the body stream is consumed). */
const checkedForms = new WeakMap<object, URLSearchParams>();

/** The urlencoded form of a cookie-authenticated request, as read by the CSRF check (undefined if none was). */
export function csrfCheckedForm(ctx: Context): URLSearchParams | undefined {
  return checkedForms.get(ctx.req);
}

const sameSecret = (a: string, b: string): boolean => {
  // Hash first so the comparison is constant-time whatever the lengths.
  const h = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(h(a), h(b));
};

async function csrfTokenOf(ctx: Context): Promise<string> {
  const header = ctx.get(CSRF_HEADER);
  if (header !== '') return header;
  if (!ctx.is('application/x-www-form-urlencoded')) return '';
  const form = new URLSearchParams((await readBody(ctx, FORM_BYTES)).toString('utf8'));
  checkedForms.set(ctx.req, form);
  return form.get(CSRF_FIELD) ?? '';
}

export function authenticate(deps: AccessDeps): Middleware<AppState> {
  return async (ctx, next) => {
    const op = deps.operations.match(ctx.method, ctx.path);
    const needs: ApiScope | 'public' | 'authenticated' = op?.access ?? 'authenticated';
    ctx.state.operation = op;
    ctx.state.principal = { kind: 'public' };
    const ip = clientAddress(ctx.ip);
    const header = ctx.get('authorization');
    let sessionEnded = false;
    if (header !== '') {
      const wait = deps.throttle.retryAfterSeconds(ip);
      if (wait > 0) {
        ctx.state.authFailure = { reason: 'throttled' };
        throw tooManyFailures(ctx, wait);
      }
      const key = checkKey(deps, header, ctx, ip);
      ctx.state.principal = { kind: 'api-key', keyId: key.id, tenantId: key.tenantId, scopes: key.scopes };
      deps.apiKeys.touch(key);
    } else {
      const secret = readSessionCookie(ctx, deps.cookie);
      // Unsafe requests to public operations are served as anonymous: they need no officer, and
      // their bodies belong to their handlers (no CSRF form read here).
      if (secret !== undefined && !(needs === 'public' && !SAFE_METHODS.has(ctx.method))) {
        const who = deps.sessions.resume(secret);
        if (!who) {
          sessionEnded = true;
          clearSessionCookie(ctx, deps.cookie);
        } else {
          if (!SAFE_METHODS.has(ctx.method) && !sameSecret(await csrfTokenOf(ctx), who.session.csrfToken)) {
            ctx.state.authFailure = { reason: 'csrf', officerId: who.officer.id, tenantId: who.officer.tenantId };
            throw new HttpError('csrf-failed', `a signed-in ${ctx.method} needs the session's CSRF token in the ${CSRF_HEADER} header`, { status: 403 });
          }
          ctx.state.principal = {
            kind: 'officer',
            officerId: who.officer.id,
            tenantId: who.officer.tenantId,
            username: who.officer.username,
            role: who.officer.role,
            scopes: who.scopes,
            sessionId: who.session.id,
          };
        }
      }
    }
    if (needs !== 'public' && deps.mode === 'required') checkAccess(ctx, ctx.state.principal, needs, sessionEnded);
    await next();
  };
}

function tooManyFailures(ctx: { set(k: string, v: string): void }, wait: number): HttpError {
  ctx.set('Retry-After', String(wait));
  return new HttpError('too-many-requests', `too many failed authentications from this address; retry in ${wait} s`, {
    status: 429,
    retryable: true,
    details: { retryAfterSeconds: wait },
  });
}

function checkAccess(ctx: { set(k: string, v: string): void }, p: Principal, needs: ApiScope | 'authenticated', sessionEnded: boolean): void {
  if (p.kind === 'public') {
    throw unauthenticated(ctx, sessionEnded ? 'the session has ended: sign in again' : 'this operation needs an API key (Authorization: Bearer ck_…) or an officer session', sessionEnded);
  }
  if (needs !== 'authenticated' && !p.scopes.includes(needs)) {
    const who = p.kind === 'api-key' ? 'the API key lacks' : `the role "${p.role}" lacks`;
    throw new HttpError('forbidden-scope', `${who} the "${needs}" scope`, { status: 403, details: { requiredScope: needs } });
  }
}

/** An authenticated caller (API key or officer): who, and which tenant the request acts for. */
export type Caller = Exclude<Principal, { kind: 'public' }>;

/**
 * For tenant-scoped handlers: the caller, holding `scope` when given. The middleware already did
 * this with API_AUTH=required; with API_AUTH=off it did not, and an anonymous caller has no tenant.
 */
export function callerOf(ctx: Context & { state: AppState }, scope?: ApiScope): Caller {
  const p = ctx.state.principal ?? { kind: 'public' };
  checkAccess(ctx, p, scope ?? 'authenticated', false);
  return p as Caller;
}

/** What audit rows and `created_by` columns record for a caller, e.g. `officer:<id>`. */
export const actorOf = (c: Caller): string => (c.kind === 'api-key' ? `apikey:${c.keyId}` : `officer:${c.officerId}`);

function checkKey(deps: AccessDeps, header: string, ctx: Parameters<Middleware<AppState>>[0], ip: string): ApiKey {
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  const fail = (reason: string, detail: string, key?: ApiKey): never => {
    deps.throttle.fail(ip);
    ctx.state.authFailure = { reason, keyId: key?.id, tenantId: key?.tenantId, prefix: key?.prefix ?? /^ck_([0-9a-f]{12})_/.exec(m?.[1] ?? '')?.[1] };
    throw unauthenticated(ctx, detail, true);
  };
  if (!m) return fail('malformed', 'the Authorization header must read "Bearer <API key>"');
  const r = deps.apiKeys.check(m[1]!);
  if (!r.ok) {
    return r.reason === 'revoked' ? fail('revoked', 'the API key has been revoked', r.key) : fail(r.reason, 'the API key is not valid');
  }
  if (!addressAllowed(r.key.allowedCidrs, ip)) {
    deps.throttle.fail(ip);
    ctx.state.authFailure = { reason: 'address', keyId: r.key.id, tenantId: r.key.tenantId, prefix: r.key.prefix };
    throw new HttpError('forbidden-address', `the API key may not be used from ${ip}`, { status: 403 });
  }
  return r.key;
}

/** Exported for the login route: the same per-address failure budget as API keys. */
export { tooManyFailures };
