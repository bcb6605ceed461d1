/**
 * The audit log: who (API key, officer, public, CLI user) did what to which object, when, from
 * where, with what outcome. Append-only — the schema's triggers refuse UPDATE and DELETE.
 * One INSERT per entry, synchronous (better-sqlite3), so it never spans an await.
 */
import { prepared, type Sqlite } from './Database.ts';
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

export class AuditLog {
  constructor(
    private readonly db: Sqlite,
    private readonly now: () => Date = () => new Date(),
  ) {}

  append(entry: AuditEntry): number {
    const res = prepared(
      this.db,
      `INSERT INTO audit_log (at, actor_kind, actor_id, tenant_id, action, object, outcome, status, ip, request_id, details)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      this.now().toISOString(),
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
    );
    return Number(res.lastInsertRowid);
  }

  /** Oldest first from `since` (inclusive) and after the row `afterId` (paging); at most `limit` rows (default 1000). */
  list(q: AuditQuery = {}): AuditRecord[] {
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
