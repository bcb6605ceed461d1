/**
 * Versioned schema migrations, applied in order at start inside one transaction each. A migration is
 * never edited once released: add a new one. `schema_migrations` records what was applied and when.
 */
import { CERTIFIED_COPIES_SQL } from './schema/certifiedCopies.ts';
import { ACCESS_SQL } from './schema/access.ts';
import { COPIES_API_SQL } from './schema/copiesApi.ts';
import { OFFICERS_SQL } from './schema/officers.ts';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'service metadata',
    sql: `
      CREATE TABLE service_meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 2,
    name: 'built-in TSA serial numbers',
    // RFC 3161 §2.4.2: serialNumber unique per TSA, across restarts (src/tsa/SerialSource.ts).
    sql: `
      CREATE TABLE IF NOT EXISTS tsa_serials (
        tsa TEXT PRIMARY KEY,
        last_serial INTEGER NOT NULL CHECK (last_serial > 0),
        updated_at TEXT NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 3,
    name: 'certified copies: tenants, register volumes, copies, chained events',
    sql: CERTIFIED_COPIES_SQL,
  },
  {
    version: 4,
    name: 'access: API keys, audit log, idempotency keys',
    sql: ACCESS_SQL,
  },
  {
    version: 5,
    name: 'signing keys each tenant may use',
    // A tenant's systems may sign only with the HSM keys assigned to it (its seal, its officers).
    sql: `
      CREATE TABLE tenant_signing_keys (
        tenant_id TEXT NOT NULL REFERENCES tenants(id),
        key_label TEXT NOT NULL CHECK (length(key_label) BETWEEN 1 AND 128),
        added_at  TEXT NOT NULL,
        PRIMARY KEY (tenant_id, key_label)
      ) STRICT;
    `,
  },
  {
    version: 6,
    name: 'officers and their sessions; idempotency keys scoped per officer too',
    sql: OFFICERS_SQL,
  },
  {
    version: 7,
    name: 'tenant settings for certified copies (seal, level, stamp template); refusals',
    sql: COPIES_API_SQL,
  },
];
