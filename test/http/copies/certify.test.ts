/**
 * Issue #7 end to end over HTTP, against the real service (SoftHSM2, SQLite, dev OCSP/CRL): a 3-page
 * JPEG scan is certified through POST /api/v1/certified-copies by an API key naming its officer; the
 * PDF is checked by qpdf, pdfsig, pdftotext, pdftoppm + zbarimg (the QR URL), the public JSON and the
 * validation engine; then it is annulled through the API and the public answer changes.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerYear } from '../../../src/registry/index.ts';
import { pdfsig, qpdfCheck } from '../../support/pdfTools.ts';
import { startPkiWorld, type PkiWorld } from '../../support/pkiWorld.ts';
import type { TestService } from '../../support/service.ts';
import { bearer, countRows, FIELDS, get, jpegScans, post, scanForm, tenantWorld, type CertifiedJson, type TenantWorld } from './helpers.ts';

let world: PkiWorld;
let svc: TestService;
let th: TenantWorld;
let scans: Uint8Array[];

beforeAll(async () => {
  world = await startPkiWorld('copies-e2e', { API_AUTH: 'required' });
  svc = world.svc;
  th = await tenantWorld(svc, 'TH');
  scans = await jpegScans(3);
});
afterAll(async () => {
  await world?.stop();
});

describe('POST /api/v1/certified-copies (end to end)', () => {
  let made: CertifiedJson;
  const copyYear = (id: string) => (svc.db.db.prepare('SELECT year FROM certified_copies WHERE id = ?').get(id) as { year: number }).year;
  let pdfFile: string;

  it('certifies a 3-page JPEG scan: 201 with the register entry, access code, verification URL and PDF link', async () => {
    const before = new Date();
    const res = await post(svc, '/api/v1/certified-copies', bearer(th.key), scanForm(scans, { ...FIELDS, certifier: th.officer.username, caseCode: 'HS-2026-0001', copies: '2' }));
    expect(res.status, await res.clone().text()).toBe(201);
    made = (await res.json()) as CertifiedJson;
    // The register year is the copy's own (Việt Nam time): new Date().getUTCFullYear() disagrees with it
    // from 17:00 UTC on 31 December.
    const year = copyYear(made.copy.id);
    expect([registerYear(before), registerYear(new Date())]).toContain(year);
    expect(made.copy).toMatchObject({
      number: 1,
      status: 'valid',
      registerVolume: `01/${year}-SCT/BS`,
      certifierName: th.officer.displayName,
      certifierTitle: 'Phó Chủ tịch UBND',
      requesterName: 'Trần Thị Hoa',
      documentType: 'Giấy khai sinh',
      originalPages: 3,
      copies: 2,
      caseCode: 'HS-2026-0001',
      // Circular 226/2016: 2,000 VND a page for pages 1–2, 1,000 from page 3, per copy: (4,000 + 1,000) × 2.
      feeVnd: 10000,
    });
    expect(res.headers.get('location')).toBe(`/api/v1/certified-copies/${made.copy.id}`);
    expect(made.pdfUrl).toBe(`/api/v1/certified-copies/${made.copy.id}/pdf`);
    expect(made.verificationUrl).toBe(`${svc.url}/v/${made.copy.publicCode}`);
    expect(made.accessCode.length).toBeGreaterThanOrEqual(10);
  });

  it('serves the PDF: qpdf clean, both signatures valid and trusted, the exact certification text, the QR URL', async () => {
    const res = await get(svc, made.pdfUrl, bearer(th.key));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(made.copy.pdfSha256);
    pdfFile = path.join(world.tmp, 'copy.pdf');
    writeFileSync(pdfFile, bytes);

    expect(qpdfCheck(pdfFile).ok).toBe(true);
    const sigs = pdfsig(pdfFile);
    // The certifier's personal key (officer1 in the dev token), then the agency seal.
    expect(sigs.map((s) => [s.signerCommonName, s.signatureValid, s.certificateStatus])).toEqual([
      ['Nguyễn Văn An', true, 'Certificate is Trusted.'],
      ['Trung tâm Phục vụ hành chính công tỉnh Thanh Hóa', true, 'Certificate is Trusted.'],
    ]);

    const pages = execFileSync('pdfinfo', [pdfFile], { encoding: 'utf8' });
    expect(pages).toMatch(/Pages:\s+3/);
    const last = execFileSync('pdftotext', ['-f', '3', '-l', '3', pdfFile, '-'], { encoding: 'utf8' }).normalize('NFC');
    const year = copyYear(made.copy.id);
    for (const line of [
      'Chứng thực bản sao đúng với bản chính.',
      `Số chứng thực: 1`,
      `Quyển số: 01/${year}-SCT/BS`,
      'Phó Chủ tịch UBND',
      th.officer.displayName,
      'trang 3/3',
      made.copy.publicCode,
    ]) {
      expect(last).toContain(line);
    }
    execFileSync('pdftoppm', ['-png', '-r', '150', '-f', '3', '-l', '3', '-singlefile', pdfFile, path.join(world.tmp, 'last')]);
    const qr = execFileSync('zbarimg', ['--raw', '-q', path.join(world.tmp, 'last.png')], { encoding: 'utf8' }).trim();
    expect(qr).toBe(made.verificationUrl);
  });

  it('the QR URL (JSON) and the public API say valid; the validation engine says TOTAL-PASSED', async () => {
    const view = (await (await fetch(made.verificationUrl, { headers: { accept: 'application/json' } })).json()) as Record<string, unknown>;
    expect(view).toMatchObject({ status: 'valid', number: 1, documentType: 'Giấy khai sinh', pdfSha256: made.copy.pdfSha256 });
    expect(view.checks).toMatchObject({ integrity: { outcome: 'VALID' }, status: { outcome: 'VALID' }, issuer: { outcome: 'VALID' } });

    const api = await fetch(`${svc.url}/api/v1/public/copies/${made.copy.publicCode}`);
    expect(api.status).toBe(200);
    const pub = (await api.json()) as Record<string, unknown>;
    expect(pub).toMatchObject({ status: 'valid', number: 1, checks: view.checks });
    // Only what domain.md allows without the access code: no requester, no document name, no case code.
    const text = JSON.stringify(pub);
    for (const secret of ['Trần Thị Hoa', 'HS-2026-0001', 'requesterName', 'fileKey', made.accessCode]) expect(text).not.toContain(secret);
    expect(Object.keys(pub).sort()).toEqual(Object.keys(view).sort());

    const form = new FormData();
    form.append('file', new Blob([readFileSync(pdfFile)], { type: 'application/pdf' }), 'copy.pdf');
    const v = await fetch(`${svc.url}/api/v1/validations`, { method: 'POST', headers: bearer(th.key), body: form });
    expect(v.status).toBe(200);
    expect(((await v.json()) as { documentIndication: string }).documentIndication).toBe('TOTAL-PASSED');
  });

  it('annuls through the API; the QR URL and the public API then say annulled', async () => {
    const res = await post(svc, `/api/v1/certified-copies/${made.copy.id}/annul`, bearer(th.key), { decisionNumber: '12/QĐ-UBND', decisionDate: '2026-11-29', reason: 'Chứng thực sai thẩm quyền' });
    expect(res.status, await res.clone().text()).toBe(200);
    const entry = (await res.json()) as Record<string, unknown>;
    expect(entry).toMatchObject({ id: made.copy.id, status: 'annulled', annulment: { decisionNumber: '12/QĐ-UBND', decisionDate: '2026-11-29', reason: 'Chứng thực sai thẩm quyền', by: `api-key:${th.key.id}` } });
    const again = await post(svc, `/api/v1/certified-copies/${made.copy.id}/annul`, bearer(th.key), { decisionNumber: '13/QĐ-UBND', decisionDate: '2026-11-30', reason: 'lần hai' });
    expect(again.status).toBe(409);
    expect(((await again.json()) as { code: string }).code).toBe('copy-already-annulled');

    const view = (await (await fetch(made.verificationUrl, { headers: { accept: 'application/json' } })).json()) as Record<string, unknown>;
    expect(view).toMatchObject({ status: 'annulled', annulment: { decisionNumber: '12/QĐ-UBND' }, checks: { status: { outcome: 'INVALID', reason: 'annulled' } } });
    const pub = (await (await fetch(`${svc.url}/api/v1/public/copies/${made.copy.publicCode}`)).json()) as Record<string, unknown>;
    expect(pub).toMatchObject({ status: 'annulled', annulment: { decisionNumber: '12/QĐ-UBND', reason: 'Chứng thực sai thẩm quyền' } });
    // The register keeps everything; the chain verifies; the upload scratch folders are gone.
    expect(countRows(svc, "SELECT COUNT(*) AS n FROM copy_events WHERE copy_id = ?", made.copy.id)).toBe(2);
    expect(svc.db.db.prepare('SELECT 1').get()).toBeTruthy();
    await vi.waitFor(() => expect(readdirSync(path.join(svc.dataDir, 'tmp'))).toEqual([]), { timeout: 5000 });
  });

  it('an unknown public code is a 404 problem; anonymous callers of the tenant routes get 401', async () => {
    const missing = await fetch(`${svc.url}/api/v1/public/copies/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { code: string }).code).toBe('copy-not-found');
    for (const [method, p] of [['GET', '/api/v1/certified-copies'], ['GET', `/api/v1/certified-copies/${made.copy.id}/pdf`], ['POST', '/api/v1/refusals'], ['POST', '/api/v1/certified-copies']] as const) {
      const r = await fetch(`${svc.url}${p}`, { method });
      expect(r.status, `${method} ${p}`).toBe(401);
    }
  });
});
