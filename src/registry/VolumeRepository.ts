/**
 * Register volumes (quyển số) per tenant and year, and the allocation of certification numbers.
 *
 * Numbering: "sequential within a register volume, no gaps, no reuse" (domain.md). Volumes are opened
 * per year; should a second volume be opened in the same year (a deliberate act, `openVolume`), its
 * numbers continue the year's sequence, as the paper rule does when a book is full mid-year (Circular
 * 01/2020/TT-BTP on certification registers — verify). A new year always starts again at 1.
 */
import { randomUUID } from 'node:crypto';
import { durably, prepared, type Sqlite } from './Database.ts';
import { RegistryError } from './errors.ts';
import type { RegisterVolume } from './types.ts';
import { instant, positiveInt, text } from './validateEntry.ts';

interface VolumeRow {
  id: string;
  tenant_id: string;
  year: number;
  seq: number;
  register_suffix: string;
  opened_at: string;
  first_number: number;
  last_number: number;
  closed_at: string | null;
  total_certified: number | null;
  total_voided: number | null;
}

export interface VolumeCounts {
  reserved: number;
  /** Valid or later annulled: an annulled copy was certified and keeps its number. */
  certified: number;
  annulled: number;
  voided: number;
}

export interface YearClosing {
  year: number;
  /** Ids of the volumes closed by this call (empty when the year was closed already). */
  closed: string[];
  /** Every volume of the year, as stored after closing. */
  volumes: RegisterVolume[];
  /** The year's totals: sums of the volumes' stored totals. */
  totalCertified: number;
  totalVoided: number;
}

export function volumeLabel(seq: number, year: number): string {
  return `${String(seq).padStart(2, '0')}/${year}`;
}

function toVolume(r: VolumeRow): RegisterVolume {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    year: r.year,
    seq: r.seq,
    label: volumeLabel(r.seq, r.year),
    registerSuffix: r.register_suffix,
    openedAt: new Date(r.opened_at),
    firstNumber: r.first_number,
    lastNumber: r.last_number,
    closedAt: r.closed_at === null ? null : new Date(r.closed_at),
    totalCertified: r.total_certified,
    totalVoided: r.total_voided,
  };
}

function year(value: number): number {
  const y = positiveInt('year', value, 1900);
  if (y > 9999) throw new RegistryError('registry-invalid-year', `year ${y} is out of range`, { status: 422 });
  return y;
}

export class VolumeRepository {
  constructor(
    private readonly db: Sqlite,
    private readonly now: () => Date = () => new Date(),
  ) {}

  getVolume(volumeId: string): RegisterVolume | null {
    const r = prepared(this.db, 'SELECT * FROM register_volumes WHERE id = ?').get(volumeId) as VolumeRow | undefined;
    return r ? toVolume(r) : null;
  }

  listVolumes(tenantId: string, forYear?: number): RegisterVolume[] {
    const rows = (
      forYear === undefined
        ? this.db.prepare('SELECT * FROM register_volumes WHERE tenant_id = ? ORDER BY year, seq').all(tenantId)
        : this.db.prepare('SELECT * FROM register_volumes WHERE tenant_id = ? AND year = ? ORDER BY seq').all(tenantId, forYear)
    ) as VolumeRow[];
    return rows.map(toVolume);
  }

  /** Opens the next volume of `year`; refused while one is open. */
  openVolume(tenantId: string, forYear: number, at: Date = this.now()): RegisterVolume {
    const y = year(forYear);
    const openedAt = instant('at', at).toISOString();
    return this.db.transaction((): RegisterVolume => {
      const tenant = this.db.prepare('SELECT register_suffix FROM tenants WHERE id = ?').get(tenantId) as { register_suffix: string } | undefined;
      if (!tenant) throw new RegistryError('tenant-not-found', `no tenant ${tenantId}`, { status: 404 });
      const open = this.openRow(tenantId, y);
      if (open) throw new RegistryError('volume-already-open', `volume ${volumeLabel(open.seq, y)} is still open`, { status: 409 });
      const prev = this.db
        .prepare('SELECT seq, last_number FROM register_volumes WHERE tenant_id = ? AND year = ? ORDER BY seq DESC LIMIT 1')
        .get(tenantId, y) as { seq: number; last_number: number } | undefined;
      const row: VolumeRow = {
        id: randomUUID(),
        tenant_id: tenantId,
        year: y,
        seq: (prev?.seq ?? 0) + 1,
        register_suffix: tenant.register_suffix,
        opened_at: openedAt,
        first_number: (prev?.last_number ?? 0) + 1,
        last_number: prev?.last_number ?? 0,
        closed_at: null,
        total_certified: null,
        total_voided: null,
      };
      this.db
        .prepare(
          `INSERT INTO register_volumes (id, tenant_id, year, seq, register_suffix, opened_at, first_number, last_number)
           VALUES (@id, @tenant_id, @year, @seq, @register_suffix, @opened_at, @first_number, @last_number)`,
        )
        .run(row);
      return toVolume(row);
    }).immediate();
  }

