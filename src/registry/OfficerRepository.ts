/**
 * Officer accounts of a tenant (issue #6): create, read, change, disable, password changes and the
 * failed-login lockout. Password hashing is async (scrypt), so it happens before the synchronous
 * SQL writes. Changing a password or disabling an account revokes every session of the officer in
 * the same transaction: a stolen cookie dies with the old password.
 */
import { randomUUID } from 'node:crypto';
import { durably, prepared, type Sqlite } from './Database.ts';
import { RegistryError } from './errors.ts';
import { InputError } from '../errors.ts';
import { OFFICER_ROLES, type OfficerRole } from './accessTypes.ts';
import type { NewOfficer, Officer, OfficerChanges, TenantSigningKey } from './officerTypes.ts';
import { DEFAULT_SEAL_KEY_LABEL } from './TenantSettingsRepository.ts';
import { checkPasswordPolicy, hashPassword } from './passwords.ts';
import { text } from './validateEntry.ts';

interface OfficerRow {
  id: string;
  tenant_id: string;
  username: string;
  display_name: string;
  title: string;
  role: OfficerRole;
  signing_key_label: string | null;
  password: string;
  failed_logins: number;
  locked_until: string | null;
  disabled_at: string | null;
  created_at: string;
  created_by: string;
  password_changed_at: string;
}

const USERNAME = /^[a-z0-9._-]{3,64}$/;
const date = (s: string | null): Date | null => (s === null ? null : new Date(s));

const toOfficer = (r: OfficerRow): Officer => ({
  id: r.id,
  tenantId: r.tenant_id,
  username: r.username,
  displayName: r.display_name,
  title: r.title,
  role: r.role,
  signingKeyLabel: r.signing_key_label,
  disabledAt: date(r.disabled_at),
  lockedUntil: date(r.locked_until),
  failedLogins: r.failed_logins,
  createdAt: new Date(r.created_at),
  createdBy: r.created_by,
  passwordChangedAt: new Date(r.password_changed_at),
});

/** Usernames are case-insensitive: `NguyenVanA` and `nguyenvana` are one account. */
export function normalizeUsername(value: unknown): string {
  const u = typeof value === 'string' ? value.trim().toLowerCase() : '';
  if (!USERNAME.test(u)) throw new InputError('invalid-username', 'a username is 3–64 characters of a–z, 0–9, ".", "_" and "-"');
  return u;
}

function role(value: unknown): OfficerRole {
  if (!(OFFICER_ROLES as readonly unknown[]).includes(value)) throw new InputError('invalid-role', `the role must be one of ${OFFICER_ROLES.join(', ')}`);
  return value as OfficerRole;
}

export interface LockoutPolicy {
  /** Failed logins in a row that lock the account. */
  readonly maxFailures: number;
  readonly lockMs: number;
}

