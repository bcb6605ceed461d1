/**
 * The certified-copy loop across processes: `chungthuc certify` writes the copy and its register
 * entry; the QR code read back by zbarimg opens GET /v/{code} on the running service; `chungthuc
 * annul` changes what that page says; `chungthuc registry verify` checks the chain. The copy store
 * is outside DATA_DIR here (COPY_STORE_DIR), as on a deployment with a mounted volume.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateFixtures } from '../../scripts/gen-fixtures.ts';
import { registerYear } from '../../src/registry/index.ts';
import { DEV_PATHS } from '../support/hsm.ts';
import { startPkiWorld, type PkiWorld } from '../support/pkiWorld.ts';
import type { TestService } from '../support/service.ts';

const run = promisify(execFile);
let world: PkiWorld;
let svc: TestService;
let tmp: string;
const store = mkdtempSync(path.join(os.tmpdir(), 'chungthuc-store-'));
beforeAll(async () => {
  world = await startPkiWorld('verify-page', { COPY_STORE_DIR: store });
  ({ svc, tmp } = world);
});
afterAll(async () => {
  await world?.stop();
  rmSync(store, { recursive: true, force: true });
});

describe('certified copy → QR → public verification page', () => {
  it('shows "Còn hiệu lực", then the annulment, and the chain verifies', async () => {
    const env = { ...process.env, DATA_DIR: svc.dataDir, COPY_STORE_DIR: store, PUBLIC_BASE_URL: svc.url, LOG_LEVEL: 'silent' };
    const cli = (args: string[]) => run(process.execPath, ['bin/chungthuc.mjs', ...args], { cwd: DEV_PATHS.root, env, encoding: 'utf8' });
    await cli(['tenant', 'create', '--code', 'TH', '--name', 'Trung tâm Phục vụ hành chính công tỉnh Thanh Hóa']);
    const fx = generateFixtures(path.join(tmp, 'fx'));
    execFileSync('pdftoppm', ['-png', '-r', '100', '-singlefile', fx.classic, path.join(tmp, 'scan')]);
    const out = path.join(tmp, 'copy.pdf');
    const r = await cli(['certify', path.join(tmp, 'scan.png'), '-o', out, '--tenant', 'TH', '--document-type', 'Bằng tốt nghiệp', '--issuer', 'Trường THPT Lam Sơn', '--requester', 'Lê Văn Nam', '--original-pages', '3', '--certifier-title', 'Phó Chủ tịch UBND']);
    expect(r.stdout).toContain('số chứng thực 1');
    expect(r.stdout).toContain('phí 5000 VND');

    execFileSync('pdftoppm', ['-png', '-r', '150', '-singlefile', out, path.join(tmp, 'page')]);
    const url = execFileSync('zbarimg', ['--raw', '-q', path.join(tmp, 'page.png')], { encoding: 'utf8' }).trim();
    expect(url.startsWith(`${svc.url}/v/`)).toBe(true);

    const page = await (await fetch(url)).text();
    expect(page).toContain('Còn hiệu lực');
    expect(page).toContain('Bằng tốt nghiệp');
    expect(page).not.toContain('Lê Văn Nam');
    const json = (await (await fetch(url, { headers: { accept: 'application/json' } })).json()) as { status: string; pdfSha256: string };
    expect(json.status).toBe('valid');
    // The three independent checks (integrity, status, issuer) come with the JSON too.
    expect((json as unknown as { checks: Record<string, { outcome: string }> }).checks).toMatchObject({
      integrity: { outcome: 'VALID' },
      status: { outcome: 'VALID' },
      issuer: { outcome: 'VALID' },
    });
    const { createHash } = await import('node:crypto');
    expect(json.pdfSha256).toBe(createHash('sha256').update(readFileSync(out)).digest('hex'));

    const code = url.split('/v/')[1]!;
    // Kept in the configured store (<tenant id>/<year>/<code>.pdf), not under DATA_DIR.
    const [tenantDir] = readdirSync(store);
    expect(readdirSync(path.join(store, tenantDir!, String(registerYear(new Date()))))).toEqual([`${code}.pdf`]);
    await cli(['annul', code, '--decision', '12/QĐ-UBND', '--date', '2026-11-29', '--reason', 'Chứng thực sai thẩm quyền']);
    const after = await (await fetch(url)).text();
    expect(after).toContain('Đã bị hủy bỏ giá trị pháp lý');
    expect(after).toContain('12/QĐ-UBND');

    const missing = await fetch(`${svc.url}/v/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain('Không tìm thấy');
    const chain = await cli(['registry', 'verify']);
    expect(chain.stdout).toMatch(/registry chain OK: 2 events/);

    // Programs (Accept: application/json) get problem+json like the API's public lookup.
    const unknown = await fetch(`${svc.url}/v/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`, { headers: { accept: 'application/json' } });
    expect([unknown.status, unknown.headers.get('content-type'), ((await unknown.json()) as { code: string }).code]).toEqual([404, 'application/problem+json', 'copy-not-found']);
  });

  it('the access code over JSON: 403 problem for a wrong one, the unlocked fields for the right one, Retry-After as the body says when limited', async () => {
    const env = { ...process.env, DATA_DIR: svc.dataDir, COPY_STORE_DIR: store, PUBLIC_BASE_URL: svc.url, LOG_LEVEL: 'silent' };
    const cli = (args: string[]) => run(process.execPath, ['bin/chungthuc.mjs', ...args], { cwd: DEV_PATHS.root, env, encoding: 'utf8' });
    const fx = generateFixtures(path.join(tmp, 'fx2'));
    execFileSync('pdftoppm', ['-png', '-r', '60', '-singlefile', fx.classic, path.join(tmp, 'scan2')]);
    const r = await cli(['certify', path.join(tmp, 'scan2.png'), '-o', path.join(tmp, 'copy2.pdf'), '--tenant', 'TH', '--document-type', 'Giấy khai sinh', '--issuer', 'UBND xã', '--requester', 'Trần Thị Hoa', '--original-pages', '1', '--certifier-title', 'Phó Chủ tịch UBND']);
    const code = /\/v\/([A-Z2-7]+)/.exec(r.stdout)![1]!;
    const accessCode = /access code, shown once\): (\S+)/.exec(r.stdout)![1]!;
    const tryCode = (c: string) =>
      fetch(`${svc.url}/v/${code}/access`, { method: 'POST', headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' }, body: `access_code=${encodeURIComponent(c)}` });
    const wrong = await tryCode('ZZZZ-ZZZZ-ZZZZ');
    expect([wrong.status, wrong.headers.get('content-type'), ((await wrong.json()) as { code: string }).code]).toEqual([403, 'application/problem+json', 'access-code-wrong']);
    const right = await tryCode(accessCode);
    expect(right.status).toBe(200);
    const body = (await right.json()) as { status: string; access: { requesterName: string; downloadUrl: string } };
    expect(body.status).toBe('valid');
    expect(body.access.requesterName).toBe('Trần Thị Hoa');
    expect((await fetch(`${svc.url}${body.access.downloadUrl}`)).headers.get('content-type')).toBe('application/pdf');
    // The client's access bucket (5) is spent: 429, and the header says what the body says.
    let limited: Response | undefined;
    for (let i = 0; i < 6 && !limited; i++) {
      const x = await tryCode('ZZZZ-ZZZZ-ZZZY');
      if (x.status === 429) limited = x;
    }
    const problem = (await limited!.json()) as { code: string; retryAfterSeconds: number };
    expect(problem.code).toBe('rate-limited');
    expect(limited!.headers.get('retry-after')).toBe(String(problem.retryAfterSeconds));
    expect(problem.retryAfterSeconds).toBeGreaterThan(5);
  });
});
