/** POST /api/v1/validations and `chungthuc verify` on documents this service produced, and tampered ones. */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateFixtures, type FixtureSet } from '../../scripts/gen-fixtures.ts';
import type { ValidationReport } from '../../src/pades/validation/index.ts';
import { DEV_PATHS } from '../support/hsm.ts';
import { startPkiWorld, type PkiWorld } from '../support/pkiWorld.ts';
import type { TestService } from '../support/service.ts';

let world: PkiWorld;
let svc: TestService;
let tmp: string;
let fx: FixtureSet;
beforeAll(async () => {
  world = await startPkiWorld('http-val');
  ({ svc, tmp } = world);
  fx = generateFixtures(path.join(tmp, 'fx'));
});
afterAll(async () => {
  await world?.stop();
});

async function sign(query: string, input = fx.classic): Promise<string> {
  const res = await fetch(`${svc.url}/api/v1/signatures?${query}`, { method: 'POST', headers: { 'content-type': 'application/pdf' }, body: readFileSync(input) });
  expect(res.status, await res.clone().text()).toBe(200);
  const out = path.join(tmp, `${query.replace(/[^a-z0-9]+/gi, '_')}.pdf`);
  writeFileSync(out, Buffer.from(await res.arrayBuffer()));
  return out;
}

async function validate(file: string, query = ''): Promise<ValidationReport> {
  const res = await fetch(`${svc.url}/api/v1/validations${query}`, { method: 'POST', headers: { 'content-type': 'application/pdf' }, body: readFileSync(file) });
  expect(res.status).toBe(200);
  return (await res.json()) as ValidationReport;
}

describe('POST /api/v1/validations', () => {
  it('passes a B-LT document on its embedded revocation data (strict policy, no online fetching)', async () => {
    const lt = await sign('key=officer1&level=B-LT');
    const r = await validate(lt);
    expect(r.documentIndication).toBe('TOTAL-PASSED');
    expect(r.signatures).toHaveLength(1);
    expect(r.signatures[0]).toMatchObject({ indication: 'TOTAL-PASSED', coversWholeDocument: false });
    expect(r.signatures[0]!.checks.find((c) => c.name.includes('revocation'))?.status).toBe('passed');
  });

  it('passes a B-LTA document: the signature and the document timestamp', async () => {
    const lta = await sign('key=officer2&level=B-LTA');
    const r = await validate(lta);
    expect(r.documentIndication).toBe('TOTAL-PASSED');
    expect(r.signatures.map((s) => s.type)).toEqual(['signature', 'document-timestamp']);
  });

  it('passes three sequential B-LT signatures (officer, agency seal, third party)', async () => {
    const one = await sign('key=officer1&level=B-LT&certify=2');
    const two = await sign('key=seal&level=B-LT&page=1&rect=300,40,560,140', one);
    const three = await sign('key=officer2&level=B-LT', two);
    const r = await validate(three);
    expect(r.signatures.map((s) => [s.indication, s.type])).toEqual([
      ['TOTAL-PASSED', 'signature'],
      ['TOTAL-PASSED', 'signature'],
      ['TOTAL-PASSED', 'signature'],
    ]);
    expect(r.documentIndication).toBe('TOTAL-PASSED');
    expect(r.revisions.every((x) => x.verdict !== 'not-allowed')).toBe(true);
  });

  it('passes a B-B document after LTA extension', async () => {
    const bb = await sign('key=officer2&reason=ext');
    const res = await fetch(`${svc.url}/api/v1/signatures/extend?level=B-LTA`, { method: 'POST', headers: { 'content-type': 'application/pdf' }, body: readFileSync(bb) });
    expect(res.status).toBe(200);
    const lta = path.join(tmp, 'extended-lta.pdf');
    writeFileSync(lta, Buffer.from(await res.arrayBuffer()));
    const r = await validate(lta);
    expect(r.documentIndication).toBe('TOTAL-PASSED');
    expect(r.signatures.map((s) => s.type)).toEqual(['signature', 'document-timestamp', 'document-timestamp']);
  });

  it('says TRY_LATER for a B-B document under the strict policy (no revocation data to rely on)', async () => {
    const bb = await sign('key=officer1');
    const r = await validate(bb);
    expect(r.signatures[0]).toMatchObject({ indication: 'INDETERMINATE', subIndication: 'TRY_LATER' });
    expect(r.documentIndication).toBe('INDETERMINATE');
  });

  it('fails a copy with one byte changed inside the signed range, and renders HTML for people', async () => {
    const lt = await sign('key=seal&level=B-LT&reason=test');
    const bytes = readFileSync(lt);
    const i = bytes.indexOf('Hello chungthuc');
    bytes[i] = 'J'.charCodeAt(0);
    const tampered = path.join(tmp, 'tampered.pdf');
    writeFileSync(tampered, bytes);
    const r = await validate(tampered);
    expect(r.documentIndication).toBe('TOTAL-FAILED');
    expect(r.signatures[0]).toMatchObject({ indication: 'TOTAL-FAILED', subIndication: 'HASH_FAILURE' });
    const html = await fetch(`${svc.url}/api/v1/validations?format=html`, { method: 'POST', headers: { 'content-type': 'application/pdf' }, body: readFileSync(lt) });
    expect(html.headers.get('content-type')).toMatch(/text\/html/);
    // The public report page's own frame: its stylesheet under a CSP without inline styles.
    expect(html.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    const page = await html.text();
    expect(page).not.toMatch(/<style|style=/);
    expect(page).toMatch(/<link rel="stylesheet" href="\/assets\/console\.[0-9a-f]+\.css"/);
    expect(page).toContain('Hợp lệ');
    expect(page).toContain('Trung tâm Phục vụ hành chính công tỉnh Thanh Hóa');
  });

  it('chungthuc verify: exit 0 only when every file passes, one line per file', async () => {
    const lt = await sign('key=officer1&level=B-LT&location=x');
    const bb = await sign('key=officer1&location=y');
    const ok = await promisify(execFile)(process.execPath, ['bin/chungthuc.mjs', 'verify', lt], { cwd: DEV_PATHS.root, encoding: 'utf8' });
    expect(ok.stdout).toMatch(/TOTAL-PASSED/);
    const both = await promisify(execFile)(process.execPath, ['bin/chungthuc.mjs', 'verify', lt, bb], { cwd: DEV_PATHS.root, encoding: 'utf8' }).catch((e: { code: number; stdout: string }) => e);
    expect((both as { code: number }).code).toBe(1);
    expect((both as { stdout: string }).stdout.trim().split('\n')).toHaveLength(2);
    // With --online the B-B signature's status is fetched from the dev OCSP responder and passes.
    const online = await promisify(execFile)(process.execPath, ['bin/chungthuc.mjs', 'verify', '--online', '--json', bb], { cwd: DEV_PATHS.root, encoding: 'utf8' });
    expect((JSON.parse(online.stdout) as ValidationReport).documentIndication).toBe('TOTAL-PASSED');
  });
});
