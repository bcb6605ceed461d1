/** JSON shapes of the account routes (camelCase, ISO 8601 instants, never a secret or a hash). */
import { ROLE_SCOPES, type ApiKey, type AuditRecord, type Officer } from '../../../registry/index.ts';
import type { SignedInOfficer } from '../../../services/officerSessions.ts';

const iso = (d: Date | null): string | null => d?.toISOString() ?? null;

export function officerJson(o: Officer, now = new Date()) {
  return {
    id: o.id,
    tenantId: o.tenantId,
    username: o.username,
    displayName: o.displayName,
    title: o.title,
    role: o.role,
    scopes: ROLE_SCOPES[o.role],
    signingKeyLabel: o.signingKeyLabel,
    disabled: o.disabledAt !== null,
    disabledAt: iso(o.disabledAt),
    // A lock that has run out is not shown.
    lockedUntil: o.lockedUntil !== null && o.lockedUntil > now ? o.lockedUntil.toISOString() : null,
    createdAt: o.createdAt.toISOString(),
    passwordChangedAt: o.passwordChangedAt.toISOString(),
  };
}

export function sessionJson(s: SignedInOfficer, endsAt: Date) {
  const o = s.officer;
  return {
    officer: {
      id: o.id,
      username: o.username,
      displayName: o.displayName,
      title: o.title,
      role: o.role,
      scopes: s.scopes,
      signingKeyLabel: o.signingKeyLabel,
      tenant: { id: s.tenant.id, code: s.tenant.code, name: s.tenant.name },
    },
    csrfToken: s.session.csrfToken,
    expiresAt: endsAt.toISOString(),
  };
}

export function apiKeyJson(k: ApiKey) {
  return {
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    scopes: k.scopes,
    allowedCidrs: k.allowedCidrs,
    createdAt: k.createdAt.toISOString(),
    createdBy: k.createdBy,
    revokedAt: iso(k.revokedAt),
    lastUsedAt: iso(k.lastUsedAt),
  };
}

export function auditJson(r: AuditRecord) {
  return { ...r, at: r.at.toISOString() };
}

/** `{ items, nextCursor }`: `rows` holds up to limit + 1 items; the extra one only says there is more. */
export function pageOf<T, J>(rows: readonly T[], limit: number, cursorOf: (t: T) => string, view: (t: T) => J): { items: J[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  return { items: items.map(view), nextCursor: rows.length > limit && items.length > 0 ? cursorOf(items[items.length - 1]!) : null };
}
