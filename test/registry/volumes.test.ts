/**
 * Year-end closing of register volumes through the real CLI (`registry close-year`, `registry
 * volumes`) on a real SQLite registry, plus VolumeRepository.closeYear's all-or-nothing rule.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { AuditLog, CopyRepository, TenantRepository, openDatabase, registerYear, type OpenedDatabase, type Tenant } from '../../src/registry/index.ts';
import { sampleCopy } from './fixtures/sampleCopy.ts';

let dir: string;
let opened: OpenedDatabase;
let copies: CopyRepository;
let tenant: Tenant;
let other: Tenant;
const savedDataDir = process.env.DATA_DIR;

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'chungthuc-volumes-'));
  process.env.DATA_DIR = dir;
  opened = openDatabase(path.join(dir, 'chungthuc.sqlite'));
  const tenants = new TenantRepository(opened.db);
  tenant = tenants.create({ code: 'ben-thanh', name: 'UBND phường Bến Thành' });
  other = tenants.create({ code: 'tan-phu', name: 'UBND xã Tân Phú', registerSuffix: '-SCTĐT/BS' });
  copies = new CopyRepository(opened.db);
});
afterEach(() => {
  opened.close();
  rmSync(dir, { recursive: true, force: true });
  if (savedDataDir === undefined) delete process.env.DATA_DIR;
  else process.env.DATA_DIR = savedDataDir;
});

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join(''), err: err.join('') };
}

const at = (iso: string) => new Date(iso);
const volumeRow = (id: string) => opened.db.prepare('SELECT closed_at, total_certified, total_voided FROM register_volumes WHERE id = ?').get(id);

/** 2025 for ben-thanh: volume 01 with 1..3 (3 annulled later) and a voided 4, closed mid-year; volume 02 with 5..6. */
function seed2025(): void {
  copies.volumes.openVolume(tenant.id, 2025, at('2025-02-01T03:00:00Z'));
  for (const n of [1, 2, 3]) copies.issueCopy(sampleCopy(tenant.id, n, at('2025-02-01T03:00:00Z')));
  const r = copies.reserveNumber(tenant.id, 2025, 60_000, { at: at('2025-02-02T03:00:00Z') });
  copies.voidReservation(r.id, 'signature failed', { actor: 'officer1', at: at('2025-02-02T03:01:00Z') });
  const v1 = copies.volumes.listVolumes(tenant.id, 2025)[0]!;
  copies.volumes.closeVolume(v1.id, at('2025-06-30T10:00:00Z'));
  copies.volumes.openVolume(tenant.id, 2025, at('2025-07-01T01:00:00Z'));
  for (const n of [5, 6]) copies.issueCopy(sampleCopy(tenant.id, n, at('2025-08-01T03:00:00Z')));
  const third = copies.listCopies(tenant.id).items.find((e) => e.number === 3)!;
  // Annulling does not touch the (closed) volume row: the copy stays counted as certified.
  copies.annulCopy(third.id, { decisionNumber: '12/QĐ-UBND', decisionDate: '2025-09-01', reason: 'sai sót', actor: 'chairman' });
  // Another tenant's 2025 must stay open.
  copies.issueCopy(sampleCopy(other.id, 1, at('2025-03-01T03:00:00Z')));
}