export class OfficerRepository {
  constructor(
    private readonly db: Sqlite,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async create(input: NewOfficer): Promise<Officer> {
    const username = normalizeUsername(input.username);
    const hash = await hashPassword(checkPasswordPolicy(input.password));
    const now = this.now().toISOString();
    const row: OfficerRow = {
      id: randomUUID(),
      tenant_id: input.tenantId,
      username,
      display_name: text('displayName', input.displayName?.trim(), 200),
      title: text('title', input.title?.trim(), 200),
      role: role(input.role),
      signing_key_label: input.signingKeyLabel ?? null,
      password: hash,
      failed_logins: 0,
      locked_until: null,
      disabled_at: null,
      created_at: now,
      created_by: text('createdBy', input.createdBy, 200),
      password_changed_at: now,
    };
    this.db.transaction(() => {
      if (this.db.prepare('SELECT 1 FROM tenants WHERE id = ?').get(row.tenant_id) === undefined) {
        throw new RegistryError('tenant-not-found', `no tenant ${row.tenant_id}`, { status: 404 });
      }
      this.checkKey(row.tenant_id, row.signing_key_label, null);
      if (this.db.prepare('SELECT 1 FROM officers WHERE username = ?').get(username) !== undefined) {
        throw new RegistryError('username-taken', `the username "${username}" is taken`, { status: 409 });
      }
      this.db
        .prepare(
          `INSERT INTO officers (id, tenant_id, username, display_name, title, role, signing_key_label, password, failed_logins,
             locked_until, disabled_at, created_at, created_by, password_changed_at)
           VALUES (@id, @tenant_id, @username, @display_name, @title, @role, @signing_key_label, @password, @failed_logins,
             @locked_until, @disabled_at, @created_at, @created_by, @password_changed_at)`,
        )
        .run(row);
    }).immediate();
    return toOfficer(row);
  }

  /**
   * A personal key must be one the tenant may sign with (TenantRepository.allowSigningKey), not the
   * tenant's seal, and no other active officer's: the certifier signs with their OWN key (domain.md),
   * so the name on the stamp and the certificate in the register are the same person's.
   */
  private checkKey(tenantId: string, label: string | null, officerId: string | null): void {
    if (label === null) return;
    text('signingKeyLabel', label, 128);
    if (this.db.prepare('SELECT 1 FROM tenant_signing_keys WHERE tenant_id = ? AND key_label = ?').get(tenantId, label) === undefined) {
      throw new InputError('signing-key-not-allowed', `the HSM key "${label}" is not one of the tenant's keys`, { details: { field: 'signingKeyLabel' } });
    }
    if (label === this.sealKeyOf(tenantId)) {
      throw new InputError('signing-key-is-seal', `"${label}" is the agency seal's key, not a personal key`, { details: { field: 'signingKeyLabel' } });
    }
    const holder = this.db
      .prepare('SELECT username FROM officers WHERE tenant_id = ? AND signing_key_label = ? AND disabled_at IS NULL AND id <> ?')
      .get(tenantId, label, officerId ?? '') as { username: string } | undefined;
    if (holder) {
      throw new RegistryError('signing-key-taken', `the HSM key "${label}" is already the personal key of ${holder.username}`, { status: 409, details: { field: 'signingKeyLabel' } });
    }
  }

  private sealKeyOf(tenantId: string): string {
    const row = this.db.prepare('SELECT seal_key_label FROM tenant_settings WHERE tenant_id = ?').get(tenantId) as { seal_key_label: string } | undefined;
    return row?.seal_key_label ?? DEFAULT_SEAL_KEY_LABEL;
  }

  /**
   * The tenant's HSM keys by label, each with what it is for: the seal's, an active officer's
   * personal key (with the officer), or free to assign (the rules of `checkKey`).
   */
  signingKeys(tenantId: string): TenantSigningKey[] {
    const seal = this.sealKeyOf(tenantId);
    const rows = this.db
      .prepare(
        `SELECT k.key_label AS label, o.id AS holder_id, o.username AS holder_username
         FROM tenant_signing_keys k
         LEFT JOIN officers o ON o.tenant_id = k.tenant_id AND o.signing_key_label = k.key_label AND o.disabled_at IS NULL
         WHERE k.tenant_id = ? ORDER BY k.key_label`,
      )
      .all(tenantId) as Array<{ label: string; holder_id: string | null; holder_username: string | null }>;
    return rows.map((r) => ({
      label: r.label,
      use: r.label === seal ? 'seal' : r.holder_id !== null ? 'personal' : 'free',
      holder: r.holder_id !== null && r.holder_username !== null ? { id: r.holder_id, username: r.holder_username } : null,
    }));
  }

  private row(id: string): OfficerRow | undefined {
    return prepared(this.db, 'SELECT * FROM officers WHERE id = ?').get(id) as OfficerRow | undefined;
  }

  get(id: string): Officer | null {
    const r = this.row(id);
    return r ? toOfficer(r) : null;
  }

  /** The officer with this (case-insensitive) username, or null; never throws on a malformed one. */
  getByUsername(username: string): Officer | null {
    const r = prepared(this.db, 'SELECT * FROM officers WHERE username = ?').get(username.trim().toLowerCase()) as OfficerRow | undefined;
    return r ? toOfficer(r) : null;
  }

  /** The stored password hash, for the login check only. */
  passwordHash(id: string): string | null {
    return this.row(id)?.password ?? null;
  }

  /** A tenant's officers by username; `after` (a username) and `limit` page through them. */
  list(tenantId: string, page: { after?: string | undefined; limit?: number | undefined } = {}): Officer[] {
    const limit = Math.max(1, Math.min(page.limit ?? 10_000, 10_000));
    const rows = this.db
      .prepare(`SELECT * FROM officers WHERE tenant_id = ? AND username > ? ORDER BY username LIMIT ${limit}`)
      .all(tenantId, page.after ?? '') as OfficerRow[];
    return rows.map(toOfficer);
  }

  update(id: string, changes: OfficerChanges): Officer {
    const current = this.row(id);
    if (!current) throw new RegistryError('officer-not-found', `no officer ${id}`, { status: 404 });
    const next = {
      display_name: changes.displayName === undefined ? current.display_name : text('displayName', changes.displayName.trim(), 200),
      title: changes.title === undefined ? current.title : text('title', changes.title.trim(), 200),
      role: changes.role === undefined ? current.role : role(changes.role),
      signing_key_label: changes.signingKeyLabel === undefined ? current.signing_key_label : changes.signingKeyLabel,
    };
    if (next.signing_key_label !== current.signing_key_label) this.checkKey(current.tenant_id, next.signing_key_label, id);
    this.db
      .prepare('UPDATE officers SET display_name = @display_name, title = @title, role = @role, signing_key_label = @signing_key_label WHERE id = @id')
      .run({ ...next, id });
    return this.get(id)!;
  }

  /** Sets a new password, clears any lockout, and ends every session of the officer; on disk when it returns (`durably`). */
  async setPassword(id: string, password: string): Promise<Officer> {
    const hash = await hashPassword(checkPasswordPolicy(password));
    const now = this.now().toISOString();
    durably(this.db, () =>
      this.db.transaction(() => {
        const res = this.db.prepare('UPDATE officers SET password = ?, password_changed_at = ?, failed_logins = 0, locked_until = NULL WHERE id = ?').run(hash, now, id);
        if (res.changes !== 1) throw new RegistryError('officer-not-found', `no officer ${id}`, { status: 404 });
        this.revokeSessions(id, now, 'password-changed');
      })(),
    );
    return this.get(id)!;
  }

  /** Disables the account and ends its sessions at once (on disk when it returns); disabling twice keeps the first date. */
  disable(id: string): Officer {
    const now = this.now().toISOString();
    durably(this.db, () =>
      this.db.transaction(() => {
        if (this.db.prepare('UPDATE officers SET disabled_at = coalesce(disabled_at, ?) WHERE id = ?').run(now, id).changes !== 1) {
          throw new RegistryError('officer-not-found', `no officer ${id}`, { status: 404 });
        }
        this.revokeSessions(id, now, 'account-disabled');
      })(),
    );
    return this.get(id)!;
  }

  /** Enables a disabled account again (and lifts a lockout). */
  enable(id: string): Officer {
    const current = this.row(id);
    // Back at work only if nobody took their key meanwhile.
    if (current && current.disabled_at !== null) this.checkKey(current.tenant_id, current.signing_key_label, id);
    if (this.db.prepare('UPDATE officers SET disabled_at = NULL, failed_logins = 0, locked_until = NULL WHERE id = ?').run(id).changes !== 1) {
      throw new RegistryError('officer-not-found', `no officer ${id}`, { status: 404 });
    }
    return this.get(id)!;
  }

  /**
   * Counts a failed login. At `maxFailures` in a row the account locks for `lockMs` (the counter
   * restarts, so the next lock needs as many failures again). Returns the officer as it now stands.
   */
  recordFailedLogin(id: string, policy: LockoutPolicy): Officer {
    const now = this.now();
    this.db.transaction(() => {
      const r = this.row(id);
      if (!r) return;
      const failures = r.failed_logins + 1;
      if (failures >= policy.maxFailures) {
        this.db.prepare('UPDATE officers SET failed_logins = 0, locked_until = ? WHERE id = ?').run(new Date(now.getTime() + policy.lockMs).toISOString(), id);
      } else {
        this.db.prepare('UPDATE officers SET failed_logins = ? WHERE id = ?').run(failures, id);
      }
      // Read, then written: under the write lock, so failures counted by another process are not lost.
    }).immediate();
    return this.get(id)!;
  }

  recordSuccessfulLogin(id: string): void {
    this.db.prepare('UPDATE officers SET failed_logins = 0, locked_until = NULL WHERE id = ? AND (failed_logins <> 0 OR locked_until IS NOT NULL)').run(id);
  }

  private revokeSessions(officerId: string, at: string, reason: string): void {
    this.db.prepare('UPDATE officer_sessions SET revoked_at = ?, revoked_reason = ? WHERE officer_id = ? AND revoked_at IS NULL').run(at, reason, officerId);
  }
}
