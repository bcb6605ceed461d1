/**
 * Versioned schema migrations, applied in order at start inside one transaction each. A migration is
 * never edited once released: add a new one. `schema_migrations` records what was applied and when.
 */
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
];
