/**
 * Certifying a copy end to end: scan → number → stamp → certifier + seal signatures → DSS →
 * register entry; proven by pdfsig/qpdf/pdftotext/zbarimg, the validator and the registry.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateFixtures } from '../../scripts/gen-fixtures.ts';
import { loadConfig } from '../../src/config.ts';
import { buildTrustServices, buildValidationDeps, type TrustServices } from '../../src/main.ts';
import { CopyRepository, TenantRepository, openDatabase, registerYear, type OpenedDatabase, type Tenant } from '../../src/registry/index.ts';
import { CERTIFY_STEPS, certifyCopy, partialCopyPath, storedCopyPath, sweepExpiredReservations, voidedCopyPath, type CertifyDeps } from '../../src/services/certifyCopy.ts';
import { sameName } from '../../src/services/keyHolder.ts';
import { validateDocument } from '../../src/services/validateDocument.ts';
import type { Pkcs11Token } from '../../src/signers/index.ts';
import { openDevToken } from '../support/hsm.ts';
import { startOcspResponder, type OcspResponder } from '../support/ocspResponder.ts';
import { pdfsig, qpdfCheck } from '../support/pdfTools.ts';
import { startRepoServer, type RepoServer } from '../support/repoServer.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'chungthuc-certify-'));
let token: Pkcs11Token;
let db: OpenedDatabase;
let ocsp: OcspResponder;
let repo: RepoServer;
let trust: TrustServices;
let deps: CertifyDeps;
let tenant: Tenant;
let scan: Uint8Array;

beforeAll(async () => {
  token = await openDevToken({ poolSize: 2 });
  db = openDatabase(path.join(tmp, 'db.sqlite'));
  ocsp = await startOcspResponder();
  repo = await startRepoServer();
  const config = loadConfig({ ...process.env, DATA_DIR: tmp, LOG_LEVEL: 'silent' });
  trust = buildTrustServices(config, (l) => token.getSigner(l), db.db);
  deps = { signing: trust.signing, copies: new CopyRepository(db.db), storeDir: path.join(tmp, 'store'), publicBaseUrl: 'https://tracuu.example.gov.vn' };
  tenant = new TenantRepository(db.db).create({ code: 'TH', name: 'Trung tâm Phục vụ hành chính công tỉnh Thanh Hóa' });
  // A "scan": a page rendered to JPEG, as a scanner would deliver it.
  const fx = generateFixtures(path.join(tmp, 'fx'));
  execFileSync('pdftoppm', ['-jpeg', '-r', '100', '-singlefile', fx.classic, path.join(tmp, 'scan')]);
  scan = new Uint8Array(readFileSync(path.join(tmp, 'scan.jpg')));
});
afterAll(async () => {
  await ocsp?.stop();
  await repo?.stop();
  db?.close();
  await token?.close();
  rmSync(tmp, { recursive: true, force: true });
});

const base = () => ({
  tenant,
  files: [{ bytes: scan, mimeType: 'image/jpeg' }, { bytes: scan, mimeType: 'image/jpeg' }],
  documentType: 'Giấy khai sinh',
  originalIssuer: 'UBND xã Đông Sơn',
  requesterName: 'Trần Thị Hoa',
  originalPages: 2,
  copies: 1,
  certifier: { keyLabel: 'officer1', title: 'Phó Chủ tịch UBND' },
  seal: { keyLabel: 'seal' },
  actor: 'officer:test',
});

describe('certifyCopy', () => {
  it('produces a stamped, doubly signed, B-LT copy with its register entry', async () => {
    const r = await certifyCopy(deps, base());
    expect(r.record).toMatchObject({ status: 'valid', number: 1, feeVnd: 4000, certifierName: 'Nguyễn Văn An', documentType: 'Giấy khai sinh' });
    expect(r.accessCode.length).toBeGreaterThanOrEqual(10);
    expect(qpdfCheck(r.pdfPath).ok).toBe(true);
    const sigs = pdfsig(r.pdfPath);
    expect(sigs.map((s) => [s.signerCommonName, s.signatureValid, s.certificateStatus])).toEqual([
      ['Nguyễn Văn An', true, 'Certificate is Trusted.'],
      ['Trung tâm Phục vụ hành chính công tỉnh Thanh Hóa', true, 'Certificate is Trusted.'],
    ]);
    // The stored file is exactly the registered one.
    expect(createHash('sha256').update(readFileSync(r.pdfPath)).digest('hex')).toBe(r.record.pdfSha256);
    // Stamp text on the last page, footer on each, QR → the verification URL.
    const last = execFileSync('pdftotext', ['-f', '2', '-l', '2', r.pdfPath, '-'], { encoding: 'utf8' }).normalize('NFC');
    expect(last).toContain('Chứng thực bản sao đúng với bản chính.');
    expect(last).toContain(`Số chứng thực: 1`);
    expect(last).toContain('trang 2/2');
    // The access code is printed on the copy: its holder unlocks the requester's name and the file with it.
    const printed = /Mã truy cập: ([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})/.exec(last)?.[1];
    expect(printed).toBe(r.accessCode);
    expect(deps.copies.verifyAccessCode(r.record.publicCode, printed!)).toBe(true);
    execFileSync('pdftoppm', ['-png', '-r', '150', '-f', '2', '-l', '2', '-singlefile', r.pdfPath, path.join(tmp, 'last')]);
    const qr = execFileSync('zbarimg', ['--raw', '-q', path.join(tmp, 'last.png')], { encoding: 'utf8' }).trim();
    expect(qr).toBe(r.verificationUrl);
    expect(qr).toBe(`https://tracuu.example.gov.vn/v/${r.record.publicCode}`);
    // Valid for the validator on its embedded data; the registry's public view and chain agree.
    const config = loadConfig({ ...process.env, LOG_LEVEL: 'silent' });
    const report = await validateDocument(buildValidationDeps(config), { path: r.pdfPath });
    expect(report.documentIndication).toBe('TOTAL-PASSED');
    // Both signed into the fields the stamp made, so nothing after the certification is flagged
    // (a seal field added after it would be: a possible sneaky-signature overlay).
    expect(report.signatures.map((s) => [s.fieldName, s.certificationLevel, s.checks.find((c) => c.name === 'modifications')?.status])).toEqual([
      ['NguoiChungThuc', 2, 'passed'],
      ['DauCoQuan', null, 'passed'],
    ]);
    expect(report.revisions.flatMap((rev) => rev.changes).filter((c) => c.flag)).toEqual([]);
    const view = deps.copies.findByPublicCode(r.record.publicCode);
    expect(view).toMatchObject({ status: 'valid', number: 1, documentType: 'Giấy khai sinh', pdfSha256: r.record.pdfSha256 });
    expect(JSON.stringify(view)).not.toContain('Trần Thị Hoa');
    expect(deps.copies.verifyAccessCode(r.record.publicCode, r.accessCode)).toBe(true);
    expect(deps.copies.verifyChain().ok).toBe(true);
  });

  it('is locked after the seal: another signature is refused, LTV data is still allowed (and reports its steps)', async () => {
    const steps: Array<[string, number]> = [];
    const t0 = performance.now();
    const r = await certifyCopy({ ...deps, onStep: (s, seconds) => steps.push([s, seconds]) }, { ...base(), level: 'B-LTA' });
    const elapsed = (performance.now() - t0) / 1000;
    expect(r.record.number).toBe(2);
    // Every step once, in order, each a share of the whole.
    expect(steps.map(([s]) => s)).toEqual([...CERTIFY_STEPS]);
    expect(steps.every(([, seconds]) => seconds >= 0)).toBe(true);
    expect(steps.reduce((sum, [, seconds]) => sum + seconds, 0)).toBeLessThanOrEqual(elapsed);
    const out = path.join(tmp, 'another.pdf');
    const { signDocument } = await import('../../src/services/signDocument.ts');
    await expect(signDocument(trust.signing, { path: r.pdfPath }, { path: out }, { key: 'officer2', level: 'B-B' })).rejects.toMatchObject({ code: 'document-locked' });
    expect(readFileSync(r.pdfPath).toString('latin1')).toContain('/DocTimeStamp');
  });

  it('voids the number and leaves no file when signing fails', async () => {
    const before = readdirSync(path.join(deps.storeDir, tenant.id), { recursive: true }).length;
    await expect(certifyCopy(deps, { ...base(), certifier: { keyLabel: 'officer-revoked', title: 'X' } })).rejects.toMatchObject({ code: 'certificate-revoked' });
    const list = deps.copies.listCopies(tenant.id, {});
    const voided = list.items.find((e) => e.status === 'voided');
    expect(voided?.number).toBe(3);
    expect(readdirSync(path.join(deps.storeDir, tenant.id), { recursive: true }).length).toBe(before);
    // A failing step observer (metrics) neither fails nor undoes a certification.
    const next = await certifyCopy(
      {
        ...deps,
        onStep: () => {
          throw new Error('observer failed');
        },
      },
      base(),
    );
    expect(next.record.number).toBe(4);
    expect(existsSync(next.pdfPath)).toBe(true);
    expect(deps.copies.verifyChain().ok).toBe(true);
  });

  it('takes no number for a request whose client went away before one was reserved', async () => {
    const entries = () => db.db.prepare('SELECT COUNT(*) AS n FROM certified_copies WHERE tenant_id = ?').get(tenant.id);
    const before = entries();
    await expect(certifyCopy(deps, { ...base(), signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'request-aborted', status: 400 });
    expect(entries()).toEqual(before);
    // The sequence goes on where it was: no number was used up.
    const next = await certifyCopy(deps, base());
    expect(next.record.number).toBe((before as { n: number }).n + 1);
  });

  it('sweeps an expired reservation: the number is voided, its partial file removed and a finished one (renamed before the register write) set aside', async () => {
    const r = deps.copies.reserveNumber(tenant.id, registerYear(new Date()), 60_000);
    const crashedBeforeRename = deps.copies.reserveNumber(tenant.id, registerYear(new Date()), 60_000);
    const partial = partialCopyPath(deps.storeDir, { tenantId: tenant.id, year: r.year, publicCode: r.publicCode });
    const renamed = storedCopyPath(deps.storeDir, { tenantId: tenant.id, year: crashedBeforeRename.year, publicCode: crashedBeforeRename.publicCode });
    mkdirSync(path.dirname(partial), { recursive: true });
    writeFileSync(partial, '%PDF-1.7 half written');
    writeFileSync(renamed, '%PDF-1.7 finished, never registered');
    // Another copy's file in the same directory stays where it is.
    const neighbour = path.join(path.dirname(partial), 'NEIGHBOUR.pdf');
    writeFileSync(neighbour, '%PDF-1.7 an issued copy');
    expect(await sweepExpiredReservations(deps.copies, deps.storeDir)).toEqual([]);
    expect(existsSync(partial)).toBe(true);
    expect(existsSync(renamed)).toBe(true);
    const swept = await sweepExpiredReservations(deps.copies, deps.storeDir, new Date(Date.now() + 2 * 60_000));
    expect(swept.map((v) => v.number)).toEqual([r.number, crashedBeforeRename.number]);
    expect(existsSync(partial)).toBe(false);
    expect(existsSync(renamed)).toBe(false);
    const aside = voidedCopyPath(deps.storeDir, { tenantId: tenant.id, year: crashedBeforeRename.year, publicCode: crashedBeforeRename.publicCode });
    expect(readFileSync(aside, 'utf8')).toBe('%PDF-1.7 finished, never registered');
    expect(readFileSync(neighbour, 'utf8')).toBe('%PDF-1.7 an issued copy');
    rmSync(neighbour);
    expect(deps.copies.getCopy(tenant.id, r.id)?.status).toBe('voided');
  });
});

describe('the certifier named on the stamp and in the certificate', () => {
  it('takes two spellings of one name as the same person, and two people as two', () => {
    expect(sameName('Nguyễn Văn An', 'NGUYỄN VĂN AN')).toBe(true);
    expect(sameName(' Nguyễn  Văn An ', 'Nguyễn Văn An')).toBe(true);
    expect(sameName('Nguyễn Văn An'.normalize('NFD'), 'Nguyễn Văn An'.normalize('NFC'))).toBe(true);
    expect(sameName('Nguyễn Văn An', 'Nguyễn Văn Ân')).toBe(false);
    expect(sameName('Trần Thị Bình', 'Lê Thị Bình')).toBe(false);
  });
});