describe('chungthuc registry close-year', () => {
  it("closes every open volume of the year, prints each volume's total and the year's, and is idempotent", async () => {
    seed2025();
    const r = await cli('registry', 'close-year', '--tenant', 'ben-thanh', '--year', '2025');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const rows = r.out.split('\n');
    expect(rows.find((l) => l.startsWith('01/2025-SCT/BS'))).toMatch(/^01\/2025-SCT\/BS\s+2025-02-01\s+2025-06-30\s+1–4\s+3\s+1\s+1\s+0$/);
    expect(rows.find((l) => l.startsWith('02/2025-SCT/BS'))).toMatch(/^02\/2025-SCT\/BS\s+2025-07-01\s+\d{4}-\d{2}-\d{2}\s+5–6\s+2\s+0\s+0\s+0$/);
    expect(r.out).toContain('closed 02/2025-SCT/BS; total of 2025: 5 certified, 1 voided');

    const [v1, v2] = copies.volumes.listVolumes(tenant.id, 2025);
    expect(volumeRow(v2!.id)).toMatchObject({ total_certified: 2, total_voided: 0 });
    expect(v2!.closedAt).not.toBeNull();
    expect(v1!.closedAt!.toISOString()).toBe('2025-06-30T10:00:00.000Z'); // untouched
    expect(copies.volumes.listVolumes(other.id, 2025)[0]!.closedAt).toBeNull(); // other tenant untouched
    expect(copies.verifyChain()).toMatchObject({ ok: true });

    // No more numbers in a closed year.
    expect(() => copies.reserveNumber(tenant.id, 2025, 60_000)).toThrow(expect.objectContaining({ code: 'volume-closed' }));

    const audit = new AuditLog(opened.db).list({ tenantId: tenant.id }).filter((a) => a.action === 'registry.close-year');
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ outcome: 'success', object: 'register:ben-thanh/2025', details: { closed: ['02/2025-SCT/BS'], totalCertified: 5, totalVoided: 1 } });

    const again = await cli('registry', 'close-year', '--tenant', 'ben-thanh', '--year', '2025', '--json');
    expect(again.code).toBe(0);
    expect(JSON.parse(again.out)).toMatchObject({ year: 2025, closed: [], totalCertified: 5, totalVoided: 1 });
    expect(copies.volumes.listVolumes(tenant.id, 2025)[1]!.closedAt!.getTime()).toBe(v2!.closedAt!.getTime());
    expect(new AuditLog(opened.db).list({ tenantId: tenant.id }).filter((a) => a.action === 'registry.close-year')).toHaveLength(1);
  });

  it('voids expired reservations first, and refuses (all or nothing) while a live one is pending', async () => {
    const year = registerYear(new Date());
    copies.issueCopy(sampleCopy(tenant.id, 1, new Date()));
    copies.reserveNumber(tenant.id, year, 1000, { at: new Date(Date.now() - 60_000) }); // expired a minute ago
    const live = copies.reserveNumber(tenant.id, year, 3_600_000);

    const refused = await cli('registry', 'close-year', '--tenant', 'ben-thanh', '--year', String(year), '--force');
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('[volume-has-reservations]');
    const volume = copies.volumes.listVolumes(tenant.id, year)[0]!;
    expect(volume.closedAt).toBeNull();
    expect(copies.volumes.volumeCounts(volume.id)).toEqual({ reserved: 1, certified: 1, annulled: 0, voided: 1 });
    expect(new AuditLog(opened.db).list({ tenantId: tenant.id }).at(-1)).toMatchObject({ action: 'registry.close-year', outcome: 'rejected' });

    copies.voidReservation(live.id, 'officer cancelled', { actor: 'officer1' });
    const ok = await cli('registry', 'close-year', '--tenant', 'ben-thanh', '--year', String(year), '--force');
    expect(ok.code).toBe(0);
    expect(ok.out).toContain(`total of ${year}: 1 certified, 2 voided`);
  });

  it('refuses the current year without --force, a future year, and bad parameters', async () => {
    const year = registerYear(new Date());
    copies.issueCopy(sampleCopy(tenant.id, 1, new Date()));
    const current = await cli('registry', 'close-year', '--tenant', 'ben-thanh', '--year', String(year));
    expect(current.code).toBe(1);
    expect(current.err).toContain('[year-not-ended]');
    expect(copies.volumes.listVolumes(tenant.id, year)[0]!.closedAt).toBeNull();
    expect((await cli('registry', 'close-year', '--tenant', 'ben-thanh', '--year', String(year + 1), '--force')).err).toContain('[year-not-ended]');
    expect((await cli('registry', 'close-year', '--tenant', 'ben-thanh')).err).toContain('--year is required');
    expect((await cli('registry', 'close-year', '--tenant', 'nobody', '--year', '2025')).err).toContain('[tenant-not-found]');
    expect((await cli('registry', 'close-year', '--tenant', 'ben-thanh', '--year', '25')).err).toContain('--year must be a year');
  });

  it('says so when the year has no volumes', async () => {
    const r = await cli('registry', 'close-year', '--tenant', 'tan-phu', '--year', '2024');
    expect(r).toMatchObject({ code: 0, out: 'no register volumes in 2024: nothing to close\n' });
  });
});

describe('chungthuc registry volumes', () => {
  it("lists one tenant's volumes with opened, closed, numbers and totals, filtered by year", async () => {
    seed2025();
    copies.volumes.openVolume(tenant.id, 2026, at('2026-01-05T03:00:00Z'));
    copies.issueCopy(sampleCopy(tenant.id, 1, at('2026-01-05T03:00:00Z')));
    const all = JSON.parse((await cli('registry', 'volumes', '--tenant', 'ben-thanh', '--json')).out) as { volumes: Array<Record<string, unknown>> };
    expect(all.volumes.map((v) => v.volume)).toEqual(['01/2025-SCT/BS', '02/2025-SCT/BS', '01/2026-SCT/BS']);
    expect(all.volumes[0]).toMatchObject({ closedAt: '2025-06-30T10:00:00.000Z', numbers: '1–4', certified: 3, voided: 1, annulled: 1, reserved: 0 });
    expect(all.volumes[1]).toMatchObject({ closedAt: null, numbers: '5–6', certified: 2, voided: 0 });
    const y2026 = await cli('registry', 'volumes', '--tenant', 'ben-thanh', '--year', '2026');
    expect(y2026.code).toBe(0);
    expect(y2026.out.split('\n')[0]).toMatch(/^volume\s+opened\s+closed\s+numbers\s+certified\s+voided\s+annulled\s+reserved$/);
    expect(y2026.out.split('\n')[1]).toMatch(/^01\/2026-SCT\/BS\s+2026-01-05\s+open\s+1–1\s+1\s+0\s+0\s+0$/);
    expect(y2026.out).not.toContain('2025');
    const tanPhu = await cli('registry', 'volumes', '--tenant', 'tan-phu');
    expect(tanPhu.out).toContain('01/2025-SCTĐT/BS');
    expect(tanPhu.out).not.toContain('-SCT/BS');
  });
});

describe('VolumeRepository.closeYear', () => {
  it('closes nothing while a reservation is pending', () => {
    copies.issueCopy(sampleCopy(tenant.id, 1, at('2025-02-01T03:00:00Z')));
    copies.reserveNumber(tenant.id, 2025, 60_000, { at: at('2025-02-02T03:00:00Z') });
    expect(() => copies.volumes.closeYear(tenant.id, 2025, at('2026-01-01T00:00:00Z'))).toThrow(expect.objectContaining({ code: 'volume-has-reservations' }));
    expect(copies.volumes.listVolumes(tenant.id, 2025).every((v) => v.closedAt === null)).toBe(true);
  });
});
