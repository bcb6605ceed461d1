/** Cross-cutting Koa middleware: request ids and access logs, the error edge, body-size limits. */
import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { HttpError, sendProblem, toProblem } from './problem.ts';
import type { Operation } from './operations.ts';
import type { ApiScope, OfficerRole } from '../registry/index.ts';

/**
 * Who is calling, bound by the access middleware for the duration of one request. An officer comes
 * from a session cookie; `scopes` are those of the role (ROLE_SCOPES), so checks read one field.
 */
export type Principal =
  | { readonly kind: 'api-key'; readonly keyId: string; readonly tenantId: string; readonly scopes: readonly ApiScope[] }
  | {
      readonly kind: 'officer';
      readonly officerId: string;
      readonly tenantId: string;
      readonly username: string;
      readonly role: OfficerRole;
      readonly scopes: readonly ApiScope[];
      readonly sessionId: string;
    }
  | { readonly kind: 'public' };

export interface AppState {
  requestId: string;
  log: Logger;
  /** Body-size limit of the matched route family, set by `bodyLimit`. */
  bodyLimit: number;
  /** The catalogued operation this request matched (undefined: no such route). */
  operation?: Operation | undefined;
  principal?: Principal;
  /** A failed authentication, for the audit row (never the secret). */
  authFailure?: { reason: string; keyId?: string; officerId?: string; tenantId?: string; prefix?: string };
  /** The stable code of the problem answered, if any (set by the error edge). */
  problemCode?: string;
  /** What the handler wants recorded in the audit row. */
  audit?: { object?: string; details?: Record<string, unknown> };
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The request id: a sane incoming X-Request-Id is kept, else a new one. */
export function requestIdOf(incoming: string): string {
  return REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/** The access log line of a finished request (`started`: process.hrtime.bigint() when it came in). */
export function logRequest(log: Logger, method: string, path: string, status: number, started: bigint): void {
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  log.info({ method, path, status, ms: Math.round(ms * 10) / 10 }, 'request');
}

/** Assigns a request id (a sane incoming X-Request-Id is kept), a child logger, and logs completion. */
export function requestContext(logger: Logger): Middleware<AppState> {
  return async (ctx, next) => {
    const requestId = requestIdOf(ctx.get('x-request-id'));
    ctx.state.requestId = requestId;
    ctx.state.log = logger.child({ reqId: requestId });
    ctx.set('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      logRequest(ctx.state.log, ctx.method, ctx.path, ctx.status, started);
    }
  };
}

/** The edge: any thrown error, and any unmatched route, becomes problem+json. */
export function errorEdge(): Middleware<AppState> {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new HttpError('not-found', `no resource at ${ctx.method} ${ctx.path}`, { status: 404 });
      }
    } catch (err) {
      const problem = toProblem(err, ctx.path, ctx.state.requestId);
      ctx.state.problemCode = problem.code;
      if (problem.status >= 500) ctx.state.log.error({ err, code: problem.code }, 'request failed');
      else ctx.state.log.info({ code: problem.code, detail: problem.detail }, 'request rejected');
      sendProblem(ctx, problem);
    }
  };
}

/**
 * Rejects requests whose declared body exceeds the route's limit before reading a byte. Routes that
 * take uploads (PDFs, scans) get `uploadBytes`; everything else `jsonBytes`. Chunked bodies are
 * bounded again by the body readers while streaming.
 */
export function bodyLimit(limits: { jsonBytes: number; uploadBytes: number }, uploadPaths: readonly RegExp[]): Middleware<AppState> {
  return async (ctx, next) => {
    const limit = uploadPaths.some((re) => re.test(ctx.path)) ? limits.uploadBytes : limits.jsonBytes;
    const declared = ctx.request.length;
    if (declared !== undefined && declared > limit) {
      // Do not read the body; close the connection so the client stops sending.
      ctx.set('Connection', 'close');
      throw new HttpError('body-too-large', `the request body is ${declared} bytes; the limit here is ${limit}`, {
        status: 413,
        details: { limit },
      });
    }
    ctx.state.bodyLimit = limit;
    await next();
  };
}
