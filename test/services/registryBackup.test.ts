/**
 * Backups of the register and its copy store (`chungthuc registry backup`), and the store check of
 * `chungthuc registry verify --files`: a real SQLite register with issued, annulled and voided
 * entries, real files, and the real CLI process for the commands.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config.ts';
import { CopyRepository, TenantRepository, openDatabase, openSnapshot, type OpenedDatabase, type Tenant } from '../../src/registry/index.ts';
import { backupRegistry, checkCopyStore } from '../../src/services/registryBackup.ts';
import { sampleCopy } from '../registry/fixtures/sampleCopy.ts';

const sha256 = (b: string | Uint8Array) => createHash('sha256').update(b).digest('hex');

let dir: string;
let dataDir: string;
let storeDir: string;
let opened: OpenedDatabase;
let copies: CopyRepository;
let tenant: Tenant;

/** Issues entry `n` with a stored file whose SHA-256 is the one registered. */
function issue(n: number): { id: string; fileKey: string; bytes: string } {
  const fileKey = path.join(tenant.id, '2026', `copy-${n}.pdf`);
  const bytes = `%PDF-1.7\n% certified copy ${n}\n${'x'.repeat(1000 * n)}\n%%EOF\n`;
  mkdirSync(path.dirname(path.join(storeDir, fileKey)), { recursive: true });
  writeFileSync(path.join(storeDir, fileKey), bytes);
  const c = copies.issueCopy({ ...sampleCopy(tenant.id, n), fileKey, pdfSha256: sha256(bytes) });
  return { id: c.id, fileKey, bytes };
}

