/**
 * Migration 3: the register of certified copies (sổ chứng thực bản sao, model SCT/BS) — see
 * shared/docs/domain.md "The register". Released SQL: never edit, add a later migration instead.
 *
 * Integrity is enforced at three levels:
 * - constraints: one number per (volume, number) and per (tenant, year, number); public codes unique;
 *   a 'valid'/'annulled' row carries every register field, an annulled row its decision;
 * - triggers: the register is kept permanently (no DELETE of volumes, copies or events), events are
 *   append-only (no UPDATE), a copy only moves reserved → valid | voided and valid → annulled, and an
 *   annulment cannot rewrite the entry; a closed volume is frozen;
 * - the hash chain over copy_events (src/registry/eventChain.ts), which detects edits made by someone
 *   who drops the triggers.
 */
export const CERTIFIED_COPIES_SQL = `
CREATE TABLE tenants (
  id              TEXT PRIMARY KEY,
  code            TEXT NOT NULL UNIQUE,
  name            TEXT NOT NULL,
  register_suffix TEXT NOT NULL DEFAULT '-SCT/BS',
  created_at      TEXT NOT NULL
) STRICT;

CREATE TABLE register_volumes (
  id              TEXT PRIMARY KEY,
  tenant_id       TEXT NOT NULL REFERENCES tenants (id),
  year            INTEGER NOT NULL CHECK (year BETWEEN 1900 AND 9999),
  seq             INTEGER NOT NULL CHECK (seq >= 1),
  register_suffix TEXT NOT NULL,
  opened_at       TEXT NOT NULL,
  first_number    INTEGER NOT NULL CHECK (first_number >= 1),
  last_number     INTEGER NOT NULL,
  closed_at       TEXT,
  total_certified INTEGER,
  total_voided    INTEGER,
  UNIQUE (tenant_id, year, seq),
  CHECK (last_number >= first_number - 1),
  CHECK ((closed_at IS NULL) = (total_certified IS NULL) AND (closed_at IS NULL) = (total_voided IS NULL))
) STRICT;
CREATE UNIQUE INDEX register_volumes_one_open ON register_volumes (tenant_id, year) WHERE closed_at IS NULL;

CREATE TRIGGER register_volumes_no_delete BEFORE DELETE ON register_volumes
BEGIN SELECT RAISE(ABORT, 'register volumes are kept permanently'); END;

CREATE TRIGGER register_volumes_closed_frozen BEFORE UPDATE ON register_volumes
WHEN OLD.closed_at IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'a closed register volume cannot change'); END;

CREATE TRIGGER register_volumes_forward_only BEFORE UPDATE ON register_volumes
WHEN NEW.id IS NOT OLD.id OR NEW.tenant_id IS NOT OLD.tenant_id OR NEW.year IS NOT OLD.year
  OR NEW.seq IS NOT OLD.seq OR NEW.register_suffix IS NOT OLD.register_suffix
  OR NEW.opened_at IS NOT OLD.opened_at OR NEW.first_number IS NOT OLD.first_number
  OR NEW.last_number < OLD.last_number
BEGIN SELECT RAISE(ABORT, 'a register volume only moves forward'); END;

CREATE TABLE certified_copies (
  id                     TEXT PRIMARY KEY,
  tenant_id              TEXT NOT NULL REFERENCES tenants (id),
  volume_id              TEXT NOT NULL REFERENCES register_volumes (id),
  year                   INTEGER NOT NULL,
  number                 INTEGER NOT NULL CHECK (number >= 1),
  status                 TEXT NOT NULL CHECK (status IN ('reserved', 'valid', 'annulled', 'voided')),
  public_code            TEXT NOT NULL,
  access_code_hash       TEXT NOT NULL,
  registered_at          TEXT NOT NULL,
  reservation_expires_at TEXT,
  certified_at           TEXT,
  requester_name         TEXT,
  document_type          TEXT,
  document_name          TEXT,
  original_issuer        TEXT,
  original_pages         INTEGER CHECK (original_pages >= 1),
  copies_count           INTEGER CHECK (copies_count >= 1),
  certifier_name         TEXT,
  certifier_title        TEXT,
  fee_vnd                INTEGER CHECK (fee_vnd >= 0),
  notes                  TEXT,
  case_code              TEXT,
  receiving_site         TEXT,
  scan_sha256            TEXT,
  pdf_sha256             TEXT,
  signer_cert_issuer     TEXT,
  signer_cert_serial     TEXT,
  signer_cert_subject    TEXT,
  agency_cert_issuer     TEXT,
  agency_cert_serial     TEXT,
  agency_cert_subject    TEXT,
  timestamp_at           TEXT,
  file_key               TEXT,
  annul_decision_number  TEXT,
  annul_decision_date    TEXT,
  annul_reason           TEXT,
  annulled_by            TEXT,
  annulled_at            TEXT,
  void_reason            TEXT,
  voided_by              TEXT,
  voided_at              TEXT,
  UNIQUE (volume_id, number),
  UNIQUE (tenant_id, year, number),
  CHECK (status IN ('reserved', 'voided') OR (
    certified_at IS NOT NULL AND requester_name IS NOT NULL AND document_type IS NOT NULL
    AND document_name IS NOT NULL AND original_issuer IS NOT NULL AND original_pages IS NOT NULL
    AND copies_count IS NOT NULL AND certifier_name IS NOT NULL AND certifier_title IS NOT NULL
    AND fee_vnd IS NOT NULL AND scan_sha256 IS NOT NULL AND pdf_sha256 IS NOT NULL
    AND signer_cert_issuer IS NOT NULL AND signer_cert_serial IS NOT NULL AND file_key IS NOT NULL)),
  CHECK (status <> 'reserved' OR reservation_expires_at IS NOT NULL),
  CHECK (status <> 'annulled' OR (annul_decision_number IS NOT NULL AND annul_decision_date IS NOT NULL
    AND annul_reason IS NOT NULL AND annulled_by IS NOT NULL AND annulled_at IS NOT NULL)),
  CHECK (status <> 'voided' OR (void_reason IS NOT NULL AND voided_by IS NOT NULL AND voided_at IS NOT NULL))
) STRICT;
CREATE UNIQUE INDEX certified_copies_public_code ON certified_copies (public_code);
CREATE INDEX certified_copies_tenant_registered ON certified_copies (tenant_id, registered_at);
CREATE INDEX certified_copies_reserved ON certified_copies (reservation_expires_at) WHERE status = 'reserved';

CREATE TRIGGER certified_copies_open_volume BEFORE INSERT ON certified_copies
WHEN (SELECT closed_at FROM register_volumes WHERE id = NEW.volume_id) IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'the register volume is closed'); END;

CREATE TRIGGER certified_copies_no_delete BEFORE DELETE ON certified_copies
BEGIN SELECT RAISE(ABORT, 'register entries are kept permanently'); END;

CREATE TRIGGER certified_copies_identity_frozen BEFORE UPDATE ON certified_copies
WHEN NEW.id IS NOT OLD.id OR NEW.tenant_id IS NOT OLD.tenant_id OR NEW.volume_id IS NOT OLD.volume_id
  OR NEW.year IS NOT OLD.year OR NEW.number IS NOT OLD.number OR NEW.public_code IS NOT OLD.public_code
  OR NEW.access_code_hash IS NOT OLD.access_code_hash OR NEW.registered_at IS NOT OLD.registered_at
BEGIN SELECT RAISE(ABORT, 'the number, code and identity of a register entry never change'); END;

CREATE TRIGGER certified_copies_status_flow BEFORE UPDATE ON certified_copies
WHEN NOT ((OLD.status = 'reserved' AND NEW.status IN ('valid', 'voided'))
       OR (OLD.status = 'valid' AND NEW.status = 'annulled'))
BEGIN SELECT RAISE(ABORT, 'illegal register status change'); END;

CREATE TRIGGER certified_copies_annulment_keeps_entry BEFORE UPDATE ON certified_copies
WHEN OLD.status = 'valid' AND (
     NEW.certified_at IS NOT OLD.certified_at OR NEW.requester_name IS NOT OLD.requester_name
  OR NEW.document_type IS NOT OLD.document_type OR NEW.document_name IS NOT OLD.document_name
  OR NEW.original_issuer IS NOT OLD.original_issuer OR NEW.original_pages IS NOT OLD.original_pages
  OR NEW.copies_count IS NOT OLD.copies_count OR NEW.certifier_name IS NOT OLD.certifier_name
  OR NEW.certifier_title IS NOT OLD.certifier_title OR NEW.fee_vnd IS NOT OLD.fee_vnd
  OR NEW.notes IS NOT OLD.notes OR NEW.case_code IS NOT OLD.case_code
  OR NEW.receiving_site IS NOT OLD.receiving_site OR NEW.scan_sha256 IS NOT OLD.scan_sha256
  OR NEW.pdf_sha256 IS NOT OLD.pdf_sha256 OR NEW.signer_cert_issuer IS NOT OLD.signer_cert_issuer
  OR NEW.signer_cert_serial IS NOT OLD.signer_cert_serial OR NEW.signer_cert_subject IS NOT OLD.signer_cert_subject
  OR NEW.agency_cert_issuer IS NOT OLD.agency_cert_issuer OR NEW.agency_cert_serial IS NOT OLD.agency_cert_serial
  OR NEW.agency_cert_subject IS NOT OLD.agency_cert_subject OR NEW.timestamp_at IS NOT OLD.timestamp_at
  OR NEW.file_key IS NOT OLD.file_key OR NEW.reservation_expires_at IS NOT OLD.reservation_expires_at)
BEGIN SELECT RAISE(ABORT, 'an annulment cannot rewrite the register entry'); END;

CREATE TABLE copy_events (
  id        INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant_id TEXT NOT NULL REFERENCES tenants (id),
  copy_id   TEXT NOT NULL REFERENCES certified_copies (id),
  type      TEXT NOT NULL CHECK (type IN ('issued', 'annulled', 'voided')),
  at        TEXT NOT NULL,
  actor     TEXT NOT NULL,
  payload   TEXT NOT NULL CHECK (json_valid(payload)),
  prev_hash TEXT NOT NULL,
  hash      TEXT NOT NULL UNIQUE
) STRICT;
CREATE INDEX copy_events_copy ON copy_events (copy_id, id);

CREATE TRIGGER copy_events_no_update BEFORE UPDATE ON copy_events
BEGIN SELECT RAISE(ABORT, 'copy_events is append-only'); END;

CREATE TRIGGER copy_events_no_delete BEFORE DELETE ON copy_events
BEGIN SELECT RAISE(ABORT, 'copy_events is append-only'); END;
`;
