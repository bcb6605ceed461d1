/**
 * Migration 7: what certifying over HTTP needs per tenant, and the record of refusals.
 * Released SQL: never edit, add a later migration instead.
 *
 * - tenant_settings: at most one row per tenant (absent = the defaults): the HSM label of the agency
 *   seal key, the seal image drawn in the seal box, the default PAdES level of certified copies, and
 *   the stamp template (JSON text, checked by src/stamp/template.ts before it is stored).
 * - refusals: a certification refused on one of the grounds of domain.md "What cannot be certified"
 *   (Decree 23/2015 art. 22) is recorded with who refused it and when. Append-only: triggers refuse
 *   UPDATE and DELETE, as for copy_events and audit_log.
 */
export const REFUSAL_GROUNDS = [
  'altered',
  'illegible',
  'state-secret',
  'unlawful-content',
  'foreign-not-legalised',
  'unstamped-private-paper',
  'other',
] as const;

export const COPIES_API_SQL = `
CREATE TABLE tenant_settings (
  tenant_id       TEXT PRIMARY KEY REFERENCES tenants (id),
  seal_key_label  TEXT NOT NULL DEFAULT 'seal' CHECK (length(seal_key_label) BETWEEN 1 AND 128),
  seal_image      BLOB CHECK (seal_image IS NULL OR length(seal_image) BETWEEN 1 AND 2000000),
  seal_image_type TEXT CHECK (seal_image_type IS NULL OR seal_image_type IN ('png', 'jpeg')),
  default_level   TEXT NOT NULL DEFAULT 'B-LT' CHECK (default_level IN ('B-LT', 'B-LTA')),
  stamp_template  TEXT CHECK (stamp_template IS NULL OR json_valid(stamp_template)),
  updated_at      TEXT NOT NULL,
  updated_by      TEXT NOT NULL,
  CHECK ((seal_image IS NULL) = (seal_image_type IS NULL))
) STRICT;

CREATE TABLE refusals (
  id             TEXT PRIMARY KEY,
  tenant_id      TEXT NOT NULL REFERENCES tenants (id),
  ground         TEXT NOT NULL CHECK (ground IN (${REFUSAL_GROUNDS.map((g) => `'${g}'`).join(', ')})),
  reason         TEXT CHECK (reason IS NULL OR length(reason) BETWEEN 1 AND 2000),
  document_type  TEXT NOT NULL CHECK (length(document_type) BETWEEN 1 AND 200),
  requester_name TEXT CHECK (requester_name IS NULL OR length(requester_name) <= 200),
  case_code      TEXT CHECK (case_code IS NULL OR length(case_code) <= 64),
  actor          TEXT NOT NULL,
  officer_id     TEXT,
  at             TEXT NOT NULL,
  CHECK (ground <> 'other' OR reason IS NOT NULL)
) STRICT;
CREATE INDEX refusals_tenant_at ON refusals (tenant_id, at);

CREATE TRIGGER refusals_no_update BEFORE UPDATE ON refusals
BEGIN SELECT RAISE(ABORT, 'refusals are append-only'); END;

CREATE TRIGGER refusals_no_delete BEFORE DELETE ON refusals
BEGIN SELECT RAISE(ABORT, 'refusals are append-only'); END;
`;
