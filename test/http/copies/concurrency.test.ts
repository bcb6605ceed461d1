/**
 * Certification numbers under load and across a crash, end to end:
 * - N certifications sent at once through the HTTP API get distinct, consecutive numbers 1..N, each
 *   with its stored PDF (the repository-level test, test/registry/concurrency.test.ts, already has
 *   200 allocations from 4 processes on one file; this adds the whole path: upload → stamp → HSM
 *   signatures → DSS → register);
 * - the service running in a child process is killed with SIGKILL in the middle of certifications:
 *   afterwards there is no gap and no duplicate, every register entry has its PDF, every answered
 *   copy is registered, and the numbers that were in flight are reserved, then voided with a reason
 *   once their reservation expires (the sweeper) — no unexplained gap.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CopyRepository, openDatabase, registerYear, TenantRepository } from '../../../src/registry/index.ts';
import { CERTIFY_STEPS, sweepExpiredReservations } from '../../../src/services/certifyCopy.ts';
import { freePorts, startOcspResponder, type OcspResponder } from '../../support/ocspResponder.ts';
import { startRepoServer, type RepoServer } from '../../support/repoServer.ts';
import { spawnService, startTestService, type TestService } from '../../support/service.ts';
import { bearer, createOfficer, FIELDS, jpegScans, post, scanForm, tenantWorld, type CertifiedJson } from './helpers.ts';
import { cli, createKey } from '../access/helpers.ts';

/** Concurrent certifications through HTTP; COPIES_CONCURRENCY overrides (measured: see README). */
const N = Number(process.env.COPIES_CONCURRENCY ?? 200);

let ocsp: OcspResponder;
let repo: RepoServer;
let scan: Uint8Array;
beforeAll(async () => {
  ocsp = await startOcspResponder();
  repo = await startRepoServer();
  scan = (await jpegScans(1))[0]!;
});
afterAll(async () => {
  await ocsp?.stop();
  await repo?.stop();
});

interface Row {
  number: number;
  status: string;
  file_key: string | null;
  pdf_sha256: string | null;
  void_reason: string | null;
}

/** Every valid/annulled entry has its stored PDF with the registered hash. */
function expectFilesMatch(dataDir: string, rows: readonly Row[]): void {
  for (const r of rows.filter((x) => x.status === 'valid' || x.status === 'annulled')) {
    const file = path.join(dataDir, 'copies', r.file_key!);
    expect(existsSync(file), `PDF of number ${r.number}`).toBe(true);
    expect(createHash('sha256').update(readFileSync(file)).digest('hex')).toBe(r.pdf_sha256);
  }
}

