/**
 * Authentication and authorization of API calls.
 *
 * - Credentials: `Authorization: Bearer ck_<prefix>_<secret>` (RFC 6750 §2.1). The key is checked
 *   against the database on every request (constant-time hash comparison, revocation read fresh:
 *   a revoked key stops working at the next request), then its optional CIDR restriction.
 * - Each catalogued operation says what it needs (src/http/operations.ts): `public`, or one scope.
 *   A route missing from the catalogue needs an authenticated caller (fail closed).
 * - Failures: 401 `unauthenticated` with `WWW-Authenticate: Bearer` (RFC 6750 §3), 403
 *   `forbidden-scope` / `forbidden-address`, 429 `too-many-requests` once an address has failed too often.
 * - With `mode: 'off'` (development only) nothing is demanded, but a presented key is still checked
 *   and bound, so audit rows name it.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import type { Middleware } from 'koa';
import type { ApiKey, ApiKeyRepository, ApiScope } from '../../registry/index.ts';
import type { AppState } from '../middleware.ts';
import type { OperationIndex } from '../operations.ts';
import { HttpError } from '../problem.ts';
import type { FailureThrottle } from './FailureThrottle.ts';

export interface AccessDeps {
  mode: 'required' | 'off';
  apiKeys: ApiKeyRepository;
  throttle: FailureThrottle;
  operations: OperationIndex;
}

const REALM = 'Bearer realm="chungthuc"';

/** `::ffff:192.0.2.1` (an IPv4 client on a dual-stack socket) → `192.0.2.1`. */
export function clientAddress(ip: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return m ? m[1]! : ip;
}

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

export function authenticate(deps: AccessDeps): Middleware<AppState> {
  return async (ctx, next) => {
    const op = deps.operations.match(ctx.method, ctx.path);
    ctx.state.operation = op;
    ctx.state.principal = { kind: 'public' };
    const ip = clientAddress(ctx.ip);
    const header = ctx.get('authorization');
    if (header !== '') {
      const wait = deps.throttle.retryAfterSeconds(ip);
      if (wait > 0) {
        ctx.state.authFailure = { reason: 'throttled' };
        ctx.set('Retry-After', String(wait));
        throw new HttpError('too-many-requests', `too many failed authentications from this address; retry in ${wait} s`, {
          status: 429,
          retryable: true,
          details: { retryAfterSeconds: wait },
        });
      }
      const key = checkKey(deps, header, ctx, ip);
      ctx.state.principal = { kind: 'api-key', keyId: key.id, tenantId: key.tenantId, scopes: key.scopes };
      deps.apiKeys.touch(key);
    }
    const needs: ApiScope | 'public' | 'authenticated' = op?.access ?? 'authenticated';
    if (needs !== 'public' && deps.mode === 'required') {
      const p = ctx.state.principal;
      if (p.kind !== 'api-key') throw unauthenticated(ctx, 'this operation needs an API key: Authorization: Bearer ck_…', false);
      if (needs !== 'authenticated' && !p.scopes.includes(needs)) {
        throw new HttpError('forbidden-scope', `the API key lacks the "${needs}" scope`, { status: 403, details: { requiredScope: needs } });
      }
    }
    await next();
  };
}

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
