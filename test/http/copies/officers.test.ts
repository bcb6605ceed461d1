/**
 * Certifying as a signed-in officer, and the tenant's settings: an officer certifies as themselves
 * (their name, title and personal key; CSRF required), an officer cannot annul while a supervisor
 * can, an officer without a personal key is refused; `chungthuc tenant configure` sets the level,
 * the seal image and the stamp template that the next certification uses.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixturePdf, rasterize, Workdir } from '../../stamp/helpers.ts';
import { pdfsig } from '../../support/pdfTools.ts';
import { startPkiWorld, type PkiWorld } from '../../support/pkiWorld.ts';
import type { TestService } from '../../support/service.ts';
import { OfficerRepository } from '../../../src/registry/index.ts';
import { loginOfficer, session, type CreatedOfficer, type OfficerLogin } from '../access/helpers.ts';
import { bearer, cli, countRows, createOfficer, FIELDS, get, jpegScans, post, scanForm, tenantWorld, type CertifiedJson, type TenantWorld } from './helpers.ts';

let world: PkiWorld;
let svc: TestService;
let t: TenantWorld;
let scans: Uint8Array[];
let officer: CreatedOfficer;
let supervisor: CreatedOfficer;
let keyless: CreatedOfficer;
const logins: Record<string, OfficerLogin> = {};
const code = async (r: Response) => ((await r.json()) as { code: string }).code;

beforeAll(async () => {
  world = await startPkiWorld('copies-officers', { API_AUTH: 'required' });
  svc = world.svc;
  t = await tenantWorld(svc, 'OF', null);
  scans = await jpegScans(1);
  officer = await createOfficer(svc, 'OF', 'nguyen.an', { key: 'officer1', name: 'Nguyễn Văn An', title: 'Công chức Tư pháp - Hộ tịch' });
  supervisor = await createOfficer(svc, 'OF', 'le.binh', { role: 'supervisor', key: 'officer2', name: 'Lê Thị Bình', title: 'Chủ tịch UBND xã' });
  keyless = await createOfficer(svc, 'OF', 'le.cuong', { name: 'Lê Văn Cường' });
  for (const o of [officer, supervisor, keyless]) logins[o.username] = await loginOfficer(svc, o.username, o.password);
});
afterAll(async () => {
  await world?.stop();
});

const fields = { ...FIELDS, originalPages: '1' };

describe('an officer signed in', () => {
  let made: CertifiedJson;

  it('certifies as themselves: their name and title on the record, their key in the PDF, their name as the actor', async () => {
    const res = await post(svc, '/api/v1/certified-copies', session(logins[officer.username]!), scanForm(scans, fields));
    expect(res.status, await res.clone().text()).toBe(201);
    made = (await res.json()) as CertifiedJson;
    expect(made.copy).toMatchObject({ certifierName: 'Nguyễn Văn An', certifierTitle: 'Công chức Tư pháp - Hộ tịch', status: 'valid' });
    const actor = svc.db.db.prepare("SELECT actor FROM copy_events WHERE copy_id = ? AND type = 'issued'").get(made.copy.id) as { actor: string };
    expect(actor.actor).toBe(`officer:${officer.username}`);
    const pdf = path.join(world.tmp, 'officer.pdf');
    writeFileSync(pdf, Buffer.from(await (await get(svc, made.pdfUrl, { cookie: logins[officer.username]!.cookie })).arrayBuffer()));
    expect(pdfsig(pdf).map((s) => [s.signerCommonName, s.signatureValid])).toEqual([
      ['Nguyễn Văn An', true],
      ['Trung tâm Phục vụ hành chính công tỉnh Thanh Hóa', true],
    ]);
  });

  it('needs the CSRF token, may not name another certifier, and is refused without a personal key', async () => {
    const before = countRows(svc, 'SELECT COUNT(*) AS n FROM certified_copies');
    const noCsrf = await post(svc, '/api/v1/certified-copies', { cookie: logins[officer.username]!.cookie }, scanForm(scans, fields));
    expect([noCsrf.status, await code(noCsrf)]).toEqual([403, 'csrf-failed']);
    const other = await post(svc, '/api/v1/certified-copies', session(logins[officer.username]!), scanForm(scans, { ...fields, certifier: supervisor.username }));
    expect([other.status, await code(other)]).toEqual([422, 'certifier-not-allowed']);
    const noKey = await post(svc, '/api/v1/certified-copies', session(logins[keyless.username]!), scanForm(scans, fields));
    expect([noKey.status, await code(noKey)]).toEqual([409, 'officer-has-no-signing-key']);
    expect(countRows(svc, 'SELECT COUNT(*) AS n FROM certified_copies')).toBe(before);
  });

  it("is refused, before a number is reserved, when the account's name is not the one in its key's certificate", async () => {
    // An account renamed behind the administration's back (or made before the name check): it says
    // Trần Văn Bình, the certificate of officer2 says Lê Thị Bình — the stamp and the signature would
    // name two people.
    const officers = new OfficerRepository(svc.db.db);
    officers.update(supervisor.id, { displayName: 'Trần Văn Bình' });
    try {
      const before = countRows(svc, 'SELECT COUNT(*) AS n FROM certified_copies');
      const res = await post(svc, '/api/v1/certified-copies', session(logins[supervisor.username]!), scanForm(scans, fields));
      expect(res.status).toBe(409);
      expect(await res.json()).toMatchObject({ code: 'certifier-name-mismatch', stampName: 'Trần Văn Bình', certificateName: 'Lê Thị Bình', key: 'officer2' });
      expect(countRows(svc, 'SELECT COUNT(*) AS n FROM certified_copies')).toBe(before);
    } finally {
      officers.update(supervisor.id, { displayName: 'Lê Thị Bình' });
    }
  });

  it('an officer (no annul scope) gets 403; a supervisor annuls', async () => {
    const body = { decisionNumber: '7/QĐ-UBND', decisionDate: '2026-11-29', reason: 'Bản chính giả mạo' };
    const denied = await post(svc, `/api/v1/certified-copies/${made.copy.id}/annul`, session(logins[officer.username]!), body);
    expect([denied.status, await code(denied)]).toEqual([403, 'forbidden-scope']);
    const ok = await post(svc, `/api/v1/certified-copies/${made.copy.id}/annul`, session(logins[supervisor.username]!), body);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ status: 'annulled', annulment: { by: `officer:${supervisor.username}`, decisionNumber: '7/QĐ-UBND' } });
  });

  it('records a refusal in their name', async () => {
    const r = await post(svc, '/api/v1/refusals', session(logins[officer.username]!), { ground: 'unstamped-private-paper', documentType: 'Giấy viết tay' });
    expect(r.status).toBe(201);
    expect(await r.json()).toMatchObject({ by: `officer:${officer.username}`, officerId: officer.id, ground: 'unstamped-private-paper' });
  });
});

describe('chungthuc tenant configure', () => {
  it('shows the defaults, refuses a bad template or a key the tenant may not use, and changes nothing then', async () => {
    const shown = await cli(svc, ['tenant', 'configure', '--tenant', 'OF', '--json']);
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.out)).toMatchObject({ sealKey: 'seal', sealImage: null, defaultLevel: 'B-LT', stampTemplate: null, updatedAt: null });
    const bad = path.join(world.tmp, 'bad.json');
    writeFileSync(bad, JSON.stringify({ lines: { numberAndVolume: 'Số: (không có số)' } }));
    const r1 = await cli(svc, ['tenant', 'configure', '--tenant', 'OF', '--template', bad]);
    expect(r1.code).not.toBe(0);
    expect(r1.err).toContain('stamp-invalid-template');
    const r2 = await cli(svc, ['tenant', 'configure', '--tenant', 'OF', '--seal-key', 'tsa']);
    expect(r2.code).not.toBe(0);
    expect(r2.err).toContain('tenant allow-key');
    const r3 = await cli(svc, ['tenant', 'configure', '--tenant', 'OF', '--level', 'B-B']);
    expect(r3.code).not.toBe(0);
    expect(JSON.parse((await cli(svc, ['tenant', 'configure', '--tenant', 'OF', '--json'])).out)).toMatchObject({ defaultLevel: 'B-LT', stampTemplate: null, updatedAt: null });
  });

  it('level, seal image and stamp template apply to the next certification', async () => {
    const wd = new Workdir();
    try {
      const png = rasterize(wd, await fixturePdf([{ size: [120, 120], label: 'SEAL' }]), 1, 'png', 72);
      const seal = wd.file('seal.png', png);
      const template = wd.file('template.json', new TextEncoder().encode(JSON.stringify({ lines: { statement: 'Chứng thực bản sao điện tử này đúng với bản chính xuất trình.' } })));
      const r = await cli(svc, ['tenant', 'configure', '--tenant', 'OF', '--level', 'B-LTA', '--seal-image', seal, '--template', template, '--json']);
      expect(r.code, r.err).toBe(0);
      expect(JSON.parse(r.out)).toMatchObject({ defaultLevel: 'B-LTA', sealImage: `png, ${png.length} bytes`, stampTemplate: { lines: { statement: expect.stringContaining('điện tử') } } });
    } finally {
      wd.remove();
    }
    const res = await post(svc, '/api/v1/certified-copies', bearer(t.key), scanForm(scans, { ...fields, certifier: officer.username }));
    expect(res.status, await res.clone().text()).toBe(201);
    const made = (await res.json()) as CertifiedJson;
    const pdf = path.join(world.tmp, 'configured.pdf');
    const bytes = Buffer.from(await (await get(svc, made.pdfUrl, bearer(t.key))).arrayBuffer());
    writeFileSync(pdf, bytes);
    // B-LTA: a document timestamp after the two signatures; the seal widget carries the image.
    expect(bytes.toString('latin1')).toContain('/DocTimeStamp');
    const sigs = pdfsig(pdf);
    expect(sigs.slice(0, 2).every((s) => s.signatureValid)).toBe(true);
    // The stamp wraps long lines: compare with the white space folded.
    const text = execFileSync('pdftotext', [pdf, '-'], { encoding: 'utf8' }).normalize('NFC').replace(/\s+/g, ' ');
    expect(text).toContain('Chứng thực bản sao điện tử này đúng với bản chính xuất trình.');
    expect(text).not.toContain('Chứng thực bản sao đúng với bản chính.');
    const images = execFileSync('pdfimages', ['-list', pdf], { encoding: 'utf8' });
    expect(images.split('\n').filter((l) => /^\s+\d+\s+\d+\s+image/.test(l)).length).toBeGreaterThanOrEqual(2);
    // An explicit level wins over the tenant's default.
    const lt = await post(svc, '/api/v1/certified-copies', bearer(t.key), scanForm(scans, { ...fields, certifier: officer.username, level: 'B-LT' }));
    const ltPdf = Buffer.from(await (await get(svc, ((await lt.json()) as CertifiedJson).pdfUrl, bearer(t.key))).arrayBuffer());
    expect(ltPdf.toString('latin1')).not.toContain('/DocTimeStamp');
  });
});
