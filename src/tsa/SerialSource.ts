/**
 * Serial numbers of time-stamp tokens (RFC 3161 §2.4.2 serialNumber: unique for each token issued by a
 * given TSA, positive, at most 160 bits).
 */
import type BetterSqlite3 from 'better-sqlite3';
import { TsaError } from './TsaError.ts';
import { TSA_SERIAL_SCHEMA_SQL } from './serialSchema.ts';

export interface SerialSource {
  /** A serial never returned before by this source or any earlier instance over the same storage. */
  next(): bigint;
}

/** Serials per millisecond reserved by the time component (2^10). */
const PER_MILLISECOND = 1024n;

/**
 * Serials from a persisted counter in SQLite, allocated in an IMMEDIATE transaction so two processes on
 * the same file never hand out the same number (the write lock is taken before the read).
 *
 * serial = max(last + 1, now_ms × 1024). The counter alone guarantees uniqueness while the database
 * survives; the time floor also covers a database restored from backup or a commit lost on power
 * failure (WAL with synchronous=NORMAL): numbers issued before were below the floor of any later
 * millisecond, as long as fewer than 1024 tokens per millisecond are issued and the clock does not go
 * back. now_ms × 1024 stays below 2^63 (SQLite INTEGER) until the year 280 000.
 */
export class SqliteSerialSource implements SerialSource {
  private readonly allocate: () => bigint;

  constructor(
    db: BetterSqlite3.Database,
    options: { readonly tsa?: string; readonly now?: () => number } = {},
  ) {
    const tsa = options.tsa ?? 'default';
    const now = options.now ?? Date.now;
    db.exec(TSA_SERIAL_SCHEMA_SQL);
    const select = db.prepare<[string], { last_serial: bigint }>('SELECT last_serial FROM tsa_serials WHERE tsa = ?').safeIntegers(true);
    const upsert = db.prepare<[string, bigint, string]>(
      `INSERT INTO tsa_serials (tsa, last_serial, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (tsa) DO UPDATE SET last_serial = excluded.last_serial, updated_at = excluded.updated_at`,
    );
    const transaction = db.transaction((): bigint => {
      const row = select.get(tsa);
      const floor = BigInt(Math.floor(now())) * PER_MILLISECOND;
      const next = row === undefined || row.last_serial < floor ? floor : row.last_serial + 1n;
      upsert.run(tsa, next, new Date().toISOString());
      return next;
    });
    this.allocate = () => transaction.immediate();
  }

  next(): bigint {
    try {
      return this.allocate();
    } catch (cause) {
      throw new TsaError('tsa-unavailable', 'cannot allocate a time-stamp serial number', { cause });
    }
  }
}
