/**
 * The certified-copy API around the happy path, against the real service: tenant isolation, list
 * filters and pagination, refusals, Idempotency-Key replay, certifier resolution, limits (nothing
 * recorded, no scratch file left), a failed signature leaving a void number, and the preview.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { PDFDocument } from 'pdf-lib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startPkiWorld, type PkiWorld } from '../../support/pkiWorld.ts';
import { startTestService, type TestService } from '../../support/service.ts';
import { bearer, cli, countRows, createOfficer, FIELDS, get, jpegScans, post, scanForm, tenantWorld, type CertifiedJson, type TenantWorld } from './helpers.ts';
import { createKey } from '../access/helpers.ts';

let world: PkiWorld;
let svc: TestService;
let a: TenantWorld;
let b: TenantWorld;
let scans: Uint8Array[];
const made: CertifiedJson[] = [];

interface Entry {
  id: string;
  number: number;
  status: string;
  caseCode: string | null;
  publicCode: string;
  void?: { reason: string };
}
interface ListJson {
  items: Entry[];
  nextCursor: string | null;
}
const code = async (r: Response) => ((await r.json()) as { code: string }).code;
const copyRows = () => countRows(svc, 'SELECT COUNT(*) AS n FROM certified_copies');
/** Scratch folders are removed when each response has been sent (asynchronously, just after). */
const scratchCleared = () => vi.waitFor(() => expect(readdirSync(path.join(svc.dataDir, 'tmp'))).toEqual([]), { timeout: 5000 });

async function certify(t: TenantWorld, fields: Record<string, string> = {}, headers: Record<string, string> = {}): Promise<Response> {
  return post(svc, '/api/v1/certified-copies', bearer(t.key), scanForm(scans.slice(0, 1), { ...FIELDS, originalPages: '1', certifier: t.officer.username, ...fields }), headers);
}

beforeAll(async () => {
  world = await startPkiWorld('copies-register', { API_AUTH: 'required' });
  svc = world.svc;
  a = await tenantWorld(svc, 'AA');
  b = await tenantWorld(svc, 'BB', 'officer2');
  scans = await jpegScans(3);
  for (const caseCode of ['HS-1', 'HS-2', 'HS-1']) {
    const r = await certify(a, { caseCode });
    expect(r.status, await r.clone().text()).toBe(201);
    made.push((await r.json()) as CertifiedJson);
  }
});
afterAll(async () => {
  await world?.stop();
});

describe('tenant isolation', () => {
  it("tenant B cannot read, download, list or annul tenant A's copy (404), nor certify as A's officer", async () => {
    const id = made[0]!.copy.id;
    for (const p of [`/api/v1/certified-copies/${id}`, `/api/v1/certified-copies/${id}/pdf`]) {
      const r = await get(svc, p, bearer(b.key));
      expect(r.status, p).toBe(404);
      expect(await code(r)).toBe('copy-not-found');
      expect((await get(svc, p, bearer(a.key))).status).toBe(200);
    }
    const annul = await post(svc, `/api/v1/certified-copies/${id}/annul`, bearer(b.key), { decisionNumber: '1/QĐ', decisionDate: '2026-01-02', reason: 'thử' });
    expect(annul.status).toBe(404);
    expect(((await (await get(svc, `/api/v1/certified-copies/${id}`, bearer(a.key))).json()) as Entry).status).toBe('valid');
    const list = (await (await get(svc, '/api/v1/certified-copies', bearer(b.key))).json()) as ListJson;
    expect(list.items).toEqual([]);
    const asA = await certify(b, { certifier: a.officer.username });
    expect(asA.status).toBe(422);
    expect(await code(asA)).toBe('certifier-not-found');
  });
});

