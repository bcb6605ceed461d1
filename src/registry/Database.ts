/**
 * The registry database: SQLite through better-sqlite3 (synchronous; transactions must never span an
 * await — do async HSM/TSA/OCSP work first, then write in one transaction).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import BetterSqlite3 from 'better-sqlite3';
import { RegistryError } from './errors.ts';
import { MIGRATIONS, type Migration } from './migrations.ts';

export type Sqlite = BetterSqlite3.Database;

const STATEMENTS = new WeakMap<Sqlite, Map<string, BetterSqlite3.Statement>>();

/**
 * The statement for `sql`, prepared once per connection. For the per-request hot paths (key check,
 * session resume, audit row): better-sqlite3's prepare costs more than these one-row queries. Only
 * for fixed SQL run with get/all/run — never pluck/raw/iterate, which change or hold the statement.
 */
export function prepared(db: Sqlite, sql: string): BetterSqlite3.Statement {
  let cache = STATEMENTS.get(db);
  if (!cache) STATEMENTS.set(db, (cache = new Map()));
  let stmt = cache.get(sql);
  if (!stmt) cache.set(sql, (stmt = db.prepare(sql)));
  return stmt;
}

/**
 * Runs `fn`, which commits a write, with `PRAGMA synchronous = FULL`: the WAL is fsynced at its commit,
 * so the write is on disk before `fn` returns. The connection otherwise runs at NORMAL, which in WAL
 * mode survives a crash of the process but may lose the last commits when the machine loses power or
 * the OS crashes. Acts that someone is told about at once must not be lost that way: a certified copy
 * handed out with its number (the number would be allocated again: reuse), an annulment, a year
 * closing, a revoked API key. The fsync also covers every earlier commit (the WAL is written in order).
 * Inside a transaction `fn` just runs: SQLite refuses to change the setting there, and the outer
 * commit decides (make that one durable).
 */
export function durably<T>(db: Sqlite, fn: () => T): T {
  if (db.inTransaction) return fn();
  const before = db.pragma('synchronous', { simple: true }) as number;
  if (before >= 2) return fn();
  db.pragma('synchronous = FULL');
  try {
    return fn();
  } finally {
    db.pragma(`synchronous = ${before}`);
  }
}

/**
 * Copies the database, as of one instant, into `file` (SQLite's online backup, in one step: one read
 * transaction, which in WAL mode does not hold up the service's writes; copied step by step instead,
 * every write of another connection would restart it, maybe forever on a busy register). The copy is
 * complete and committed when the promise resolves, and is one self-contained file: it is taken out
 * of WAL mode, so opening it later leaves no -wal or -shm file beside it.
 */
export async function snapshotDatabase(db: Sqlite, file: string): Promise<void> {
  try {
    await db.backup(file, { progress: () => 0x7fffffff });
    const copy = new BetterSqlite3(file);
    try {
      copy.pragma('journal_mode = DELETE');
    } finally {
      copy.close();
    }
  } catch (cause) {
    throw new RegistryError('db-backup-failed', `cannot copy the database to ${file}`, { cause });
  }
}

/** A snapshot (or any register file) opened read-only, as it is: no migration, no setting changed. */
export function openSnapshot(file: string): Sqlite {
  try {
    return new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  } catch (cause) {
    throw new RegistryError('db-open-failed', `cannot open the database ${file}`, { cause });
  }
}

export interface OpenedDatabase {
  readonly db: Sqlite;
  readonly file: string;
  /** Migration versions applied by this open (empty when the schema was current). */
  readonly applied: number[];
  /** A stable id of this database, created with it (useful in logs and TSA serial prefixes). */
  readonly instanceId: string;
  ping(): void;
  close(): void;
}

export function openDatabase(file: string, migrations: readonly Migration[] = MIGRATIONS): OpenedDatabase {
  let db: Sqlite;
  try {
    if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
    db = new BetterSqlite3(file);
    // First: several processes may open (and create) one file at once (several instances on one host).
    db.pragma('busy_timeout = 5000');
    // WAL: readers never block the writer. NORMAL sync survives a crash of the process; register acts
    // that must also survive a power loss commit through `durably` (FULL).
    toWal(db);
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    // Read-heavy (every QR scan is a lookup): a 64 MiB page cache and reads through a memory map
    // instead of a pread per page. Both are per connection and only bound what may be used.
    db.pragma('cache_size = -65536');
    db.pragma('mmap_size = 1073741824');
  } catch (cause) {
    throw new RegistryError('db-open-failed', `cannot open the database ${file}`, { cause });
  }
  const applied = migrate(db, migrations);
  const instanceId = ensureInstanceId(db);
  return {
    db,
    file,
    applied,
    instanceId,
    ping: () => {
      db.prepare('SELECT 1').get();
    },
    close: () => db.close(),
  };
}

/**
 * Switches the connection to WAL. SQLite answers SQLITE_BUSY at once, without its busy handler, while
 * another connection is switching the same new file (several processes starting together): asked again
 * for up to the busy timeout.
 */
function toWal(db: Sqlite): void {
  const until = Date.now() + 5000;
  for (;;) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() > until) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
}

function migrate(db: Sqlite, migrations: readonly Migration[]): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT`);
  const done = new Set(
    (db.prepare('SELECT version FROM schema_migrations').all() as Array<{ version: number }>).map((r) => r.version),
  );
  const latestKnown = migrations.reduce((m, x) => Math.max(m, x.version), 0);
  const newest = Math.max(0, ...done);
  if (newest > latestKnown) {
    throw new RegistryError(
      'db-schema-too-new',
      `the database schema is at version ${newest}, newer than this build knows (${latestKnown}); upgrade the service`,
    );
  }
  const applied: number[] = [];
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  const recorded = db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?');
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (done.has(m.version)) continue;
    try {
      // Asked again under the write lock: another process starting on the same file may have applied it meanwhile.
      const ran = db.transaction(() => {
        if (recorded.get(m.version) !== undefined) return false;
        db.exec(m.sql);
        record.run(m.version, m.name, new Date().toISOString());
        return true;
      }).immediate();
      if (ran) applied.push(m.version);
    } catch (cause) {
      throw new RegistryError('db-migration-failed', `migration ${m.version} (${m.name}) failed`, { cause });
    }
  }
  return applied;
}

function ensureInstanceId(db: Sqlite): string {
  db.prepare("INSERT OR IGNORE INTO service_meta (key, value) VALUES ('instance_id', ?)").run(randomUUID());
  const row = db.prepare("SELECT value FROM service_meta WHERE key = 'instance_id'").get() as { value: string };
  return row.value;
}
