/**
 * Who certifies a copy requested over HTTP (domain.md: the certifier signs with their own key and is
 * named on the stamp). An officer signed in certifies as themselves, with their account's title,
 * display name and personal HSM key. A calling system (API key) names the officer in the field
 * `certifier`: an active officer or supervisor of the key's own tenant. Unknown, disabled,
 * other-tenant and admin accounts get the same answer, so the field cannot probe other tenants.
 */
import type { Officer, OfficerRepository } from '../../../registry/index.ts';
import type { Principal } from '../../middleware.ts';
import { HttpError } from '../../problem.ts';

export type OfficerDirectory = Pick<OfficerRepository, 'get' | 'getByUsername'>;

export interface ResolvedCertifier {
  officer: Officer;
  keyLabel: string;
  /** Recorded as the register event's actor. */
  actor: string;
}

/** The caller's tenant; tenant-scoped routes refuse callers without one (API_AUTH=off, anonymous). */
export function tenantOf(principal: Principal | undefined): string {
  if (principal?.kind === 'api-key' || principal?.kind === 'officer') return principal.tenantId;
  throw new HttpError('unauthenticated', 'this operation needs a signed-in officer or an API key of a tenant', { status: 401 });
}

/** `officer:<username>` or `api-key:<id>`: who did it, for the register and the refusal record. */
export function actorOf(principal: Principal | undefined): string {
  if (principal?.kind === 'officer') return `officer:${principal.username}`;
  if (principal?.kind === 'api-key') return `api-key:${principal.keyId}`;
  return 'public';
}

const CERTIFYING_ROLES = new Set(['officer', 'supervisor']);

/** The officer account that certifies, without checking its signing key (the preview needs only name and title). */
export function certifyingOfficer(officers: OfficerDirectory, principal: Principal | undefined, named: string | undefined): Officer {
  const tenantId = tenantOf(principal);
  if (principal?.kind === 'officer') {
    if (named !== undefined && named !== principal.username) {
      throw new HttpError('certifier-not-allowed', 'an officer certifies as themselves; leave out the "certifier" field', { status: 422 });
    }
    const own = officers.get(principal.officerId);
    if (!own || own.tenantId !== tenantId || own.disabledAt !== null) throw new HttpError('unauthenticated', 'the officer account is no longer active', { status: 401 });
    return own;
  }
  if (named === undefined) {
    throw new HttpError('certifier-required', 'an API-key caller must name the certifying officer in the "certifier" field (username)', { status: 422 });
  }
  const o = officers.getByUsername(named);
  if (!o || o.tenantId !== tenantId || o.disabledAt !== null || !CERTIFYING_ROLES.has(o.role)) {
    throw new HttpError('certifier-not-found', `no active officer or supervisor "${named}" in this tenant`, { status: 422 });
  }
  return o;
}

export function resolveCertifier(
  officers: OfficerDirectory,
  maySignWith: (tenantId: string, label: string) => boolean,
  principal: Principal | undefined,
  named: string | undefined,
): ResolvedCertifier {
  const officer = certifyingOfficer(officers, principal, named);
  if (officer.signingKeyLabel === null) {
    throw new HttpError('officer-has-no-signing-key', `officer "${officer.username}" has no personal signing key; an administrator must assign one`, { status: 409 });
  }
  if (!maySignWith(officer.tenantId, officer.signingKeyLabel)) {
    throw new HttpError('signing-key-not-allowed', `the HSM key of officer "${officer.username}" is not assigned to this tenant`, { status: 403 });
  }
  const actor = principal?.kind === 'api-key' ? `api-key:${principal.keyId} for officer:${officer.username}` : `officer:${officer.username}`;
  return { officer, keyLabel: officer.signingKeyLabel, actor };
}
