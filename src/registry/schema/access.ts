/**
 * Migration 4: access to the integration API — API keys of calling systems, the audit log, and
 * stored responses of idempotent POSTs. Released SQL: never edit, add a later migration instead.
 *
 * - api_keys: only a hash of the secret is stored (the key is shown once, at creation). A key is
 *   never deleted, only revoked, so audit rows keep pointing at it. Officer accounts and sessions
 *   (a later slice) will get their own tables; audit_log.actor_kind already allows 'officer'.
 * - audit_log: append-only (triggers refuse UPDATE and DELETE), like copy_events.
 * - idempotency_keys: one row per (api key, Idempotency-Key); rows expire and are purged.
 */
export const ACCESS_SQL = `
CREATE TABLE api_keys (
  id            TEXT PRIMARY KEY,
  tenant_id     TEXT NOT NULL REFERENCES tenants (id),
  name          TEXT NOT NULL,
  prefix        TEXT NOT NULL UNIQUE,
  secret_hash   BLOB NOT NULL CHECK (length(secret_hash) = 32),
  scopes        TEXT NOT NULL CHECK (json_valid(scopes) AND json_type(scopes) = 'array'),
  allowed_cidrs TEXT CHECK (allowed_cidrs IS NULL OR (json_valid(allowed_cidrs) AND json_type(allowed_cidrs) = 'array')),
  created_at    TEXT NOT NULL,
  created_by    TEXT NOT NULL,
  revoked_at    TEXT,
  revoked_by    TEXT,
  last_used_at  TEXT,
  CHECK ((revoked_at IS NULL) = (revoked_by IS NULL))
) STRICT;
CREATE INDEX api_keys_tenant ON api_keys (tenant_id, created_at);

CREATE TRIGGER api_keys_no_delete BEFORE DELETE ON api_keys
BEGIN SELECT RAISE(ABORT, 'API keys are revoked, never deleted'); END;

CREATE TRIGGER api_keys_frozen BEFORE UPDATE ON api_keys
WHEN NEW.id IS NOT OLD.id OR NEW.tenant_id IS NOT OLD.tenant_id OR NEW.prefix IS NOT OLD.prefix
  OR NEW.secret_hash IS NOT OLD.secret_hash OR NEW.scopes IS NOT OLD.scopes
  OR NEW.allowed_cidrs IS NOT OLD.allowed_cidrs OR NEW.created_at IS NOT OLD.created_at
  OR (OLD.revoked_at IS NOT NULL AND (NEW.revoked_at IS NOT OLD.revoked_at OR NEW.revoked_by IS NOT OLD.revoked_by))
BEGIN SELECT RAISE(ABORT, 'an API key only changes by being used or revoked (once)'); END;

CREATE TABLE audit_log (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  at          TEXT NOT NULL,
  actor_kind  TEXT NOT NULL CHECK (actor_kind IN ('api-key', 'officer', 'public', 'cli')),
  actor_id    TEXT,
  tenant_id   TEXT REFERENCES tenants (id),
  action      TEXT NOT NULL,
  object      TEXT,
  outcome     TEXT NOT NULL CHECK (outcome IN ('success', 'denied', 'rejected', 'error')),
  status      INTEGER,
  ip          TEXT,
  request_id  TEXT,
  details     TEXT CHECK (details IS NULL OR json_valid(details))
) STRICT;
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_tenant_at ON audit_log (tenant_id, at);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

CREATE TABLE idempotency_keys (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  key              TEXT NOT NULL,
  api_key_id       TEXT REFERENCES api_keys (id),
  method           TEXT NOT NULL,
  path             TEXT NOT NULL,
  request_hash     TEXT NOT NULL,
  state            TEXT NOT NULL CHECK (state IN ('pending', 'done')),
  response_status  INTEGER,
  response_headers TEXT CHECK (response_headers IS NULL OR json_valid(response_headers)),
  response_body    BLOB,
  response_file    TEXT,
  created_at       TEXT NOT NULL,
  expires_at       TEXT NOT NULL,
  CHECK (state = 'pending' OR (response_status IS NOT NULL AND response_headers IS NOT NULL))
) STRICT;
-- Keys are scoped per API key (anonymous callers, with API_AUTH=off, share the '' scope).
CREATE UNIQUE INDEX idempotency_keys_scope ON idempotency_keys (coalesce(api_key_id, ''), key);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);
`;
