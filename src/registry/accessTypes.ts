/** Plain values of API keys, the audit log and idempotency records: what the access repositories take and return. */

/**
 * What a caller may do. API keys carry scopes; officers get them from their role. `admin` does not
 * imply the others: every grant is explicit (least privilege).
 */
export const API_SCOPES = ['sign', 'validate', 'certify', 'read-registry', 'annul', 'admin'] as const;
export type ApiScope = (typeof API_SCOPES)[number];

/** Officer roles (issue #6): officer certifies; supervisor also annuls; admin manages accounts, keys and volumes. */
export const OFFICER_ROLES = ['officer', 'supervisor', 'admin'] as const;
export type OfficerRole = (typeof OFFICER_ROLES)[number];

/** The scopes each role grants (the authorization matrix test reads this table). */
export const ROLE_SCOPES: Readonly<Record<OfficerRole, readonly ApiScope[]>> = {
  officer: ['certify', 'read-registry', 'validate'],
  supervisor: ['certify', 'read-registry', 'validate', 'annul'],
  admin: ['admin', 'read-registry', 'validate'],
};

export interface ApiKey {
  readonly id: string;
  readonly tenantId: string;
  readonly name: string;
  /** Public part of the key (`ck_<prefix>_…`), safe to show in lists and logs. */
  readonly prefix: string;
  readonly scopes: readonly ApiScope[];
  /** CIDR blocks the key may be used from; null = any address. */
  readonly allowedCidrs: readonly string[] | null;
  readonly createdAt: Date;
  readonly createdBy: string;
  readonly revokedAt: Date | null;
  readonly lastUsedAt: Date | null;
}

export interface NewApiKey {
  readonly tenantId: string;
  readonly name: string;
  readonly scopes: readonly ApiScope[];
  readonly allowedCidrs?: readonly string[] | undefined;
  /** Who created it, e.g. `cli:alice`. */
  readonly createdBy: string;
}

export type ActorKind = 'api-key' | 'officer' | 'public' | 'cli';
export type AuditOutcome = 'success' | 'denied' | 'rejected' | 'error';

export interface AuditEntry {
  readonly actorKind: ActorKind;
  /** The API key id, officer id, CLI user; null for the public. */
  readonly actorId: string | null;
  readonly tenantId: string | null;
  /** A stable verb, e.g. `signatures.create`, `apikey.revoke`. */
  readonly action: string;
  /** What it was done to, e.g. `apikey:<id>`, `signature:Signature1`. */
  readonly object: string | null;
  readonly outcome: AuditOutcome;
  /** HTTP status, for API calls. */
  readonly status?: number | null;
  readonly ip?: string | null;
  readonly requestId?: string | null;
  readonly details?: Readonly<Record<string, unknown>> | null;
}

export interface AuditRecord extends AuditEntry {
  readonly id: number;
  readonly at: Date;
}

export interface AuditQuery {
  readonly since?: Date;
  readonly tenantId?: string;
  /** Only rows after this id (a page's cursor). */
  readonly afterId?: number;
  readonly limit?: number;
}

/** A response stored for replay: status, the headers worth replaying, and the body inline or as a file. */
export interface StoredResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Uint8Array | undefined;
  /** Name of a file in the idempotency store (the HTTP layer owns the folder). */
  readonly file?: string | undefined;
}

export interface IdempotencyRecord {
  readonly id: number;
  readonly key: string;
  readonly apiKeyId: string | null;
  readonly method: string;
  readonly path: string;
  readonly requestHash: string;
  readonly state: 'pending' | 'done';
  readonly response: StoredResponse | null;
  readonly createdAt: Date;
  readonly expiresAt: Date;
}
