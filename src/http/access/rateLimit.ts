/**
 * Request rate limits of the API (/api/… and /tsa): one token bucket per caller (API key or
 * officer) and one per client address, whichever runs dry first answers 429 `rate-limited` with
 * Retry-After (RFC 6585 §4). Runs after authentication, so a caller's bucket is theirs whatever
 * address they come from, and before any body is read. In memory, per process (see TokenBuckets);
 * the public verification pages have their own, stricter buckets.
 */
import type { Middleware } from 'koa';
import type { AppState } from '../middleware.ts';
import { HttpError } from '../problem.ts';
import { TokenBuckets } from '../routes/verification/rateLimit.ts';
import { clientAddress } from './trustProxy.ts';

export interface RateLimitOptions {
  /** Bucket size per API key / officer; 0 turns the per-caller limit off. */
  keyBurst: number;
  keyPerSecond: number;
  /** Bucket size per client address; 0 turns the per-address limit off. */
  ipBurst: number;
  ipPerSecond: number;
}

const LIMITED = /^\/(api\/|tsa$)/;

export function rateLimit(o: RateLimitOptions): Middleware<AppState> {
  const perCaller = o.keyBurst > 0 ? new TokenBuckets({ capacity: o.keyBurst, refillPerSecond: o.keyPerSecond }) : undefined;
  const perIp = o.ipBurst > 0 ? new TokenBuckets({ capacity: o.ipBurst, refillPerSecond: o.ipPerSecond }) : undefined;
  return async (ctx, next) => {
    if (LIMITED.test(ctx.path)) {
      const p = ctx.state.principal;
      const caller = p?.kind === 'api-key' ? `key:${p.keyId}` : p?.kind === 'officer' ? `officer:${p.officerId}` : undefined;
      const byIp = perIp?.take(clientAddress(ctx.ip));
      const byCaller = caller === undefined ? undefined : perCaller?.take(caller);
      const denied = byCaller?.ok === false ? { ...byCaller, limit: 'caller' } : byIp?.ok === false ? { ...byIp, limit: 'address' } : undefined;
      if (denied) {
        ctx.set('Retry-After', String(denied.retryAfterSeconds));
        throw new HttpError('rate-limited', `too many requests from this ${denied.limit === 'caller' ? 'API key or officer' : 'address'}; retry in ${denied.retryAfterSeconds} s`, {
          status: 429,
          retryable: true,
          details: { retryAfterSeconds: denied.retryAfterSeconds, limit: denied.limit },
        });
      }
    }
    await next();
  };
}