describe('concurrent certifications', () => {
  let svc: TestService;
  afterAll(async () => {
    await svc?.stop();
  });

  it(`${N} certifications at once through the API get the numbers 1..${N}, each once, each with its PDF`, { timeout: 180_000 }, async () => {
    // Both ports given: a service on port 0 could draw the metrics port freed a moment before.
    const [port, metricsPort] = await freePorts(2);
    svc = await startTestService({ API_AUTH: 'required', PKCS11_POOL_SIZE: '4', PORT: String(port), METRICS_PORT: String(metricsPort) });
    const t = await tenantWorld(svc, 'CONC');
    const started = Date.now();
    const answers = await Promise.all(
      Array.from({ length: N }, async (_, i) => {
        const r = await post(svc, '/api/v1/certified-copies', bearer(t.key), scanForm([scan], { ...FIELDS, originalPages: '1', certifier: t.officer.username, caseCode: `HS-${i}` }));
        expect(r.status, await r.clone().text()).toBe(201);
        return (await r.json()) as CertifiedJson;
      }),
    );
    const seconds = (Date.now() - started) / 1000;
    process.stdout.write(`copies concurrency: ${N} certifications in ${seconds.toFixed(1)} s (${(N / seconds).toFixed(1)}/s)\n`);
    expect(answers.map((a) => a.copy.number).sort((x, y) => x - y)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    expect(new Set(answers.map((a) => a.copy.publicCode)).size).toBe(N);
    const rows = svc.db.db.prepare('SELECT number, status, file_key, pdf_sha256, void_reason FROM certified_copies ORDER BY number').all() as Row[];
    expect(rows.map((r) => [r.number, r.status])).toEqual(answers.map((_, i) => [i + 1, 'valid']));
    expectFilesMatch(svc.dataDir, rows);
    expect(new CopyRepository(svc.db.db).verifyChain()).toMatchObject({ ok: true, checked: N, entries: N });
    // Every certification timed step by step on the metrics port.
    const metrics = await (await fetch(`${svc.metricsUrl}/metrics`)).text();
    for (const step of CERTIFY_STEPS) expect(metrics).toMatch(new RegExp(`^chungthuc_certify_step_duration_seconds_count\\{step="${step}"\\} ${N}$`, 'm'));
  });
});

describe('a service killed with SIGKILL in the middle of certifications', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'chungthuc-crash-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('leaves no gap, no duplicate, no entry without its PDF; in-flight numbers are voided with a reason once expired', async () => {
    // The tenant, key and officer are made through the CLI and the repository on the service's file.
    const home = { dataDir } as TestService;
    await cli(home, ['tenant', 'create', '--code', 'KILL', '--name', 'UBND xã Thử Nghiệm']);
    for (const key of ['seal', 'officer1']) await cli(home, ['tenant', 'allow-key', '--tenant', 'KILL', '--key', key]);
    const key = await createKey(home, 'KILL', 'certify,read-registry');
    await createOfficer(home, 'KILL', 'can-bo.kill', { key: 'officer1' });
    const setup = openDatabase(path.join(dataDir, 'chungthuc.sqlite'));
    const tenant = new TenantRepository(setup.db).getByCode('KILL')!;
    setup.close();

    const { child, url, exited } = await spawnService(dataDir);
    const svcLike = { url } as TestService;
    const total = 40;
    const answered: CertifiedJson[] = [];
    let sent = 0;
    let dead = false;
    // Four clients keep certifying one copy after another, so certifications are always in flight.
    const client = async () => {
      while (!dead && sent < total) {
        const i = sent++;
        try {
          const r = await post(svcLike, '/api/v1/certified-copies', bearer(key), scanForm([scan], { ...FIELDS, originalPages: '1', certifier: 'can-bo.kill', caseCode: `K-${i}` }));
          if (r.status === 201) answered.push((await r.json()) as CertifiedJson);
        } catch {
          /* the connection died with the process */
        }
      }
    };
    // Once some copies were answered, kill the process while a number is reserved (being stamped and signed).
    const watch = openDatabase(path.join(dataDir, 'chungthuc.sqlite'));
    const reserved = watch.db.prepare("SELECT COUNT(*) AS n FROM certified_copies WHERE status = 'reserved'");
    const killer = (async () => {
      while (answered.length < 6 || (reserved.get() as { n: number }).n === 0) {
        if (answered.length === total) throw new Error('every certification finished before one could be interrupted');
        await new Promise((r) => setTimeout(r, 2));
      }
      child.kill('SIGKILL');
      dead = true;
    })();
    await Promise.all([client(), client(), client(), client(), killer]);
    watch.close();
    expect(await exited).toBe('SIGKILL');
    expect(answered.length).toBeGreaterThanOrEqual(6);

    // After the crash, as at the next start: a fresh connection on the same file.
    const after = openDatabase(path.join(dataDir, 'chungthuc.sqlite'));
    try {
      const rows = () => after.db.prepare('SELECT number, status, file_key, pdf_sha256, void_reason FROM certified_copies ORDER BY number').all() as Row[];
      const before = rows();
      // Consecutive from 1, no duplicates (UNIQUE also forbids them), nothing but valid and in-flight reservations.
      expect(before.map((r) => r.number)).toEqual(before.map((_, i) => i + 1));
      expect(before.every((r) => r.status === 'valid' || r.status === 'reserved')).toBe(true);
      expect(before.filter((r) => r.status === 'reserved').length).toBeGreaterThan(0);
      // Every copy handed out is registered, and every registered copy has its PDF.
      const valid = new Set(before.filter((r) => r.status === 'valid').map((r) => r.number));
      for (const a of answered) expect(valid.has(a.copy.number)).toBe(true);
      expectFilesMatch(dataDir, before);

      // The sweeper (run by the service every minute) voids the in-flight numbers once expired (15 min).
      const copies = new CopyRepository(after.db);
      expect(copies.voidExpiredReservations(new Date())).toEqual([]);
      const swept = await sweepExpiredReservations(copies, path.join(dataDir, 'copies'), new Date(Date.now() + 16 * 60_000));
      // Nothing half-written is left in the store: finished copies only (a crash may leave a partial file; the sweep removes it,
      // and sets aside under .voided/ a finished file whose number it voids).
      const partials = readdirSync(path.join(dataDir, 'copies'), { recursive: true }).map(String).filter((f) => f.endsWith('.partial'));
      expect(partials).toEqual([]);
      expect(swept.map((v) => v.number).sort((x, y) => x - y)).toEqual(before.filter((r) => r.status === 'reserved').map((r) => r.number));
      const final = rows();
      expect(final.map((r) => r.number)).toEqual(before.map((r) => r.number));
      for (const r of final.filter((x) => x.status === 'voided')) expect(r.void_reason).toBe('reservation expired before the copy was signed');
      expect(copies.verifyChain()).toMatchObject({ ok: true, entries: final.length });
      // The next certification continues the sequence.
      const next = copies.reserveNumber(tenant.id, registerYear(new Date()), 60_000);
      expect(next.number).toBe(final.length + 1);
    } finally {
      after.close();
    }
  });
});
