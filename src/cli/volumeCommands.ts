/**
 * Register volumes from the command line: `registry volumes` lists a tenant's volumes (opened, closed,
 * numbers, totals) and `registry close-year` performs the year-end act of domain.md — "closed at year
 * end with the year's total" — for every open volume of a tenant's year at once.
 *
 * Closing is recorded in the volume row (closed_at, total_certified, total_voided; the schema then
 * freezes the row and `registry verify` checks the totals against the entries) and in the audit log.
 * It is not an event of the copy chain: copy_events names one certified copy per event (copy_id NOT
 * NULL, type issued|annulled|voided), and changing that is a table rebuild of released SQL.
 */
import { InputError } from '../errors.ts';
import { AuditLog, CopyRepository, TenantRepository, registerYear, type RegisterVolume, type Tenant } from '../registry/index.ts';
import type { Command } from './command.ts';
import { openRegister } from './register.ts';

function withRegistry<T>(tenantCode: unknown, fn: (ctx: { copies: CopyRepository; audit: AuditLog; tenant: Tenant }) => T): T {
  if (typeof tenantCode !== 'string' || tenantCode.trim() === '') throw new InputError('invalid-parameters', '--tenant is required');
  const db = openRegister();
  try {
    const tenant = new TenantRepository(db.db).getByCode(tenantCode);
    if (!tenant) throw new InputError('tenant-not-found', `no tenant with code ${tenantCode}`);
    return fn({ copies: new CopyRepository(db.db), audit: new AuditLog(db.db), tenant });
  } finally {
    db.close();
  }
}

function parseYear(raw: unknown): number | undefined {
  if (raw === undefined) return undefined;
  const y = Number(raw);
  if (typeof raw !== 'string' || !/^\d{4}$/.test(raw) || y < 1900) throw new InputError('invalid-parameters', '--year must be a year, e.g. 2026');
  return y;
}

interface VolumeLine {
  volume: string;
  year: number;
  openedAt: string;
  closedAt: string | null;
  numbers: string;
  certified: number;
  voided: number;
  annulled: number;
  reserved: number;
}

function describe(copies: CopyRepository, v: RegisterVolume): VolumeLine {
  const c = copies.volumes.volumeCounts(v.id);
  return {
    volume: `${v.label}${v.registerSuffix}`,
    year: v.year,
    openedAt: v.openedAt.toISOString(),
    closedAt: v.closedAt?.toISOString() ?? null,
    numbers: v.lastNumber < v.firstNumber ? '—' : `${v.firstNumber}–${v.lastNumber}`,
    // A closed volume shows what was stored at closing (the legal total), an open one its count so far.
    certified: v.totalCertified ?? c.certified,
    voided: v.totalVoided ?? c.voided,
    annulled: c.annulled,
    reserved: c.reserved,
  };
}

function table(lines: VolumeLine[]): string {
  const head = ['volume', 'opened', 'closed', 'numbers', 'certified', 'voided', 'annulled', 'reserved'];
  const rows = lines.map((l) => [l.volume, l.openedAt.slice(0, 10), l.closedAt?.slice(0, 10) ?? 'open', l.numbers, ...[l.certified, l.voided, l.annulled, l.reserved].map(String)]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [head, ...rows].map((r) => r.map((c, i) => (i >= 4 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n') + '\n';
}

export const registryVolumes: Command = {
  path: ['registry', 'volumes'],
  summary: "list a tenant's register volumes (quyển số): opened, closed, numbers and totals",
  usage: '--tenant CODE [--year YYYY] [--json]',
  options: {
    tenant: [{ type: 'string' }, 'tenant code'],
    year: [{ type: 'string' }, 'only this year'],
    json: [{ type: 'boolean' }, 'print JSON'],
  },
  async run(values, _p, io) {
    const year = parseYear(values.year);
    const lines = withRegistry(values.tenant, ({ copies, tenant }) => copies.volumes.listVolumes(tenant.id, year).map((v) => describe(copies, v)));
    if (values.json === true) io.out(JSON.stringify({ volumes: lines }, null, 2) + '\n');
    else io.out(lines.length === 0 ? 'no register volumes\n' : table(lines));
    return 0;
  },
};

export const registryCloseYear: Command = {
  path: ['registry', 'close-year'],
  summary: "close every open register volume of a tenant's year, storing each volume's total (year-end act)",
  usage: '--tenant CODE --year YYYY [--force] [--json]',
  options: {
    tenant: [{ type: 'string' }, 'tenant code'],
    year: [{ type: 'string' }, 'the year to close'],
    force: [{ type: 'boolean' }, 'allow closing the current year before it ends (no more copies can be certified in it)'],
    json: [{ type: 'boolean' }, 'print JSON'],
  },
  async run(values, _p, io) {
    const year = parseYear(values.year);
    if (year === undefined) throw new InputError('invalid-parameters', '--year is required');
    const now = new Date();
    const current = registerYear(now);
    if (year > current) throw new InputError('year-not-ended', `${year} has not begun`);
    if (year === current && values.force !== true) {
      throw new InputError('year-not-ended', `${year} is the current year (Việt Nam time): closing it stops certification until next year; add --force to close it anyway`);
    }
    const actor = process.env.USER ?? 'local';
    const result = withRegistry(values.tenant, ({ copies, audit, tenant }) => {
      // Reservations past their expiry are dead (their copies can no longer be registered): void them
      // as the sweeper would, so that only live ones hold the closing back.
      const swept = copies.voidExpiredReservations(now).filter((e) => e.tenantId === tenant.id).length;
      let closing;
      try {
        closing = copies.volumes.closeYear(tenant.id, year, now);
      } catch (err) {
        audit.append({ actorKind: 'cli', actorId: actor, tenantId: tenant.id, action: 'registry.close-year', object: `register:${tenant.code}/${year}`, outcome: 'rejected', details: { error: err instanceof Error ? err.message : String(err) } });
        throw err;
      }
      const closedLabels = closing.volumes.filter((v) => closing.closed.includes(v.id)).map((v) => `${v.label}${v.registerSuffix}`);
      if (closing.closed.length > 0) {
        audit.append(
          {
            actorKind: 'cli',
            actorId: actor,
            tenantId: tenant.id,
            action: 'registry.close-year',
            object: `register:${tenant.code}/${year}`,
            outcome: 'success',
            details: { closed: closedLabels, totalCertified: closing.totalCertified, totalVoided: closing.totalVoided },
          },
          { durable: true }, // on disk, as the closing itself
        );
      }
      return { closing, swept, lines: closing.volumes.map((v) => describe(copies, v)), closedLabels };
    });
    const { closing } = result;
    if (values.json === true) {
      io.out(JSON.stringify({ year, closed: result.closedLabels, volumes: result.lines, totalCertified: closing.totalCertified, totalVoided: closing.totalVoided }, null, 2) + '\n');
      return 0;
    }
    if (result.swept > 0) io.out(`${result.swept} expired reservation(s) voided first\n`);
    if (closing.volumes.length === 0) {
      io.out(`no register volumes in ${year}: nothing to close\n`);
      return 0;
    }
    io.out(table(result.lines));
    io.out(
      closing.closed.length === 0
        ? `the register of ${year} was already closed: ${closing.totalCertified} certified, ${closing.totalVoided} voided\n`
        : `closed ${result.closedLabels.join(', ')}; total of ${year}: ${closing.totalCertified} certified, ${closing.totalVoided} voided\n`,
    );
    return 0;
  },
};
