/** Plain values of officer accounts and their sessions: what OfficerRepository and SessionRepository take and return. */
import type { OfficerRole } from './accessTypes.ts';

export interface Officer {
  readonly id: string;
  readonly tenantId: string;
  /** Lower-case, [a-z0-9._-]{3,64}, unique across the service. */
  readonly username: string;
  /** Printed on the stamp as the certifier's name. */
  readonly displayName: string;
  /** Chức danh printed on the stamp, e.g. "Phó Chủ tịch UBND xã". */
  readonly title: string;
  readonly role: OfficerRole;
  /** HSM label of the officer's personal key (one of the tenant's allowed keys), or null. */
  readonly signingKeyLabel: string | null;
  readonly disabledAt: Date | null;
  readonly lockedUntil: Date | null;
  readonly failedLogins: number;
  readonly createdAt: Date;
  readonly createdBy: string;
  readonly passwordChangedAt: Date;
}

export interface NewOfficer {
  readonly tenantId: string;
  readonly username: string;
  readonly displayName: string;
  readonly title: string;
  readonly role: OfficerRole;
  readonly signingKeyLabel?: string | null | undefined;
  readonly password: string;
  /** Who created it, e.g. `cli:alice`, `officer:<id>`. */
  readonly createdBy: string;
}

export interface OfficerChanges {
  readonly displayName?: string | undefined;
  readonly title?: string | undefined;
  readonly role?: OfficerRole | undefined;
  /** null removes the personal key. */
  readonly signingKeyLabel?: string | null | undefined;
}

/** How an officer proved who they are; the session does not care which. */
export type AuthMethod = 'password' | 'oidc';

export interface Session {
  /** SHA-256 (hex) of the cookie secret. */
  readonly id: string;
  readonly officerId: string;
  readonly csrfToken: string;
  readonly authMethod: AuthMethod;
  readonly createdAt: Date;
  readonly lastSeenAt: Date;
  /** Absolute expiry; the idle expiry is lastSeenAt + the idle timeout. */
  readonly expiresAt: Date;
  readonly ip: string | null;
  readonly userAgent: string | null;
  readonly revokedAt: Date | null;
}

export interface SessionTimeouts {
  /** Sliding: a session unused this long ends. */
  readonly idleMs: number;
  /** A session ends this long after login however busy it is. */
  readonly absoluteMs: number;
}

/** One of a tenant's HSM keys as an administrator assigns them (OfficerRepository.signingKeys). */
export interface TenantSigningKey {
  readonly label: string;
  /** The agency seal's key; a key held by an active officer; or a key no one holds. */
  readonly use: 'seal' | 'personal' | 'free';
  /** The active officer whose personal key it is. */
  readonly holder: { readonly id: string; readonly username: string } | null;
}
