/**
 * Writes one audit row per audited operation (see src/http/operations.ts `audit`) and per failed
 * authentication on any path: who (API key, officer — with their tenant — or the public), what (operation id), to which object
 * (set by the handler in ctx.state.audit), outcome and status, client address, request id.
 * Runs outside the error edge so it sees the final status of every answer.
 */
import type { Middleware } from 'koa';
import type { AuditEntry, AuditLog, AuditOutcome } from '../../registry/index.ts';
import type { AppState } from '../middleware.ts';
import { clientAddress } from './authenticate.ts';

export function outcomeOf(status: number): AuditOutcome {
  if (status < 400) return 'success';
  if (status === 401 || status === 403 || status === 429) return 'denied';
  return status >= 500 ? 'error' : 'rejected';
}

export function auditTrail(log: AuditLog): Middleware<AppState> {
  return async (ctx, next) => {
    try {
      await next();
    } finally {
      const op = ctx.state.operation;
      const failure = ctx.state.authFailure;
      if (op?.audit || failure) {
        const p = ctx.state.principal;
        // Who: the bound caller, else whoever a failed authentication names (key or officer).
        const actor =
          p?.kind === 'api-key'
            ? { kind: 'api-key' as const, id: p.keyId, tenantId: p.tenantId }
            : p?.kind === 'officer'
              ? { kind: 'officer' as const, id: p.officerId, tenantId: p.tenantId }
              : failure?.keyId !== undefined
                ? { kind: 'api-key' as const, id: failure.keyId, tenantId: failure.tenantId ?? null }
                : failure?.officerId !== undefined
                  ? { kind: 'officer' as const, id: failure.officerId, tenantId: failure.tenantId ?? null }
                  : { kind: 'public' as const, id: null, tenantId: null };
        try {
          const row: AuditEntry = {
            actorKind: actor.kind,
            actorId: actor.id,
            tenantId: actor.tenantId,
            action: op?.operationId ?? 'unmatched',
            object: ctx.state.audit?.object ?? null,
            outcome: outcomeOf(ctx.status),
            status: ctx.status,
            ip: clientAddress(ctx.ip),
            requestId: ctx.state.requestId,
            details: {
              method: ctx.method,
              path: ctx.path,
              ...(ctx.state.problemCode ? { code: ctx.state.problemCode } : {}),
              ...(failure ? { authFailure: failure.reason, ...(failure.prefix ? { keyPrefix: failure.prefix } : {}) } : {}),
              ...ctx.state.audit?.details,
            },
          };
          // Anonymous views of public pages (the QR lookups) are hot and low-stakes: written in
          // batches. Refusals, file downloads, failed authentications and everything else are
          // written before the answer.
          const pageView =
            actor.kind === 'public' && !failure && ctx.status < 400 && op?.access === 'public' && op.operationId !== 'verification.file' && (ctx.method === 'GET' || ctx.method === 'HEAD');
          if (pageView) log.appendDeferred(row);
          // The row of an act that is already on disk (a certified copy, an annulment…) goes there too.
          else log.append(row, { durable: op?.durableAct === true && ctx.status < 400 });
        } catch (err) {
          // The answer is already decided; losing an audit row must be loud in the log, not hide the answer.
          ctx.state.log.error({ err }, 'audit write failed');
        }
      }
    }
  };
}
