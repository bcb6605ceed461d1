/**
 * Several service processes on one host, sharing one data directory (README "Several instances on one
 * host"): each runs `src/main.ts` on its own port, as behind a reverse proxy. What one instance does,
 * the others see at once, because everything that must be shared lives in the SQLite file and the copy
 * store: certification numbers, the register and its event chain, annulments, API keys, Idempotency-Keys.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CopyRepository, openDatabase } from '../../../src/registry/index.ts';
import { startOcspResponder, type OcspResponder } from '../../support/ocspResponder.ts';
import { startRepoServer, type RepoServer } from '../../support/repoServer.ts';
import { spawnService, type SpawnedService, type TestService } from '../../support/service.ts';
import { cli, createKey } from '../access/helpers.ts';
import { bearer, createOfficer, FIELDS, get, jpegScans, post, scanForm, type CertifiedJson } from './helpers.ts';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'chungthuc-instances-'));
const home = { dataDir } as TestService;
let ocsp: OcspResponder;
let repo: RepoServer;
let a: SpawnedService;
let b: SpawnedService;
let key: Awaited<ReturnType<typeof createKey>>;
let scan: Uint8Array;

beforeAll(async () => {
  ocsp = await startOcspResponder();
  repo = await startRepoServer();
  scan = (await jpegScans(1))[0]!;
  await cli(home, ['tenant', 'create', '--code', 'MULTI', '--name', 'UBND xã Hai Phiên']);
  for (const k of ['seal', 'officer1']) await cli(home, ['tenant', 'allow-key', '--tenant', 'MULTI', '--key', k]);
  key = await createKey(home, 'MULTI', 'certify,read-registry,annul');
  await createOfficer(home, 'MULTI', 'can-bo.multi', { key: 'officer1' });
  // Both start together on the same file.
  [a, b] = await Promise.all([spawnService(dataDir), spawnService(dataDir)]);
}, 120_000);

afterAll(async () => {
  for (const s of [a, b]) {
    s?.child.kill('SIGTERM');
    await s?.exited;
  }
  await ocsp?.stop();
  await repo?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const at = (s: SpawnedService) => ({ url: s.url }) as TestService;
const certify = (s: SpawnedService, caseCode: string, headers: Record<string, string> = {}) =>
  post(at(s), '/api/v1/certified-copies', bearer(key), scanForm([scan], { ...FIELDS, originalPages: '1', certifier: 'can-bo.multi', caseCode }), headers);

describe('two service processes on one data directory', () => {
  it('certifications through both get one sequence of numbers, one chain, and every PDF', { timeout: 180_000 }, async () => {
    const total = 24;
    let sent = 0;
    const answers: Array<CertifiedJson & { via: 'a' | 'b' }> = [];
    // Two clients per instance, one certification after another.
    const client = async (via: 'a' | 'b') => {
      while (sent < total) {
        const i = sent++;
        const r = await certify(via === 'a' ? a : b, `HS-${i}`);
        expect(r.status, await r.clone().text()).toBe(201);
        answers.push({ ...((await r.json()) as CertifiedJson), via });
      }
    };
    await Promise.all([client('a'), client('b'), client('a'), client('b')]);
    expect(answers.map((x) => x.copy.number).sort((x, y) => x - y)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(new Set(answers.map((x) => x.via))).toEqual(new Set(['a', 'b']));

    const db = openDatabase(path.join(dataDir, 'chungthuc.sqlite'));
    try {
      const rows = db.db.prepare("SELECT number, file_key, pdf_sha256 FROM certified_copies WHERE status = 'valid' ORDER BY number").all() as Array<{ number: number; file_key: string; pdf_sha256: string }>;
      expect(rows.map((r) => r.number)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      for (const r of rows) expect(createHash('sha256').update(readFileSync(path.join(dataDir, 'copies', r.file_key))).digest('hex')).toBe(r.pdf_sha256);
      expect(new CopyRepository(db.db).verifyChain()).toMatchObject({ ok: true, checked: total, entries: total });
    } finally {
      db.close();
    }
    // A copy made by one instance is read, and its PDF served, by the other.
    for (const made of answers.slice(0, 4)) {
      const other = made.via === 'a' ? b : a;
      const entry = await get(at(other), `/api/v1/certified-copies/${made.copy.id}`, bearer(key));
      expect(entry.status).toBe(200);
      expect(((await entry.json()) as { publicCode: string }).publicCode).toBe(made.copy.publicCode);
      const pdf = await get(at(other), `/api/v1/certified-copies/${made.copy.id}/pdf`, bearer(key));
      expect(pdf.status).toBe(200);
      expect(createHash('sha256').update(Buffer.from(await pdf.arrayBuffer())).digest('hex')).toBe(made.copy.pdfSha256);
    }
  });

  it('an annulment through one instance shows at once on the other’s public page', async () => {
    const r = await certify(a, 'HS-ANNUL');
    expect(r.status).toBe(201);
    const made = (await r.json()) as CertifiedJson;
    const before = await fetch(`${b.url}/v/${made.copy.publicCode}`, { headers: { accept: 'application/json' } });
    expect(((await before.json()) as { status: string }).status).toBe('valid');
    const annul = await post(at(a), `/api/v1/certified-copies/${made.copy.id}/annul`, bearer(key), { decisionNumber: '7/QĐ-UBND', decisionDate: '2026-11-30', reason: 'Chứng thực sai thẩm quyền' });
    expect(annul.status).toBe(200);
    const after = await fetch(`${b.url}/v/${made.copy.publicCode}`, { headers: { accept: 'application/json' } });
    expect(await after.json()).toMatchObject({ status: 'annulled', annulment: { decisionNumber: '7/QĐ-UBND', reason: 'Chứng thực sai thẩm quyền' } });
  });

  it('one Idempotency-Key sent to both instances at once makes one certification', { timeout: 60_000 }, async () => {
    const headers = { 'idempotency-key': 'multi-idem-1' };
    const [ra, rb] = await Promise.all([certify(a, 'HS-IDEM', headers), certify(b, 'HS-IDEM', headers)]);
    const statuses = [ra.status, rb.status].sort();
    // Either the second waited for nothing and found the key taken (409), or it came after and got the replay.
    expect([[201, 201], [201, 409]]).toContainEqual(statuses);
    const db = openDatabase(path.join(dataDir, 'chungthuc.sqlite'));
    try {
      expect(db.db.prepare("SELECT COUNT(*) AS n FROM certified_copies WHERE case_code = 'HS-IDEM'").get()).toEqual({ n: 1 });
    } finally {
      db.close();
    }
    if (statuses[1] === 201) expect([ra, rb].some((r) => r.headers.get('idempotent-replayed') === 'true')).toBe(true);
    // Afterwards both instances replay the stored answer.
    for (const s of [a, b]) {
      const again = await certify(s, 'HS-IDEM', headers);
      expect(again.status).toBe(201);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
    }
  });

  it('an API key revoked from the command line stops working on both instances at once', async () => {
    const other = await createKey(home, 'MULTI', 'read-registry');
    for (const s of [a, b]) expect((await get(at(s), '/api/v1/certified-copies?limit=1', bearer(other))).status).toBe(200);
    expect((await cli(home, ['apikey', 'revoke', other.id])).code).toBe(0);
    for (const s of [a, b]) expect((await get(at(s), '/api/v1/certified-copies?limit=1', bearer(other))).status).toBe(401);
  });
});