/** Files under `d` (relative), hidden ones included. */
const filesUnder = (d: string) => (existsSync(d) ? readdirSync(d, { recursive: true }).map(String).filter((f) => f.includes('.')).sort() : []);

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'chungthuc-backup-'));
  dataDir = path.join(dir, 'data');
  storeDir = path.join(dataDir, 'copies');
  opened = openDatabase(path.join(dataDir, 'chungthuc.sqlite'));
  tenant = new TenantRepository(opened.db).create({ code: 'BT', name: 'UBND phường Bến Thành' });
  copies = new CopyRepository(opened.db);
});
afterEach(() => {
  opened.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('registry backup', () => {
  it('snapshots the register in use and copies every issued copy, verified; a second backup copies only the new one', async () => {
    const one = issue(1);
    const two = issue(2);
    const three = issue(3);
    copies.annulCopy(two.id, { decisionNumber: '12/QĐ-UBND', decisionDate: '2026-04-01', reason: 'Bản chính giả', actor: 'chairman', tenantId: tenant.id });
    const voided = copies.reserveNumber(tenant.id, 2026, 60_000);
    copies.voidReservation(voided.id, 'signing failed');
    const target = path.join(dir, 'backup');

    const first = await backupRegistry(opened.db, storeDir, target, new Date('2026-11-30T02:00:00Z'));
    expect(first.ok).toBe(true);
    expect(first.problems).toEqual([]);
    // Issued and annulled copies are backed up; the voided number has no file.
    expect(first.files).toEqual({ entries: 3, copied: 3, alreadyPresent: 0, bytesCopied: [one, two, three].reduce((s, c) => s + c.bytes.length, 0) });
    expect(first.chain).toMatchObject({ ok: true, entries: 4, head: copies.chainHead() });
    expect(path.basename(first.snapshot)).toBe('chungthuc-20261130T020000Z.sqlite');
    for (const c of [one, two, three]) expect(readFileSync(path.join(target, 'copies', c.fileKey), 'utf8')).toBe(c.bytes);
    // The snapshot is a register of its own: same entries, same chain.
    const snap = openSnapshot(first.snapshot);
    try {
      expect(new CopyRepository(snap).verifyChain()).toMatchObject({ ok: true, entries: 4, head: copies.chainHead() });
      expect(new CopyRepository(snap).getCopy(tenant.id, two.id)?.status).toBe('annulled');
    } finally {
      snap.close();
    }
    const manifest = JSON.parse(readFileSync(first.manifest, 'utf8')) as Record<string, any>;
    expect(manifest.database.sha256).toBe(sha256(readFileSync(first.snapshot)));
    expect(manifest.chain).toMatchObject({ ok: true, events: first.chain.checked, head: copies.chainHead() });
    expect(manifest.files).toEqual(first.files);

    const four = issue(4);
    const second = await backupRegistry(opened.db, storeDir, target, new Date('2026-12-01T02:00:00Z'));
    expect(second.ok).toBe(true);
    expect(second.files).toMatchObject({ entries: 4, copied: 1, alreadyPresent: 3, bytesCopied: four.bytes.length });
    // Each snapshot keeps its own instant: the first does not know copy 4.
    const old = openSnapshot(first.snapshot);
    try {
      expect(new CopyRepository(old).getCopy(tenant.id, four.id)).toBeNull();
    } finally {
      old.close();
    }
    // Nothing half-written is left behind.
    expect(filesUnder(target).filter((f) => path.basename(f).startsWith('.'))).toEqual([]);
    // Two self-contained snapshots (no -wal or -shm beside them, even after being opened), their manifests, the copies.
    expect(readdirSync(target).sort()).toEqual([
      'chungthuc-20261130T020000Z.manifest.json',
      'chungthuc-20261130T020000Z.sqlite',
      'chungthuc-20261201T020000Z.manifest.json',
      'chungthuc-20261201T020000Z.sqlite',
      'copies',
    ]);
  });

  it('names a missing or altered stored copy, keeps its bad bytes out of the backup, and still backs up the rest', async () => {
    const one = issue(1);
    const two = issue(2);
    const three = issue(3);
    writeFileSync(path.join(storeDir, one.fileKey), one.bytes.replace('copy 1', 'copy 9'));
    rmSync(path.join(storeDir, two.fileKey));
    const target = path.join(dir, 'backup');
    const report = await backupRegistry(opened.db, storeDir, target);
    expect(report.ok).toBe(false);
    expect(report.chain.ok).toBe(true);
    expect(report.problems.map((p) => [p.problem, p.id, p.fileKey])).toEqual([
      ['altered', one.id, one.fileKey],
      ['missing', two.id, two.fileKey],
    ]);
    expect(filesUnder(path.join(target, 'copies'))).toEqual([three.fileKey]);
    expect(JSON.parse(readFileSync(report.manifest, 'utf8')).problems).toHaveLength(2);
  });

  it('refuses a file key that leaves the copy store', async () => {
    copies.issueCopy({ ...sampleCopy(tenant.id, 1), fileKey: '../chungthuc.sqlite' });
    await expect(backupRegistry(opened.db, storeDir, path.join(dir, 'backup'))).rejects.toMatchObject({ code: 'invalid-file-key' });
    await expect(checkCopyStore(opened.db, storeDir)).rejects.toMatchObject({ code: 'invalid-file-key' });
  });
});

describe('copy store check', () => {
  it('finds missing and altered copies and lists stored PDFs no entry names, not the hidden files of certifications in progress', async () => {
    const one = issue(1);
    const two = issue(2);
    issue(3);
    expect(await checkCopyStore(opened.db, storeDir)).toEqual({ checked: 3, problems: [], unregistered: [], setAside: [] });
    writeFileSync(path.join(storeDir, one.fileKey), 'changed');
    rmSync(path.join(storeDir, two.fileKey));
    writeFileSync(path.join(storeDir, tenant.id, '2026', 'STRAY.pdf'), '%PDF-1.7 never registered');
    writeFileSync(path.join(storeDir, tenant.id, '2026', '.CODE.partial'), 'being written');
    const aside = path.join('.voided', tenant.id, '2026', 'VOIDED.pdf');
    mkdirSync(path.dirname(path.join(storeDir, aside)), { recursive: true });
    writeFileSync(path.join(storeDir, aside), '%PDF-1.7 set aside by the sweeper');
    const check = await checkCopyStore(opened.db, storeDir);
    expect(check.problems.map((p) => [p.problem, p.fileKey])).toEqual([
      ['altered', one.fileKey],
      ['missing', two.fileKey],
    ]);
    expect(check.unregistered).toEqual([path.join(tenant.id, '2026', 'STRAY.pdf')]);
    expect(check.setAside).toEqual([aside]);
  });
});

describe('the commands', () => {
  const cli = (args: string[]) =>
    promisify(execFile)(process.execPath, ['bin/chungthuc.mjs', ...args], { cwd: PROJECT_ROOT, env: { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'silent' }, encoding: 'utf8' }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );

  it('chungthuc registry backup and registry verify --files: exit 0 when all is well, 1 naming the copy when not', async () => {
    const one = issue(1);
    issue(2);
    opened.close();
    const target = path.join(dir, 'backup');
    // Not into the data directory or the store (nor around them).
    for (const wrong of [path.join(storeDir, 'backup'), dataDir, dir]) {
      const refused = await cli(['registry', 'backup', '--to', wrong]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('[invalid-parameters]');
    }
    expect(existsSync(path.join(storeDir, 'backup'))).toBe(false);
    const ok = await cli(['registry', 'backup', '--to', target]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('copies: 2 issued, 2 copied');
    expect(ok.stdout.trimEnd().split('\n').at(-1)).toBe('backup OK');
    const verified = await cli(['registry', 'verify', '--files']);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toContain('stored copies: 2 checked, 0 missing or altered');

    writeFileSync(path.join(storeDir, one.fileKey), 'changed');
    const bad = await cli(['registry', 'verify', '--files']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain(`ALTERED ${one.fileKey}`);
    // Without --files the chain alone is checked, and it is intact.
    expect((await cli(['registry', 'verify'])).code).toBe(0);
    // The backup already holds copy 1's registered bytes: the next one reuses them and is complete.
    const again = await cli(['registry', 'backup', '--to', target, '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).files).toMatchObject({ entries: 2, copied: 0, alreadyPresent: 2 });
    // The backups are in the audit log.
    opened = openDatabase(path.join(dataDir, 'chungthuc.sqlite'));
    const rows = opened.db.prepare("SELECT outcome FROM audit_log WHERE action = 'registry.backup'").all() as Array<{ outcome: string }>;
    expect(rows.map((r) => r.outcome)).toEqual(['success', 'success']);
  });

  it('an annulment cut off the chain after a backup: the chain verifies alone, but not against the backups (verify --backups, the next backup, --expect-head)', async () => {
    const one = issue(1);
    copies.annulCopy(one.id, { decisionNumber: '7/QĐ-UBND', decisionDate: '2026-05-01', reason: 'sai', actor: 'chairman', tenantId: tenant.id });
    const head = copies.chainHead()!;
    opened.close();
    const target = path.join(dir, 'backup');
    expect((await cli(['registry', 'backup', '--to', target])).code).toBe(0);
    const anchored = await cli(['registry', 'verify', '--backups', target]);
    expect([anchored.code, anchored.stdout]).toEqual([0, `registry chain OK: 2 events checked, 1 anchored head(s) found; head ${head.id}:${head.hash}\n`]);
    // Behind the triggers: the annulment event goes and the entry is made valid again.
    opened = openDatabase(path.join(dataDir, 'chungthuc.sqlite'));
    opened.db.exec('DROP TRIGGER copy_events_no_delete; DROP TRIGGER certified_copies_status_flow; DROP TRIGGER certified_copies_annulment_keeps_entry');
    opened.db.exec("DELETE FROM copy_events WHERE type = 'annulled'");
    opened.db.exec("UPDATE certified_copies SET status = 'valid', annul_decision_number = NULL, annul_decision_date = NULL, annul_reason = NULL, annulled_by = NULL, annulled_at = NULL");
    opened.close();
    expect((await cli(['registry', 'verify'])).code).toBe(0); // consistent by itself
    const cut = await cli(['registry', 'verify', '--backups', target]);
    expect(cut.code).toBe(1);
    expect(cut.stdout).toContain('"kind":"anchor"');
    expect((await cli(['registry', 'verify', '--expect-head', `${head.id}:${head.hash}`])).code).toBe(1);
    const next = await cli(['registry', 'backup', '--to', target, '--json']);
    expect(next.code).toBe(1);
    expect(JSON.parse(next.stdout).chain).toMatchObject({ ok: false, firstBad: { kind: 'anchor', id: String(head.id) } });
    expect((await cli(['registry', 'verify', '--expect-head', 'nonsense'])).stderr).toContain('[invalid-parameters]');
  });
});