describe('GET /api/v1/certified-copies', () => {
  const list = async (q: string) => {
    const r = await get(svc, `/api/v1/certified-copies${q}`, bearer(a.key));
    expect(r.status, await r.clone().text()).toBe(200);
    return (await r.json()) as ListJson;
  };

  it('filters by number, public code, case code, status and day', async () => {
    expect((await list('')).items.map((e) => e.number)).toEqual([3, 2, 1]);
    expect((await list('?number=2')).items.map((e) => e.id)).toEqual([made[1]!.copy.id]);
    expect((await list(`?code=${made[2]!.copy.publicCode}`)).items.map((e) => e.number)).toEqual([3]);
    expect((await list('?caseCode=HS-1')).items.map((e) => e.number)).toEqual([3, 1]);
    expect((await list('?status=valid')).items).toHaveLength(3);
    expect((await list('?status=annulled')).items).toHaveLength(0);
    // Days in Việt Nam time, from the rows' own registration times: the clock now may be past a
    // midnight (17:00 UTC) that the certifications were not.
    const vnDay = (at: number) => new Date(at + 7 * 3600_000).toISOString().slice(0, 10);
    const times = made.map((m) => Date.parse((svc.db.db.prepare('SELECT registered_at AS at FROM certified_copies WHERE id = ?').get(m.copy.id) as { at: string }).at));
    const first = vnDay(Math.min(...times));
    const last = vnDay(Math.max(...times));
    expect((await list(`?from=${first}&to=${last}`)).items).toHaveLength(3);
    expect((await list(`?to=${vnDay(Math.min(...times) - 86_400_000)}`)).items).toHaveLength(0);
    expect((await list(`?code=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`)).items).toHaveLength(0);
  });

  it('paginates with a cursor, newest first, without overlap', async () => {
    const first = await list('?limit=2');
    expect(first.items.map((e) => e.number)).toEqual([3, 2]);
    expect(first.nextCursor).not.toBeNull();
    const second = await list(`?limit=2&cursor=${first.nextCursor}`);
    expect(second.items.map((e) => e.number)).toEqual([1]);
    expect(second.nextCursor).toBeNull();
  });

  it('refuses malformed filters with stable codes', async () => {
    for (const [q, status, c] of [
      ['?limit=0', 400, 'invalid-parameters'],
      ['?limit=201', 400, 'invalid-parameters'],
      ['?from=2026-02-30', 400, 'invalid-parameters'],
      ['?status=deleted', 400, 'invalid-parameters'],
      ['?requesterName=Hoa', 400, 'invalid-parameters'],
      ['?cursor=bm9wZQ', 422, 'registry-invalid-cursor'],
    ] as const) {
      const r = await get(svc, `/api/v1/certified-copies${q}`, bearer(a.key));
      expect([q, r.status, await code(r)]).toEqual([q, status, c]);
    }
  });
});

describe('POST/GET /api/v1/refusals', () => {
  it('records refusals with their ground, lists them per tenant, and keeps them append-only', async () => {
    const r1 = await post(svc, '/api/v1/refusals', bearer(a.key), { ground: 'altered', documentType: 'Sổ hộ khẩu', requesterName: 'Lê Văn Nam', caseCode: 'HS-9' });
    expect(r1.status).toBe(201);
    const refusal = (await r1.json()) as { id: string; ground: string; by: string; at: string };
    expect(refusal).toMatchObject({ ground: 'altered', documentType: 'Sổ hộ khẩu', requesterName: 'Lê Văn Nam', caseCode: 'HS-9', by: `api-key:${a.key.id}`, reason: null });
    const noReason = await post(svc, '/api/v1/refusals', bearer(a.key), { ground: 'other', documentType: 'Giấy tờ' });
    expect([noReason.status, await code(noReason)]).toEqual([400, 'invalid-parameters']);
    const badGround = await post(svc, '/api/v1/refusals', bearer(a.key), { ground: 'ugly', documentType: 'Giấy tờ' });
    expect(badGround.status).toBe(400);
    const r2 = await post(svc, '/api/v1/refusals', bearer(a.key), { ground: 'other', reason: 'Bản chính bị rách, mất chữ ký', documentType: 'Văn bằng' });
    expect(r2.status).toBe(201);

    const all = (await (await get(svc, '/api/v1/refusals', bearer(a.key))).json()) as { items: Array<{ ground: string }>; nextCursor: null };
    expect(all.items.map((x) => x.ground)).toEqual(['other', 'altered']);
    const altered = (await (await get(svc, '/api/v1/refusals?ground=altered', bearer(a.key))).json()) as { items: unknown[] };
    expect(altered.items).toHaveLength(1);
    const paged = (await (await get(svc, '/api/v1/refusals?limit=1', bearer(a.key))).json()) as { items: Array<{ ground: string }>; nextCursor: string };
    const next = (await (await get(svc, `/api/v1/refusals?limit=1&cursor=${paged.nextCursor}`, bearer(a.key))).json()) as { items: Array<{ ground: string }>; nextCursor: null };
    expect([...paged.items, ...next.items].map((x) => x.ground)).toEqual(['other', 'altered']);
    expect(next.nextCursor).toBeNull();
    expect(((await (await get(svc, '/api/v1/refusals', bearer(b.key))).json()) as { items: unknown[] }).items).toEqual([]);

    expect(() => svc.db.db.prepare("UPDATE refusals SET ground = 'illegible' WHERE id = ?").run(refusal.id)).toThrow(/append-only/);
    expect(() => svc.db.db.prepare('DELETE FROM refusals WHERE id = ?').run(refusal.id)).toThrow(/append-only/);
  });
});

