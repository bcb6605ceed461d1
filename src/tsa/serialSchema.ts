/**
 * Storage of the built-in TSA's serial counter (RFC 3161 §2.4.2: "Time-Stamping users MUST be ready to
 * accommodate integers up to 160 bits"; every token of a TSA needs a unique serialNumber). One row per
 * TSA identity; `last_serial` is the last number handed out. Kept as a string so it can move verbatim
 * into a registry migration.
 */
export const TSA_SERIAL_SCHEMA_SQL = `CREATE TABLE IF NOT EXISTS tsa_serials (
  tsa TEXT PRIMARY KEY,
  last_serial INTEGER NOT NULL CHECK (last_serial > 0),
  updated_at TEXT NOT NULL
) STRICT`;
