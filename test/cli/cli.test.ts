import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateFixtures } from '../../scripts/gen-fixtures.ts';
import { pdfsig, qpdfCheck } from '../support/pdfTools.ts';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config.ts';
import { main } from '../../src/cli/main.ts';
import { COMMANDS } from '../../src/cli/commands.ts';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) }, out, err };
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
});
