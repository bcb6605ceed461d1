/**
 * Migration 6: officer accounts and their browser sessions (issue #6). Released SQL: never edit,
 * add a later migration instead.
 *
 * - officers: one row per person who certifies, supervises or administers for a tenant. Usernames
 *   are stored lower-case (unique across the service, so a login needs no tenant). `password` is a
 *   PHC-like scrypt string carrying its own parameters and salt (src/registry/passwords.ts).
 *   `signing_key_label`, when set, must be one of the tenant's allowed HSM keys (composite foreign
 *   key; a NULL label satisfies it). Accounts are disabled, never deleted, so audit rows and register
 *   entries keep pointing at them. Lockout state (failed_logins, locked_until) lives here so it
 *   survives restarts.
 * - officer_sessions: the id is the SHA-256 of the cookie secret — a database leak reveals no usable
 *   cookie. `auth_method` says how the officer proved who they are (password today; an OIDC
 *   callback would record 'oidc'), kept apart from the session itself.
 * - idempotency_keys gains officer_id: Idempotency-Key values are scoped per API key or per officer.
 */
export const OFFICERS_SQL = `
CREATE TABLE officers (
  id                  TEXT PRIMARY KEY,
  tenant_id           TEXT NOT NULL REFERENCES tenants (id),
  username            TEXT NOT NULL UNIQUE
                      CHECK (length(username) BETWEEN 3 AND 64 AND username = lower(username) AND username NOT GLOB '*[^a-z0-9._-]*'),
  display_name        TEXT NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
  title               TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
  role                TEXT NOT NULL CHECK (role IN ('officer', 'supervisor', 'admin')),
  signing_key_label   TEXT,
  password            TEXT NOT NULL CHECK (password LIKE '$scrypt$%'),
  failed_logins       INTEGER NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
  locked_until        TEXT,
  disabled_at         TEXT,
  created_at          TEXT NOT NULL,
  created_by          TEXT NOT NULL,
  password_changed_at TEXT NOT NULL,
  FOREIGN KEY (tenant_id, signing_key_label) REFERENCES tenant_signing_keys (tenant_id, key_label)
) STRICT;
CREATE INDEX officers_tenant ON officers (tenant_id, username);

CREATE TRIGGER officers_no_delete BEFORE DELETE ON officers
BEGIN SELECT RAISE(ABORT, 'officers are disabled, never deleted'); END;

CREATE TRIGGER officers_frozen BEFORE UPDATE ON officers
WHEN NEW.id IS NOT OLD.id OR NEW.tenant_id IS NOT OLD.tenant_id OR NEW.username IS NOT OLD.username OR NEW.created_at IS NOT OLD.created_at
BEGIN SELECT RAISE(ABORT, 'an officer keeps its id, tenant, username and creation time'); END;

CREATE TABLE officer_sessions (
  id            TEXT PRIMARY KEY CHECK (length(id) = 64),
  officer_id    TEXT NOT NULL REFERENCES officers (id),
  csrf_token    TEXT NOT NULL,
  auth_method   TEXT NOT NULL,
  created_at    TEXT NOT NULL,
  last_seen_at  TEXT NOT NULL,
  expires_at    TEXT NOT NULL,
  ip            TEXT,
  user_agent    TEXT,
  revoked_at    TEXT,
  revoked_reason TEXT
) STRICT;
CREATE INDEX officer_sessions_officer ON officer_sessions (officer_id, revoked_at);
CREATE INDEX officer_sessions_expiry ON officer_sessions (expires_at);

ALTER TABLE idempotency_keys ADD COLUMN officer_id TEXT REFERENCES officers (id);
DROP INDEX idempotency_keys_scope;
-- Keys are scoped per API key or per officer (anonymous callers, with API_AUTH=off, share the '' scope).
CREATE UNIQUE INDEX idempotency_keys_scope ON idempotency_keys (coalesce(api_key_id, ''), coalesce(officer_id, ''), key);
`;
