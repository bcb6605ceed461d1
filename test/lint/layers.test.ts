// Proves the layering rule bites: a lower layer importing a higher one fails `npm run lint`.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'chungthuc-lint-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function cruise(files: Record<string, string>): { status: number | null; output: string } {
  const dir = mkdtempSync(path.join(tmp, 'case-'));
  cpSync(path.join(PROJECT_ROOT, 'tsconfig.json'), path.join(dir, 'tsconfig.json'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  const bin = path.join(PROJECT_ROOT, 'node_modules', '.bin', 'depcruise');
  const r = spawnSync(bin, ['src', '--config', path.join(PROJECT_ROOT, '.dependency-cruiser.cjs')], { cwd: dir, encoding: 'utf8' });
  return { status: r.status, output: r.stdout + r.stderr };
}

describe('layer rule (dependency-cruiser)', () => {
  it('fails when pdf imports http', () => {
    const r = cruise({
      'src/errors.ts': 'export const e = 1;\n',
      'src/http/app.ts': 'export const app = 1;\n',
      'src/pdf/reader.ts': "import { app } from '../http/app.ts';\nexport const r = app;\n",
    });
    expect(r.status).not.toBe(0);
    expect(r.output).toContain('pdf-imports-only');
  });

  it('fails when signers imports pades', () => {
    const r = cruise({
      'src/pades/session.ts': 'export const s = 1;\n',
      'src/signers/hsm.ts': "import { s } from '../pades/session.ts';\nexport const h = s;\n",
    });
    expect(r.status).not.toBe(0);
    expect(r.output).toContain('signers-imports-only');
  });

  it('passes for downward imports', () => {
    const r = cruise({
      'src/errors.ts': 'export const e = 1;\n',
      'src/pdf/reader.ts': "import { e } from '../errors.ts';\nexport const r = e;\n",
      'src/pades/session.ts': "import { r } from '../pdf/reader.ts';\nexport const s = r;\n",
      'src/services/sign.ts': "import { s } from '../pades/session.ts';\nexport const x = s;\n",
      'src/http/app.ts': "import { x } from '../services/sign.ts';\nexport const app = x;\n",
    });
    expect(r.output).toContain('no dependency violations');
    expect(r.status).toBe(0);
  });
});
