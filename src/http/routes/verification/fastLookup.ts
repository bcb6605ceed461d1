/**
 * The fast path of GET /v/{code}: what a QR scan opens, the service's hottest route, answered
 * without Koa's per-request objects and middleware chain when the request is the plain case —
 *   GET /v/{code} or /v/{code}?lang=vi|en, no credentials (no Authorization, no Cookie), no body,
 *   a copy found whose stored file's facts are already in (`LookupRoute.knownAnswer`).
 * It does what the chain would do for that request, in the same way and with the same pieces:
 * client address behind trusted proxies (clientResolver), request id and X-Request-Id, the route's
 * per-client bucket, the route's own answer (headers and bytes: LookupRoute.knownAnswer), the lookup
 * and access log lines, request metrics, and the deferred page-view audit row auditTrail writes.
 * Everything else is left to Koa (`false`: nothing was done), and once the bucket was asked, the
 * request is handed over with that answer (`LookupRoute.handOver`), so no request pays two tokens:
 * an unknown code, a copy whose file must first be looked at, a 429, a thrown error (which never
 * escapes the server's request listener).
 * test/http/fastLookup.test.ts proves both paths give the same answer, audit row,
 * log lines and metrics.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import accepts from 'accepts';
import type { Logger } from 'pino';
import { normalizePublicCode, type AuditLog } from '../../../registry/index.ts';
import { logRequest, requestIdOf } from '../../middleware.ts';
import type { ServiceMetrics } from '../../metrics.ts';
import type { Operation } from '../../operations.ts';
import type { TakeResult } from './rateLimit.ts';
import { wantsJsonAnswer, type LookupRoute } from './router.ts';
import type { Lang } from './i18n.ts';

export interface FastLookupDeps {
  readonly route: LookupRoute;
  /** The catalogue's GET /v/{code} (its operation id and path name the audit row and metrics). */
  readonly operation: Operation;
  readonly clientOf: (req: IncomingMessage) => string;
  readonly logger: Logger;
  readonly audit: AuditLog;
  readonly metrics?: ServiceMetrics | undefined;
}

/** Answers the request and returns true, or returns false having left it to Koa. */
export type FastPath = (req: IncomingMessage, res: ServerResponse) => boolean;

/** The plain lookup: a code without anything a router would decode, and at most the language. */
const PLAIN = /^\/v\/([0-9A-Za-z]{1,64})(?:\?lang=(vi|en))?$/;

export function lookupFastPath(deps: FastLookupDeps): FastPath {
  const { route, operation, logger, audit, metrics } = deps;
  /**
   * Whatever throws here is not left to escape the server's request listener (an uncaught exception):
   * before the answer is written the request goes to Koa, which answers the error as the chain does
   * (with the bucket's answer, once it was asked); after it, the failure is logged.
   */
  return (req, res) => {
    let taken: TakeResult | undefined;
    try {
      return answer(req, res, (t) => (taken = t));
    } catch (err) {
      if (res.headersSent) {
        logger.error({ err }, 'public lookup failed after its answer was written');
        return true;
      }
      if (taken) route.handOver(req, taken);
      return false;
    }
  };

  function answer(req: IncomingMessage, res: ServerResponse, took: (t: TakeResult) => void): boolean {
    const started = process.hrtime.bigint();
    if (req.method !== 'GET') return false;
    const m = PLAIN.exec(req.url ?? '');
    const h = req.headers;
    // Credentials bind a caller (its audit row, its checks); a body has its own limit: the chain's.
    if (!m || h.authorization !== undefined || h.cookie !== undefined || h['transfer-encoding'] !== undefined || (h['content-length'] ?? '0') !== '0') return false;
    const code = m[1]!;
    if (normalizePublicCode(code) === null) return false;
    const lang: Lang = m[2] === 'en' ? 'en' : 'vi';
    // As Koa's ctx.accepts('html', 'json') (the same module): given types, one of them or false.
    const json = wantsJsonAnswer(h.accept ?? '', () => accepts(req).types('html', 'json') === 'json' && 'json');
    const client = deps.clientOf(req);
    const taken = route.take(client);
    took(taken);
    // Refused, an unknown code, or a file whose facts are not in yet: the route answers, with this token.
    const found = taken.ok ? route.knownAnswer(code, lang, json) : undefined;
    if (!found) {
      route.handOver(req, taken);
      return false;
    }

    const incomingId = h['x-request-id'];
    const requestId = requestIdOf(typeof incomingId === 'string' ? incomingId : '');
    res.writeHead(200, { 'X-Request-Id': requestId, ...found.headers, 'Content-Length': found.body.length });
    res.end(found.body);

    const path = `/v/${code}`;
    if (logger.isLevelEnabled('info')) {
      const log = logger.child({ reqId: requestId });
      log.info({ lookup: 'public-code', found: true, status: found.copyStatus }, 'public verification lookup');
      logRequest(log, 'GET', path, 200, started);
    }
    metrics?.observeRequest('GET', operation.path, 200, started);
    // auditTrail's row for an anonymous page view (src/http/access/auditTrail.ts), deferred as there.
    try {
      audit.appendDeferred({
        actorKind: 'public',
        actorId: null,
        tenantId: null,
        action: operation.operationId,
        object: null,
        outcome: 'success',
        status: 200,
        ip: client,
        requestId,
        details: { method: 'GET', path },
      });
    } catch (err) {
      logger.error({ err, reqId: requestId }, 'audit write failed');
    }
    return true;
  }
}