  /**
   * The open volume of `year`, opening the first one on first use. Once every volume of the year is
   * closed this refuses (`volume-closed`) rather than silently opening another: closing is the
   * year-end act that fixes the total.
   */
  currentVolume(tenantId: string, forYear: number, at: Date = this.now()): RegisterVolume {
    const y = year(forYear);
    return this.db.transaction((): RegisterVolume => {
      const open = this.openRow(tenantId, y);
      if (open) return toVolume(open);
      const any = this.db.prepare('SELECT 1 FROM register_volumes WHERE tenant_id = ? AND year = ? LIMIT 1').get(tenantId, y);
      if (any) throw new RegistryError('volume-closed', `the register of ${y} is closed`, { status: 409 });
      return this.openVolume(tenantId, y, at);
    }).immediate();
  }

  /** Entries of a volume by state: what closing stores, and what an open volume holds so far. */
  volumeCounts(volumeId: string): VolumeCounts {
    const c = this.db
      .prepare(
        `SELECT SUM(status = 'reserved') AS reserved, SUM(status IN ('valid', 'annulled')) AS certified,
                SUM(status = 'annulled') AS annulled, SUM(status = 'voided') AS voided FROM certified_copies WHERE volume_id = ?`,
      )
      .get(volumeId) as Record<keyof VolumeCounts, number | null>;
    return { reserved: c.reserved ?? 0, certified: c.certified ?? 0, annulled: c.annulled ?? 0, voided: c.voided ?? 0 };
  }

  /**
   * Closes a volume, storing its totals (domain.md: "closed at year end with the year's total").
   * Refused while numbers are reserved in it: void or complete them first. On disk when it returns
   * (`durably`), as the year closing.
   */
  closeVolume(volumeId: string, at: Date = this.now()): RegisterVolume {
    const closedAt = instant('at', at).toISOString();
    return durably(this.db, () =>
      this.db.transaction((): RegisterVolume => {
        const v = this.db.prepare('SELECT * FROM register_volumes WHERE id = ?').get(volumeId) as VolumeRow | undefined;
        if (!v) throw new RegistryError('volume-not-found', `no register volume ${volumeId}`, { status: 404 });
        if (v.closed_at !== null) throw new RegistryError('volume-closed', `volume ${volumeLabel(v.seq, v.year)} is already closed`, { status: 409 });
        const counts = this.volumeCounts(volumeId);
        if (counts.reserved > 0) {
          throw new RegistryError('volume-has-reservations', `${counts.reserved} numbers are still reserved in volume ${volumeLabel(v.seq, v.year)}`, {
            status: 409,
            details: { reserved: counts.reserved },
          });
        }
        this.db
          .prepare('UPDATE register_volumes SET closed_at = ?, total_certified = ?, total_voided = ? WHERE id = ?')
          .run(closedAt, counts.certified, counts.voided, volumeId);
        return toVolume(this.db.prepare('SELECT * FROM register_volumes WHERE id = ?').get(volumeId) as VolumeRow);
      }).immediate(),
    );
  }

  /**
   * The year-end act: closes every open volume of the tenant's `year` in one transaction (all or
   * none: one volume with a pending reservation refuses the whole year). Idempotent: a year already
   * closed comes back with `closed` empty. The year's total is the sum over its volumes.
   */
  closeYear(tenantId: string, forYear: number, at: Date = this.now()): YearClosing {
    const y = year(forYear);
    return durably(this.db, () =>
      this.db.transaction((): YearClosing => {
        const open = this.listVolumes(tenantId, y).filter((v) => v.closedAt === null);
        const closed = open.map((v) => this.closeVolume(v.id, at));
        const volumes = this.listVolumes(tenantId, y);
        return {
          year: y,
          closed: closed.map((v) => v.id),
          volumes,
          totalCertified: volumes.reduce((n, v) => n + (v.totalCertified ?? 0), 0),
          totalVoided: volumes.reduce((n, v) => n + (v.totalVoided ?? 0), 0),
        };
      }).immediate(),
    );
  }

  /**
   * Takes the next number of the tenant's open volume for `year`. MUST run inside the caller's write
   * transaction, together with the row that uses the number: if that transaction rolls back (error,
   * crash), the number was never taken — hence no gap and no reuse.
   */
  allocateNumber(tenantId: string, forYear: number, at: Date): { volume: RegisterVolume; number: number } {
    if (!this.db.inTransaction) throw new Error('allocateNumber must run inside a write transaction');
    text('tenantId', tenantId, 200);
    const volume = this.currentVolume(tenantId, forYear, at);
    const number = volume.lastNumber + 1;
    const changed = prepared(this.db, 'UPDATE register_volumes SET last_number = ? WHERE id = ? AND last_number = ? AND closed_at IS NULL').run(
      number,
      volume.id,
      volume.lastNumber,
    ).changes;
    if (changed !== 1) throw new RegistryError('number-allocation-conflict', 'the volume changed during allocation', { retryable: true });
    return { volume: { ...volume, lastNumber: number }, number };
  }

  private openRow(tenantId: string, y: number): VolumeRow | undefined {
    return prepared(this.db, 'SELECT * FROM register_volumes WHERE tenant_id = ? AND year = ? AND closed_at IS NULL').get(tenantId, y) as
      | VolumeRow
      | undefined;
  }
}
