import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CopyRepository, MIGRATIONS, OfficerRepository, openDatabase } from '../../src/registry/index.ts';
import { sampleCopy } from './fixtures/sampleCopy.ts';
import { tempRegistry, type TempRegistry } from './fixtures/tempRegistry.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');

interface ChildRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a fixture with `node --import tsx`; `onLine` may kill it. */
function runFixture(script: string, args: string[], onLine?: (line: string, kill: () => void) => void): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'fixtures', script), ...args], { cwd: root });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (onLine) for (const line of chunk.split('\n').filter(Boolean)) onLine(line, () => child.kill('SIGKILL'));
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

let r: TempRegistry;
beforeEach(() => {
  r = tempRegistry();
});
afterEach(() => r.dispose());

describe('certification numbers across processes', () => {
  it('4 processes issuing 50 copies each into one file get 1..200, each once, in order per process', async () => {
    const runs = await Promise.all(['a', 'b', 'c', 'd'].map((tag) => runFixture('issueMany.ts', [r.file, r.tenant.id, '50', tag])));
    for (const run of runs) expect(run, run.stderr).toMatchObject({ code: 0 });
    const perChild = runs.map((run) => JSON.parse(run.stdout.trim()) as number[]);
    for (const numbers of perChild) {
      expect(numbers).toHaveLength(50);
      for (let i = 1; i < numbers.length; i += 1) expect(numbers[i]!).toBeGreaterThan(numbers[i - 1]!);
    }
    const all = perChild.flat().sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));

    const rows = r.opened.db.prepare('SELECT number, status FROM certified_copies ORDER BY number').all() as Array<{ number: number; status: string }>;
    expect(rows.map((x) => x.number)).toEqual(all);
    expect(rows.every((x) => x.status === 'valid')).toBe(true);
    expect(r.copies.volumes.currentVolume(r.tenant.id, 2026).lastNumber).toBe(200);
    expect(r.copies.verifyChain()).toMatchObject({ ok: true, checked: 200, entries: 200 });
  });

  it('a process killed inside the transaction leaves neither the record nor a consumed number', async () => {
    let held = 0;
    const run = await runFixture('crashMidway.ts', [r.file, r.tenant.id, '3'], (line, kill) => {
      const m = /^IN-TRANSACTION (\d+)$/.exec(line);
      if (m) {
        held = Number(m[1]);
        kill();
      }
    });
    expect(run.signal, run.stderr).toBe('SIGKILL');
    expect(held).toBe(4); // the killed transaction had taken number 4 and written its row

    // A new connection (as after a restart) sees only the 3 committed copies and reuses nothing.
    const reopened = openDatabase(r.file);
    try {
      const copies = new CopyRepository(reopened.db);
      const numbers = (reopened.db.prepare('SELECT number FROM certified_copies ORDER BY number').all() as Array<{ number: number }>).map((x) => x.number);
      expect(numbers).toEqual([1, 2, 3]);
      expect((reopened.db.prepare('SELECT COUNT(*) AS n FROM copy_events').get() as { n: number }).n).toBe(3);
      expect(copies.issueCopy(sampleCopy(r.tenant.id, 5)).number).toBe(4);
      expect(copies.verifyChain()).toMatchObject({ ok: true, checked: 4, entries: 4 });
    } finally {
      reopened.close();
    }
  });
});

describe('several processes opening one new file at once', () => {
  it('all start: each migration is applied by exactly one of them, and they share one instance id', async () => {
    const file = path.join(path.dirname(r.file), 'fresh', 'chungthuc.sqlite');
    // Every child waits for the same instant (after its own start-up), then opens the file that does not exist yet.
    const startAt = String(Date.now() + 2500);
    const runs = await Promise.all([1, 2, 3, 4, 5, 6].map(() => runFixture('openAt.ts', [file, startAt])));
    for (const run of runs) expect(run, run.stderr).toMatchObject({ code: 0 });
    const opened = runs.map((run) => JSON.parse(run.stdout.trim()) as { applied: number[]; instanceId: string });
    const applied = opened.flatMap((o) => o.applied).sort((a, b) => a - b);
    expect(applied).toEqual(MIGRATIONS.map((m) => m.version).sort((a, b) => a - b));
    expect(new Set(opened.map((o) => o.instanceId)).size).toBe(1);
    const db = openDatabase(file);
    try {
      expect(db.applied).toEqual([]);
      expect(db.db.prepare('SELECT COUNT(*) AS n FROM schema_migrations').get()).toEqual({ n: MIGRATIONS.length });
    } finally {
      db.close();
    }
  });
});

describe('failed sign-ins counted by several processes', () => {
  it('none is lost: 4 processes recording 200 failures each leave the count at 800', async () => {
    const officer = await new OfficerRepository(r.opened.db).create({
      tenantId: r.tenant.id, username: 'can-bo.dem', displayName: 'Nguyễn Văn Đếm', title: 'Công chức', role: 'officer', password: 'một mật khẩu đủ dài 2026', createdBy: 'test',
    });
    const startAt = String(Date.now() + 2500);
    const runs = await Promise.all([1, 2, 3, 4].map(() => runFixture('failLogins.ts', [r.file, officer.id, '200', startAt])));
    for (const run of runs) expect(run, run.stderr).toMatchObject({ code: 0, stdout: '200\n' });
    expect(r.opened.db.prepare('SELECT failed_logins FROM officers WHERE id = ?').get(officer.id)).toEqual({ failed_logins: 800 });
  });
});
