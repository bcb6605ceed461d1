import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import Database from 'better-sqlite3';
import path from 'node:path';
import { generateFixtures } from '../../scripts/gen-fixtures.ts';
import { pdfsig, qpdfCheck } from '../support/pdfTools.ts';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config.ts';
import { main } from '../../src/cli/main.ts';
import { COMMANDS } from '../../src/cli/commands.ts';
import { API_SCOPES } from '../../src/registry/index.ts';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) }, out, err };
}

/** Runs `fn` with DATA_DIR set to a fresh folder (what `main` reads), then puts DATA_DIR back and removes the folder. */
async function inDataDir(name: string, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `chungthuc-cli-${name}-`));
  const before = process.env.DATA_DIR;
  process.env.DATA_DIR = dir;
  try {
    await fn(dir);
  } finally {
    if (before === undefined) delete process.env.DATA_DIR;
    else process.env.DATA_DIR = before;
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('chungthuc CLI', () => {
  it('runs as the package bin through npx and prints the command list', () => {
    const r = spawnSync('npx', ['--no-install', 'chungthuc', '--help'], { cwd: PROJECT_ROOT, encoding: 'utf8' });
    expect(r.status).toBe(0);
    for (const c of COMMANDS) expect(r.stdout).toContain(c.path.join(' '));
  });

  it('has --help on every command', async () => {
    for (const c of COMMANDS) {
      const { io, out } = capture();
      expect(await main([...c.path, '--help'], io)).toBe(0);
      expect(out.join('')).toContain(`Usage: chungthuc ${c.path.join(' ')}`);
      expect(out.join('')).toContain('--help');
    }
  });

  it('exits 2 on an unknown command or option', async () => {
    const a = capture();
    expect(await main(['no-such-command'], a.io)).toBe(2);
    expect(a.err.join('')).toContain('unknown command');
    const b = capture();
    expect(await main(['hsm', 'keys', '--bogus'], b.io)).toBe(2);
  });

  it('lists the HSM keys of the dev token', async () => {
    const { io, out } = capture();
    expect(await main(['hsm', 'keys', '--json'], io)).toBe(0);
    const keys = JSON.parse(out.join('')) as Array<{ label: string; keyType: string }>;
    const labels = keys.map((k) => k.label);
    expect(labels).toEqual(expect.arrayContaining(['seal', 'officer1', 'officer2', 'tsa']));
    expect(keys.find((k) => k.label === 'officer2')?.keyType).toBe('EC');
  });

  it('prints the validation policy as JSON that parses back', async () => {
    const { io, out } = capture();
    expect(await main(['verify', '--print-policy'], io)).toBe(0);
    const policy = JSON.parse(out.join('')) as { name: string; revocation: { required: boolean }; minRsaBits: number };
    expect(policy).toMatchObject({ name: 'strict', revocation: { required: true }, minRsaBits: 2048 });
  });

  it('prints the configuration with the PIN redacted', async () => {
    const { io, out } = capture();
    expect(await main(['config'], io)).toBe(0);
    const cfg = JSON.parse(out.join('')) as { pkcs11: { pin: string; module: string } };
    expect(cfg.pkcs11.pin).toBe('[redacted]');
    expect(cfg.pkcs11.module).toContain('softhsm');
  });

  it('signs a PDF: chungthuc sign IN -o OUT with a visible certification signature', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'chungthuc-cli-sign-'));
    try {
      const fx = generateFixtures(path.join(dir, 'fx'));
      const out = path.join(dir, 'out.pdf');
      const { io, out: printed } = capture();
      const code = await main(['sign', fx.linearized, '-o', out, '--key', 'officer1', '--certify', '2', '--rect', '50,50,300,130', '--reason', 'Chứng thực', '--location', 'Thanh Hóa', '--scheme', 'RSASSA-PSS'], io);
      expect(code).toBe(0);
      expect(printed.join('')).toContain('signed field');
      expect(qpdfCheck(out).ok).toBe(true);
      const sigs = pdfsig(out);
      expect(sigs).toHaveLength(1);
      expect(sigs[0]).toMatchObject({ signatureValid: true, total: true, signerCommonName: 'Nguyễn Văn An' });
      const same = capture();
      expect(await main(['sign', out, '-o', out], same.io)).toBe(2);
      const bad = capture();
      expect(await main(['sign', fx.classic, '-o', path.join(dir, 'x.pdf'), '--certify', '7'], bad.io)).toBe(1);
      expect(bad.err.join('')).toContain('invalid-parameters');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses arguments a command does not take (exit 2): `registry verify files` no longer checks less and says OK', async () => {
    const a = capture();
    expect(await main(['registry', 'verify', 'files'], a.io)).toBe(2);
    expect(a.err.join('')).toContain('chungthuc registry verify: unexpected argument "files" (options start with --)');
    const b = capture();
    expect(await main(['tenant', 'create', 'TH', '--code', 'TH', '--name', 'x'], b.io)).toBe(2);
    const c = capture();
    expect(await main(['certify', 'scan.jpg', '--batch', 'm.csv', '--out-dir', 'out', '--tenant', 'TH'], c.io)).toBe(2);
    expect(c.err.join('')).toContain('with --batch the scans come from the manifest');
  });

  it('prints an error as one line with the cause the message lacks, and its code', async () => {
    await inDataDir('err', async (dir) => {
      writeFileSync(path.join(dir, 'chungthuc.sqlite'), 'not a database at all');
      const { io, err } = capture();
      expect(await main(['registry', 'volumes', '--tenant', 'TH'], io)).toBe(1);
      expect(err.join('')).toBe(`chungthuc registry volumes: cannot open the database ${path.join(dir, 'chungthuc.sqlite')}: file is not a database [db-open-failed]\n`);
    });
  });

  it('verify: an unreadable file gets its ERROR line and the files after it are still checked; a bad --policy is one line', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'chungthuc-cli-verify-'));
    try {
      const fx = generateFixtures(path.join(dir, 'fx'));
      const { io, out } = capture();
      expect(await main(['verify', path.join(dir, 'missing.pdf'), fx.classic], io)).toBe(1);
      expect(out.join('')).toBe('missing.pdf: ERROR file-unreadable (no such file)\nclassic.pdf: NO_SIGNATURE\n');
      const policy = path.join(dir, 'policy.json');
      writeFileSync(policy, JSON.stringify({ minRsaBits: 'many' }));
      const bad = capture();
      expect(await main(['verify', '--policy', policy, fx.classic], bad.io)).toBe(1);
      expect(bad.err.join('')).toBe(`chungthuc verify: ${policy}: minRsaBits: Invalid input: expected number, received string [policy-invalid]\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('sign refuses a page that is not a page number', async () => {
    const { io, err } = capture();
    expect(await main(['sign', 'in.pdf', '-o', 'out.pdf', '--page', 'abc'], io)).toBe(1);
    expect(err.join('')).toBe('chungthuc sign: --page must be a page number: 1, 2, … [invalid-parameters]\n');
  });

  it('apikey create --help names every scope (annul was missing)', async () => {
    const { io, out } = capture();
    expect(await main(['apikey', 'create', '--help'], io)).toBe(0);
    expect(out.join('')).toContain(`comma-separated: ${API_SCOPES.join(', ')}`);
  });

  it('does not make a register where there is none (a mistyped DATA_DIR was verified "OK" as a new, empty register)', async () => {
    await inDataDir('nodb', async (dir) => {
      for (const args of [['registry', 'verify', '--files'], ['registry', 'backup', '--to', path.join(os.tmpdir(), 'nowhere')], ['registry', 'close-year', '--tenant', 'TH', '--year', '2025'], ['audit', 'list']]) {
        const { io, err } = capture();
        expect(await main(args, io), args.join(' ')).toBe(1);
        expect(err.join('')).toContain(`no register database at ${path.join(dir, 'chungthuc.sqlite')}: check DATA_DIR`);
      }
      expect(existsSync(path.join(dir, 'chungthuc.sqlite'))).toBe(false);
      // `tenant create` is how a command-line-only setup begins: it makes the register.
      expect(await main(['tenant', 'create', '--code', 'TH', '--name', 'x'], capture().io)).toBe(0);
      expect(await main(['registry', 'verify'], capture().io)).toBe(0);
    });
  });

  it('prints the new API key or password even when its audit row cannot be written, then fails', async () => {
    await inDataDir('audit', async (dir) => {
      expect(await main(['tenant', 'create', '--code', 'TH', '--name', 'x'], capture().io)).toBe(0);
      const db = new Database(path.join(dir, 'chungthuc.sqlite'));
      db.exec("CREATE TRIGGER test_refuses_audit BEFORE INSERT ON audit_log WHEN NEW.action IN ('apikey.create', 'officer.create', 'officer.reset-password') BEGIN SELECT RAISE(ABORT, 'audit refused by the test'); END");
      db.close();
      const key = capture();
      expect(await main(['apikey', 'create', '--tenant', 'TH', '--name', 'portal', '--scopes', 'sign'], key.io)).toBe(1);
      expect(key.out.join('')).toMatch(/^ {2}ck_[0-9a-f]+_\S+$/m); // was: created, never shown
      expect(key.err.join('')).toContain('audit refused by the test');
      const officer = capture();
      expect(await main(['officer', 'create', '--tenant', 'TH', '--username', 'an.nv', '--name', 'An', '--title', 'T', '--role', 'admin'], officer.io)).toBe(1);
      expect(officer.out.join('')).toMatch(/password: \S{20}/);
      const reset = capture();
      expect(await main(['officer', 'reset-password', 'an.nv'], reset.io)).toBe(1);
      expect(reset.out.join('')).toMatch(/password: \S{20}/);
    });
  });
});