describe('durable acts through the API', () => {
  it('a refusal and its audit row are each committed with synchronous FULL; a read or a refused request switches nothing', async () => {
    const db = svc.db.db;
    const switched: string[] = [];
    const pragma = db.pragma.bind(db);
    const spy = vi.spyOn(db, 'pragma').mockImplementation(((source: string, options?: { simple?: boolean }) => {
      if (/^synchronous\s*=/.test(source)) switched.push(source.replace(/\s+/g, ' '));
      return pragma(source, options);
    }) as typeof db.pragma);
    try {
      const made = await post(svc, '/api/v1/refusals', bearer(a.key), { ground: 'illegible', documentType: 'Giấy khai sinh' });
      expect(made.status).toBe(201);
      // The act (RefusalRepository) and then its audit row (auditTrail).
      expect(switched).toEqual(['synchronous = FULL', 'synchronous = 1', 'synchronous = FULL', 'synchronous = 1']);
      const { id } = (await made.json()) as { id: string };
      const row = db.prepare("SELECT outcome, object FROM audit_log WHERE action = 'refusals.create' ORDER BY id DESC LIMIT 1").get() as { outcome: string; object: string | null };
      expect(row.outcome).toBe('success');
      expect(row.object).toContain(id);
      switched.length = 0;
      expect((await get(svc, '/api/v1/refusals', bearer(a.key))).status).toBe(200);
      const refused = await post(svc, '/api/v1/refusals', bearer(a.key), { ground: 'other', documentType: 'Giấy tờ' });
      expect(refused.status).toBe(400);
      expect(switched).toEqual([]);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('Idempotency-Key', () => {
  it('a retried certification returns the same copy and takes no second number; another request with the key is refused', async () => {
    const before = copyRows();
    const first = await certify(a, { caseCode: 'HS-IDEM' }, { 'idempotency-key': 'cert-42' });
    expect(first.status).toBe(201);
    const one = (await first.json()) as CertifiedJson;
    const again = await certify(a, { caseCode: 'HS-IDEM' }, { 'idempotency-key': 'cert-42' });
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const two = (await again.json()) as CertifiedJson;
    expect(two).toEqual(one);
    expect(copyRows()).toBe(before + 1);
    const different = await certify(a, { caseCode: 'HS-OTHER' }, { 'idempotency-key': 'cert-42' });
    expect([different.status, await code(different)]).toEqual([422, 'idempotency-key-reused']);
    expect(copyRows()).toBe(before + 1);
  });
});

describe('certifier resolution and input errors (nothing recorded)', () => {
  it('answers stable codes and records nothing', async () => {
    await createOfficer(svc, 'AA', 'khong-khoa');
    await createOfficer(svc, 'AA', 'quan-tri', { role: 'admin', key: 'officer2' });
    const before = copyRows();
    const cases: Array<[Record<string, string>, number, string]> = [
      [{ certifier: '' }, 422, 'certifier-required'],
      [{ certifier: 'khong-khoa' }, 409, 'officer-has-no-signing-key'],
      [{ certifier: 'quan-tri' }, 422, 'certifier-not-found'],
      [{ certifier: 'khong-ai' }, 422, 'certifier-not-found'],
      [{ originalPages: '0' }, 400, 'invalid-parameters'],
      [{ copies: '1001' }, 400, 'invalid-parameters'],
      [{ documentType: 'x'.repeat(201) }, 400, 'invalid-parameters'],
      [{ requesterName: '' }, 400, 'invalid-parameters'],
      [{ level: 'B-B' }, 400, 'invalid-parameters'],
      [{ colour: 'đỏ' }, 400, 'invalid-parameters'],
    ];
    for (const [fields, status, c] of cases) {
      const r = await certify(a, fields);
      expect([JSON.stringify(fields), r.status, await code(r)]).toEqual([JSON.stringify(fields), status, c]);
    }
    const noFile = await post(svc, '/api/v1/certified-copies', bearer(a.key), scanForm([], { ...FIELDS, certifier: a.officer.username }));
    expect([noFile.status, await code(noFile)]).toEqual([400, 'file-missing']);
    const notAScan = await post(svc, '/api/v1/certified-copies', bearer(a.key), scanForm([new TextEncoder().encode('hello, not an image')], { ...FIELDS, certifier: a.officer.username }, 'text/plain'));
    expect(notAScan.status).toBe(422);
    expect(await code(notAScan)).toMatch(/^scan-/);
    const json = await post(svc, '/api/v1/certified-copies', bearer(a.key), { ...FIELDS });
    expect([json.status, await code(json)]).toEqual([415, 'unsupported-media-type']);
    expect(copyRows()).toBe(before);
    await scratchCleared();
  });

  it('a key without the certify scope gets 403; a key without annul cannot annul', async () => {
    const reader = await createKey(svc, 'AA', 'read-registry');
    const r = await post(svc, '/api/v1/certified-copies', bearer(reader), scanForm(scans.slice(0, 1), { ...FIELDS }));
    expect([r.status, await code(r)]).toEqual([403, 'forbidden-scope']);
    const annul = await post(svc, `/api/v1/certified-copies/${made[0]!.copy.id}/annul`, bearer(reader), { decisionNumber: '1', decisionDate: '2026-01-01', reason: 'x' });
    expect([annul.status, await code(annul)]).toEqual([403, 'forbidden-scope']);
  });
});

describe('limits', () => {
  it('too many files or pages → 413 with a clear code; nothing recorded, no scratch file left', async () => {
    const before = copyRows();
    const many = await post(svc, '/api/v1/certified-copies', bearer(a.key), scanForm(Array.from({ length: 51 }, () => scans[0]!), { ...FIELDS, certifier: a.officer.username }));
    expect([many.status, await code(many)]).toEqual([413, 'too-many-files']);

    const doc = await PDFDocument.create();
    for (let i = 0; i < 201; i++) doc.addPage([200, 200]);
    const tall = await post(svc, '/api/v1/certified-copies', bearer(a.key), scanForm([await doc.save()], { ...FIELDS, certifier: a.officer.username }, 'application/pdf'));
    expect([tall.status, await code(tall)]).toEqual([413, 'scan-too-many-pages']);
    expect(copyRows()).toBe(before);
    await scratchCleared();
  });

  it('too many bytes → 413 body-too-large, declared or streamed', async () => {
    const small = await startTestService({ API_AUTH: 'required', UPLOAD_LIMIT_BYTES: '200000' });
    try {
      const t = await tenantWorld(small, 'CC');
      const big = new Uint8Array(300_000).fill(0xff);
      const r = await fetch(`${small.url}/api/v1/certified-copies`, { method: 'POST', headers: bearer(t.key), body: scanForm([big], { ...FIELDS, certifier: t.officer.username }) });
      expect([r.status, ((await r.json()) as { code: string }).code]).toEqual([413, 'body-too-large']);
      expect(countRows(small, 'SELECT COUNT(*) AS n FROM certified_copies')).toBe(0);
    } finally {
      await small.stop();
    }
  });

  it('a scan over SCAN_LIMIT_BYTES (within the upload limit) → 413 scan-too-large from its size on disk, for certification and preview', async () => {
    const small = await startTestService({ API_AUTH: 'required', SCAN_LIMIT_BYTES: '100000' });
    try {
      const t = await tenantWorld(small, 'DD');
      const big = new Uint8Array(150_000).fill(0xff);
      for (const route of ['/api/v1/certified-copies', '/api/v1/certified-copies/preview']) {
        const r = await fetch(`${small.url}${route}`, { method: 'POST', headers: bearer(t.key), body: scanForm([big], { ...FIELDS, certifier: t.officer.username }) });
        const body = (await r.json()) as { code: string; bytes: number; limit: number };
        expect([r.status, body.code, body.bytes, body.limit], route).toEqual([413, 'scan-too-large', 150_000, 100_000]);
      }
      expect(countRows(small, 'SELECT COUNT(*) AS n FROM certified_copies')).toBe(0);
    } finally {
      await small.stop();
    }
  });
});

describe('a signature that fails', () => {
  it('voids the reserved number with its reason; the next copy takes the next number', async () => {
    await cli(svc, ['tenant', 'allow-key', '--tenant', 'AA', '--key', 'officer-revoked']);
    await createOfficer(svc, 'AA', 'bi-thu-hoi', { key: 'officer-revoked' });
    const r = await certify(a, { certifier: 'bi-thu-hoi' });
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(await code(r)).toBe('certificate-revoked');
    const voided = (await (await get(svc, '/api/v1/certified-copies?status=void', bearer(a.key))).json()) as ListJson;
    expect(voided.items).toHaveLength(1);
    expect(voided.items[0]!.void?.reason).toMatch(/^certification failed/);
    const next = await certify(a);
    expect(((await next.json()) as CertifiedJson).copy.number).toBe(voided.items[0]!.number + 1);
    const pdf = await get(svc, `/api/v1/certified-copies/${voided.items[0]!.id}/pdf`, bearer(a.key));
    expect([pdf.status, await code(pdf)]).toEqual([409, 'copy-not-issued']);
  });
});

describe('POST /api/v1/certified-copies/preview', () => {
  it('returns every page as a PNG with the sample stamp on the last one, and records nothing', async () => {
    const before = copyRows();
    const r = await post(svc, '/api/v1/certified-copies/preview', bearer(a.key), scanForm(scans, { certifier: a.officer.username }));
    expect(r.status, await r.clone().text()).toBe(200);
    const p = (await r.json()) as { pageCount: number; pages: Array<{ page: number; width: number; height: number; image: string }>; stamp: { page: number; rect: number[] } };
    expect(p.pageCount).toBe(3);
    expect(p.pages.map((x) => x.page)).toEqual([1, 2, 3]);
    expect(p.stamp.page).toBe(3);
    const [x1, y1, x2, y2] = p.stamp.rect as [number, number, number, number];
    // The scan pages are 1170 px at 100 dpi = 842.4 pt tall; every page gets a footer band, the last one the whole stamp.
    expect([x1, y1]).toEqual([0, 0]);
    expect(x2).toBeCloseTo(p.pages[2]!.width, 1);
    expect(p.pages[2]!.height - y2).toBeCloseTo(842.4, 1);
    expect(y2).toBeGreaterThan(150);
    expect(p.pages[0]!.height).toBeLessThan(p.pages[2]!.height);
    for (const pg of p.pages) {
      const png = Buffer.from(pg.image.replace(/^data:image\/png;base64,/, ''), 'base64');
      expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
      // IHDR: width and height in pixels at 40 dpi.
      expect(png.readUInt32BE(16)).toBe(Math.ceil((pg.width / 72) * 40));
      expect(Math.abs(png.readUInt32BE(20) - Math.round((pg.height / 72) * 40))).toBeLessThanOrEqual(1);
    }
    expect(copyRows()).toBe(before);
    await scratchCleared();
  });
});
