/**
 * The audit log: who (API key, officer, public, CLI user) did what to which object, when, from
 * where, with what outcome. Append-only — the schema's triggers refuse UPDATE and DELETE.
 * One INSERT per entry, synchronous (better-sqlite3), so it never spans an await.
 *
 * `appendDeferred` is for the hot, low-stakes rows — anonymous page views of the public verification
 * pages: they are queued and written together in one transaction at most `deferMs` later (or when
 * `deferMax` are waiting, or on `flush()` / `list()`), so a page view does not pay for its own WAL
 * commit. A crash can lose at most that window of page-view rows; every authenticated, denied or
 * writing request is still recorded synchronously with `append` (made durable, with `durable`, for
 * the row of an act that is itself durable: see `durably`).
 */
import { durably, prepared, type Sqlite } from './Database.ts';
import type { AuditEntry, AuditQuery, AuditRecord } from './accessTypes.ts';
import { text } from './validateEntry.ts';

interface AuditRow {
  id: number;
  at: string;
  actor_kind: AuditEntry['actorKind'];
  actor_id: string | null;
  tenant_id: string | null;
  action: string;
  object: string | null;
  outcome: AuditEntry['outcome'];
  status: number | null;
  ip: string | null;
  request_id: string | null;
  details: string | null;
}

const toRecord = (r: AuditRow): AuditRecord => ({
  id: r.id,
  at: new Date(r.at),
  actorKind: r.actor_kind,
  actorId: r.actor_id,
  tenantId: r.tenant_id,
  action: r.action,
  object: r.object,
  outcome: r.outcome,
  status: r.status,
  ip: r.ip,
  requestId: r.request_id,
  details: r.details === null ? null : (JSON.parse(r.details) as Record<string, unknown>),
});

export interface DeferOptions {
  /** Longest a deferred row waits (ms). */
  deferMs?: number;
  /** Rows that trigger a write at once. */
  deferMax?: number;
  /** Called when a deferred batch cannot be written (the rows are dropped, loudly). */
  onError?: (err: unknown, lost: number) => void;
}

type Pending = { at: Date; entry: AuditEntry };

const INSERT_ONE = `INSERT INTO audit_log (at, actor_kind, actor_id, tenant_id, action, object, outcome, status, ip, request_id, details)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
/** Deferred rows are written this many to an INSERT (SQLite allows 32 766 parameters; 11 per row). */
const BATCH_ROWS = 32;
const INSERT_MANY = `${INSERT_ONE}${', (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)'.repeat(BATCH_ROWS - 1)}`;

/** An entry's column values, in INSERT_ONE's order. */
function columns(at: Date, entry: AuditEntry): Array<string | number | null> {
  return [
    at.toISOString(),
    entry.actorKind,
    entry.actorId,
    entry.tenantId,
    text('action', entry.action, 100),
    entry.object === null ? null : entry.object.slice(0, 500),
    entry.outcome,
    entry.status ?? null,
    entry.ip ?? null,
    entry.requestId ?? null,
    entry.details === null || entry.details === undefined ? null : JSON.stringify(entry.details),
  ];
}

export class AuditLog {
  private pending: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly deferMs: number;
  private readonly deferMax: number;
  private readonly onError: (err: unknown, lost: number) => void;

  constructor(
    private readonly db: Sqlite,
    private readonly now: () => Date = () => new Date(),
    options: DeferOptions = {},
  ) {
    this.deferMs = options.deferMs ?? 100;
    this.deferMax = options.deferMax ?? 256;
    // A batch is written from a timer: throwing there would end the process. Loud, not fatal.
    this.onError = options.onError ?? ((err, lost) => process.stderr.write(`audit: ${lost} deferred row(s) lost: ${err instanceof Error ? err.message : String(err)}\n`));
  }

  /** Writes the row now; `durable`: on disk before it returns (`durably`), for the row of a durable act. */
  append(entry: AuditEntry, options: { durable?: boolean } = {}): number {
    const at = this.now();
    return options.durable ? durably(this.db, () => this.insert(at, entry)) : this.insert(at, entry);
  }

  /** Queues a row (see the header): written within `deferMs`, in one transaction with its neighbours. */
  appendDeferred(entry: AuditEntry): void {
    this.pending.push({ at: this.now(), entry });
    if (this.pending.length >= this.deferMax) this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.deferMs);
      this.timer.unref();
    }
  }

  /** Writes the queued rows now (also called by `list` and before the database closes). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    try {
      this.db.transaction(() => {
        // Several rows per INSERT: a statement run costs more than the row it writes.
        let i = 0;
        for (; i + BATCH_ROWS <= batch.length; i += BATCH_ROWS) {
          const args: Array<string | number | null> = [];
          for (let j = i; j < i + BATCH_ROWS; j++) args.push(...columns(batch[j]!.at, batch[j]!.entry));
          prepared(this.db, INSERT_MANY).run(args);
        }
        for (; i < batch.length; i++) this.insert(batch[i]!.at, batch[i]!.entry);
      })();
    } catch (err) {
      this.onError(err, batch.length);
    }
  }

  private insert(at: Date, entry: AuditEntry): number {
    return Number(prepared(this.db, INSERT_ONE).run(columns(at, entry)).lastInsertRowid);
  }

  /** Oldest first from `since` (inclusive) and after the row `afterId` (paging); at most `limit` rows (default 1000). */
  list(q: AuditQuery = {}): AuditRecord[] {
    this.flush();
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.since) {
      where.push('at >= ?');
      args.push(q.since.toISOString());
    }
    if (q.afterId !== undefined) {
      where.push('id > ?');
      args.push(q.afterId);
    }
    if (q.tenantId !== undefined) {
      where.push('tenant_id = ?');
      args.push(q.tenantId);
    }
    const limit = Math.max(1, Math.min(q.limit ?? 1000, 100_000));
    const sql = `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT ${limit}`;
    return (this.db.prepare(sql).all(...args) as AuditRow[]).map(toRecord);
  }
}
