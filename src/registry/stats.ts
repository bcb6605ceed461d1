/** Sizes of the register for monitoring (the metrics gauge): counts only, never contents. */
import type { Sqlite } from './Database.ts';

export interface RegistrySize {
  /** Register entries by status (reserved, valid, annulled, voided). */
  copiesByStatus: Record<string, number>;
  tenants: number;
  activeApiKeys: number;
  auditEntries: number;
}

export function registrySize(db: Sqlite): RegistrySize {
  const copiesByStatus: Record<string, number> = {};
  for (const r of db.prepare('SELECT status, count(*) AS n FROM certified_copies GROUP BY status').all() as Array<{ status: string; n: number }>) {
    copiesByStatus[r.status] = r.n;
  }
  const count = (sql: string): number => (db.prepare(sql).get() as { n: number }).n;
  return {
    copiesByStatus,
    tenants: count('SELECT count(*) AS n FROM tenants'),
    activeApiKeys: count('SELECT count(*) AS n FROM api_keys WHERE revoked_at IS NULL'),
    // max(id) rather than count(*): O(1) on the append-only table (ids are AUTOINCREMENT, never reused).
    auditEntries: count('SELECT coalesce(max(id), 0) AS n FROM audit_log'),
  };
}
