import { scryptSync } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InputError } from '../../src/errors.ts';
import { AccessCodePool, ApiKeyRepository, OfficerRepository, PUBLIC_CODE_LENGTH, RefusalRepository, RegistryError, prepareAccessCode, type CopyRecord, type RegisterEntry } from '../../src/registry/index.ts';
import { sampleCompletion, sampleCopy } from './fixtures/sampleCopy.ts';
import { tempRegistry, type TempRegistry } from './fixtures/tempRegistry.ts';

let r: TempRegistry;
beforeEach(() => {
  r = tempRegistry();
});
afterEach(() => r.dispose());

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
  return undefined;
}

const numbersOf = (items: RegisterEntry[]): number[] => items.map((e) => e.number).sort((a, b) => a - b);
const lastNumber = (): number =>
  (r.opened.db.prepare('SELECT COALESCE(MAX(last_number), 0) AS n FROM register_volumes').get() as { n: number }).n;
const copyRows = (): number => (r.opened.db.prepare('SELECT COUNT(*) AS n FROM certified_copies').get() as { n: number }).n;

describe('issuing certified copies', () => {
  it('allocates 1..N in the auto-opened volume of the year and stores the entry as given', () => {
    const issued = [1, 2, 3].map((n) => r.copies.issueCopy(sampleCopy(r.tenant.id, n)));
    expect(issued.map((c) => c.number)).toEqual([1, 2, 3]);
    expect(issued.every((c) => c.volumeLabel === '01/2026' && c.registerSuffix === '-SCT/BS' && c.status === 'valid')).toBe(true);
    const stored = r.copies.getCopy(r.tenant.id, issued[1]!.id) as CopyRecord;
    const { actor: _actor, ...expected } = sampleCompletion(2);
    // Certificate serials are stored in lower-case hex.
    expect(stored).toMatchObject({
      ...expected,
      signerCertificate: { ...expected.signerCertificate, serial: '1a2b3c' },
      agencyCertificate: { ...expected.agencyCertificate!, serial: '0f' },
      annulment: null,
    });
    expect(stored).not.toHaveProperty('accessCode');
    const volume = r.copies.volumes.currentVolume(r.tenant.id, 2026);
    expect(volume).toMatchObject({ label: '01/2026', firstNumber: 1, lastNumber: 3, closedAt: null });
  });

  it('keeps tenants apart: numbering, getCopy and listCopies are per tenant', () => {
    const other = r.tenants.create({ code: 'tan-phu', name: 'UBND xã Tân Phú', registerSuffix: '-SCTĐT/BS' });
    const a = r.copies.issueCopy(sampleCopy(r.tenant.id, 1));
    const b = r.copies.issueCopy(sampleCopy(other.id, 1));
    expect([a.number, b.number]).toEqual([1, 1]);
    expect(b.registerSuffix).toBe('-SCTĐT/BS');
    expect(r.copies.getCopy(other.id, a.id)).toBeNull();
    expect(r.copies.listCopies(other.id).items.map((e) => e.id)).toEqual([b.id]);
  });

  it('a transaction that throws after the allocation leaves no record and consumes no number', () => {
    r.copies.issueCopy(sampleCopy(r.tenant.id, 1));
    // Failure inside issueCopy itself, after the number was taken and the row inserted: the event insert fails.
    r.opened.db.exec(`CREATE TEMP TRIGGER fail_event BEFORE INSERT ON main.copy_events BEGIN SELECT RAISE(ABORT, 'disk full'); END`);
    expect(() => r.copies.issueCopy(sampleCopy(r.tenant.id, 2))).toThrow(/disk full/);
    r.opened.db.exec('DROP TRIGGER temp.fail_event');
    // Failure in a caller's enclosing transaction after issueCopy returned.
    expect(() =>
      r.opened.db.transaction(() => {
        r.copies.issueCopy(sampleCopy(r.tenant.id, 3));
        throw new Error('file store write failed');
      })(),
    ).toThrow('file store write failed');
    expect(copyRows()).toBe(1);
    expect(lastNumber()).toBe(1);
    expect(r.copies.issueCopy(sampleCopy(r.tenant.id, 4)).number).toBe(2);
    expect(r.copies.verifyChain()).toMatchObject({ ok: true, checked: 2 });
  });

  it('rejects malformed entries and unknown tenants before writing', () => {
    expect(() => r.copies.issueCopy({ ...sampleCopy(r.tenant.id, 1), pdfSha256: 'ABC' })).toThrow(InputError);
    expect(() => r.copies.issueCopy({ ...sampleCopy(r.tenant.id, 1), originalPages: 0 })).toThrow(InputError);
    expect(() => r.copies.issueCopy({ ...sampleCopy(r.tenant.id, 1), requesterName: '  ' })).toThrow(InputError);
    expect(codeOf(() => r.copies.issueCopy(sampleCopy('no-such-tenant', 1)))).toBe('tenant-not-found');
    expect(copyRows()).toBe(0);
  });
});

describe('reservations (number printed on the stamp before signing)', () => {
  it('complete / void / expire keep the sequence gap-free, with voided numbers visible and explained', () => {
    const first = r.copies.reserveNumber(r.tenant.id, 2026, 60_000);
    const second = r.copies.reserveNumber(r.tenant.id, 2026, 60_000);
    const third = r.copies.reserveNumber(r.tenant.id, 2026, 60_000);
    expect([first.number, second.number, third.number]).toEqual([1, 2, 3]);
    expect(first.publicCode).not.toBe(second.publicCode);
    expect(r.copies.findByPublicCode(first.publicCode)).toBeNull(); // not issued yet

    const done = r.copies.completeCopy(first.id, sampleCompletion(1));
    expect(done).toMatchObject({ id: first.id, number: 1, status: 'valid', publicCode: first.publicCode });
    expect(r.copies.verifyAccessCode(first.publicCode, first.accessCode)).toBe(true);

    r.copies.voidReservation(second.id, 'HSM refused to sign', { actor: 'officer1' });
    r.clock = new Date(r.clock.getTime() + 61_000);
    const fourth = r.copies.issueCopy(sampleCopy(r.tenant.id, 4));
    expect(fourth.number).toBe(4);
    const swept = r.copies.voidExpiredReservations(r.clock);
    expect(swept.map((e) => e.number)).toEqual([3]);
    expect(r.copies.voidExpiredReservations(r.clock)).toEqual([]);

    const all = r.copies.listCopies(r.tenant.id).items;
    expect(numbersOf(all)).toEqual([1, 2, 3, 4]);
    expect(all.map((e) => [e.number, e.status])).toEqual([
      [4, 'valid'],
      [3, 'voided'],
      [2, 'voided'],
      [1, 'valid'],
    ]);
    const voided = all.filter((e) => e.status === 'voided');
    expect(voided.map((e) => (e.status === 'voided' ? [e.voidReason, e.voidedBy] : null))).toEqual([
      ['reservation expired before the copy was signed', 'system'],
      ['HSM refused to sign', 'officer1'],
    ]);
    // A voided number is never completed, reused, or shown publicly.
    expect(codeOf(() => r.copies.completeCopy(second.id, sampleCompletion(2)))).toBe('reservation-not-open');
    expect(codeOf(() => r.copies.voidReservation(first.id, 'again'))).toBe('reservation-not-open');
    expect(r.copies.findByPublicCode(second.publicCode)).toBeNull();
    expect(r.copies.verifyAccessCode(second.publicCode, second.accessCode)).toBe(false);
    expect(r.copies.verifyChain()).toMatchObject({ ok: true, checked: 4, entries: 4 });
  });

  it('refuses completing an expired reservation and a certification date outside the reserved year', () => {
    const res = r.copies.reserveNumber(r.tenant.id, 2026, 5_000);
    expect(codeOf(() => r.copies.completeCopy(res.id, sampleCompletion(1, new Date('2027-02-01T03:00:00Z'))))).toBe('registry-year-mismatch');
    r.clock = new Date(r.clock.getTime() + 6_000);
    expect(codeOf(() => r.copies.completeCopy(res.id, sampleCompletion(1)))).toBe('reservation-expired');
    expect(r.copies.getCopy(r.tenant.id, res.id)?.status).toBe('reserved');
    expect(codeOf(() => r.copies.completeCopy('missing', sampleCompletion(1)))).toBe('reservation-not-found');
  });
});

describe('register volumes', () => {
  it('closing stores the totals and refuses further numbers in that year', () => {
    r.copies.issueCopy(sampleCopy(r.tenant.id, 1));
    const res = r.copies.reserveNumber(r.tenant.id, 2026, 60_000);
    const volume = r.copies.volumes.currentVolume(r.tenant.id, 2026);
    expect(codeOf(() => r.copies.volumes.closeVolume(volume.id, new Date('2026-12-31T16:59:00Z')))).toBe('volume-has-reservations');
    r.copies.voidReservation(res.id, 'abandoned');
    r.copies.issueCopy(sampleCopy(r.tenant.id, 3));
    const closed = r.copies.volumes.closeVolume(volume.id, new Date('2026-12-31T16:59:00Z'));
    expect(closed).toMatchObject({ totalCertified: 2, totalVoided: 1, lastNumber: 3, closedAt: new Date('2026-12-31T16:59:00Z') });
    expect(codeOf(() => r.copies.issueCopy(sampleCopy(r.tenant.id, 4)))).toBe('volume-closed');
    expect(codeOf(() => r.copies.reserveNumber(r.tenant.id, 2026, 60_000))).toBe('volume-closed');
    expect(codeOf(() => r.copies.volumes.closeVolume(volume.id))).toBe('volume-closed');
    // Even bypassing the repository, the schema refuses an entry in a closed volume and a change to it.
    expect(() =>
      r.opened.db
        .prepare(
          `INSERT INTO certified_copies (id, tenant_id, volume_id, year, number, status, public_code, access_code_hash, registered_at, reservation_expires_at)
           VALUES ('x', ?, ?, 2026, 4, 'reserved', 'X', 'h', 't', 't')`,
        )
        .run(r.tenant.id, volume.id),
    ).toThrow(/closed/);
    expect(() => r.opened.db.prepare('UPDATE register_volumes SET last_number = 9 WHERE id = ?').run(volume.id)).toThrow(/closed/);
    expect(copyRows()).toBe(3);
    expect(r.copies.verifyChain().ok).toBe(true);
  });

  it('a new year opens a new volume starting at 1, by the Vietnamese calendar date', () => {
    r.copies.issueCopy(sampleCopy(r.tenant.id, 1));
    r.copies.issueCopy(sampleCopy(r.tenant.id, 2));
    // 2026-12-31T17:30Z is 00:30 on 1 January 2027 in Vietnam (UTC+7).
    const next = r.copies.issueCopy(sampleCopy(r.tenant.id, 3, new Date('2026-12-31T17:30:00Z')));
    expect(next).toMatchObject({ year: 2027, number: 1, volumeLabel: '01/2027' });
    const late = r.copies.issueCopy(sampleCopy(r.tenant.id, 4, new Date('2026-12-31T16:30:00Z')));
    expect(late).toMatchObject({ year: 2026, number: 3, volumeLabel: '01/2026' });
    expect(r.copies.volumes.listVolumes(r.tenant.id).map((v) => [v.label, v.firstNumber, v.lastNumber])).toEqual([
      ['01/2026', 1, 3],
      ['01/2027', 1, 1],
    ]);
  });

  it('an explicitly opened second volume of a year continues the year sequence; only one is open at a time', () => {
    r.copies.issueCopy(sampleCopy(r.tenant.id, 1));
    const first = r.copies.volumes.currentVolume(r.tenant.id, 2026);
    expect(codeOf(() => r.copies.volumes.openVolume(r.tenant.id, 2026))).toBe('volume-already-open');
    r.copies.volumes.closeVolume(first.id);
    r.tenants.setRegisterSuffix(r.tenant.id, '-SCTĐT/BS');
    const second = r.copies.volumes.openVolume(r.tenant.id, 2026);
    expect(second).toMatchObject({ label: '02/2026', firstNumber: 2, registerSuffix: '-SCTĐT/BS' });
    expect(r.copies.issueCopy(sampleCopy(r.tenant.id, 2))).toMatchObject({ number: 2, volumeLabel: '02/2026' });
    expect(r.copies.volumes.getVolume(first.id)?.registerSuffix).toBe('-SCT/BS');
    expect(r.copies.verifyChain().ok).toBe(true);
  });
});

describe('annulment', () => {
  it('annuls with the decision, once, and the public page shows it', () => {
    const c = r.copies.issueCopy(sampleCopy(r.tenant.id, 1));
    const decision = { decisionNumber: '15/QĐ-UBND', decisionDate: '2026-04-02', reason: 'Bản chính đã bị tẩy xóa', actor: 'chairman' };
    expect(codeOf(() => r.copies.annulCopy(c.id, { ...decision, tenantId: 'someone-else' }))).toBe('copy-not-found');
    expect(codeOf(() => r.copies.annulCopy(c.id, { ...decision, decisionDate: '2026-02-30' }))).toBe('registry-invalid-input');
    const annulled = r.copies.annulCopy(c.id, { ...decision, tenantId: r.tenant.id });
    expect(annulled.status).toBe('annulled');
    expect(annulled.annulment).toEqual({ ...decision, at: r.clock });
    expect(annulled.requesterName).toBe(c.requesterName);
    expect(codeOf(() => r.copies.annulCopy(c.id, decision))).toBe('copy-already-annulled');
    expect(r.copies.findByPublicCode(c.publicCode)).toMatchObject({
      status: 'annulled',
      annulment: { decisionNumber: '15/QĐ-UBND', decisionDate: '2026-04-02', reason: 'Bản chính đã bị tẩy xóa' },
    });
    const events = r.opened.db.prepare('SELECT type, actor FROM copy_events WHERE copy_id = ? ORDER BY id').all(c.id);
    expect(events).toEqual([
      { type: 'issued', actor: 'officer1' },
      { type: 'annulled', actor: 'chairman' },
    ]);
    const res = r.copies.reserveNumber(r.tenant.id, 2026, 60_000);
    expect(codeOf(() => r.copies.annulCopy(res.id, decision))).toBe('copy-not-issued');
    expect(r.copies.verifyChain().ok).toBe(true);
  });
});

describe('durability of register acts', () => {
  it('commits an issued copy, a completion, an annulment, a refusal, a year closing and access revocations with synchronous FULL; reservations and voids at NORMAL', async () => {
    // What each write ran at: the connection's setting is switched around the act and read back here.
    const db = r.opened.db;
    const switched: string[] = [];
    const pragma = db.pragma.bind(db);
    vi.spyOn(db, 'pragma').mockImplementation(((source: string, options?: { simple?: boolean }) => {
      if (/^synchronous\s*=/.test(source)) switched.push(source.replace(/\s+/g, ' '));
      return pragma(source, options);
    }) as typeof db.pragma);
    const acts: Array<[string, () => unknown, boolean]> = [];
    const issued = () => r.copies.issueCopy(sampleCopy(r.tenant.id, 1));
    const c = issued();
    acts.push(['issue', issued, true]);
    const res = r.copies.reserveNumber(r.tenant.id, 2026, 60_000);
    const res2 = r.copies.reserveNumber(r.tenant.id, 2026, 60_000);
    acts.push(
      ['reserve', () => r.copies.reserveNumber(r.tenant.id, 2026, 60_000), false],
      ['complete', () => r.copies.completeCopy(res.id, sampleCompletion(2)), true],
      ['void', () => r.copies.voidReservation(res2.id, 'test'), false],
      ['annul', () => r.copies.annulCopy(c.id, { decisionNumber: '1/QĐ', decisionDate: '2026-04-02', reason: 'thử', actor: 'chairman', tenantId: r.tenant.id }), true],
    );
    for (const [name, act, durable] of acts) {
      switched.length = 0;
      act();
      expect({ name, switched }).toEqual({ name, switched: durable ? ['synchronous = FULL', 'synchronous = 1'] : [] });
    }
    // The open reservation is voided first (closing refuses pending numbers), then the year closes.
    for (const e of r.copies.listCopies(r.tenant.id, { status: 'reserved' }).items) r.copies.voidReservation(e.id, 'test');
    switched.length = 0;
    r.copies.volumes.closeYear(r.tenant.id, 2026);
    expect(switched).toEqual(['synchronous = FULL', 'synchronous = 1']);
    const keys = new ApiKeyRepository(db, () => r.clock);
    const { key } = keys.create({ tenantId: r.tenant.id, name: 'k', scopes: ['sign'], createdBy: 'admin' });
    switched.length = 0;
    keys.revoke(key.id, 'admin');
    expect(switched).toEqual(['synchronous = FULL', 'synchronous = 1']);
    const officers = new OfficerRepository(db, () => r.clock);
    const o = await officers.create({ tenantId: r.tenant.id, username: 'canbo', displayName: 'Cán bộ', title: 'Công chức', role: 'officer', password: 'a-long-password', createdBy: 'admin' });
    switched.length = 0;
    await officers.setPassword(o.id, 'another-long-password');
    officers.disable(o.id);
    expect(switched).toEqual(['synchronous = FULL', 'synchronous = 1', 'synchronous = FULL', 'synchronous = 1']);
    switched.length = 0;
    new RefusalRepository(db, () => r.clock).record({ tenantId: r.tenant.id, ground: 'other', reason: 'thử', documentType: 'Giấy khai sinh', actor: 'officer:canbo' });
    expect(switched).toEqual(['synchronous = FULL', 'synchronous = 1']);
    expect(db.pragma('synchronous', { simple: true })).toBe(1);
  });
});

describe('public codes and lookups', () => {
  it('public codes are 160-bit base32, unique, and enforced unique by the schema', () => {
    const codes = Array.from({ length: 40 }, (_, i) => r.copies.issueCopy(sampleCopy(r.tenant.id, i)).publicCode);
    for (const code of codes) {
      expect(code).toHaveLength(PUBLIC_CODE_LENGTH);
      expect(code).toMatch(/^[A-Z2-7]{32}$/); // 32 × 5 bits = 160 bits >= 128
    }
    expect(new Set(codes).size).toBe(codes.length);
    expect(() =>
      r.opened.db.exec(
        `INSERT INTO certified_copies (id, tenant_id, volume_id, year, number, status, public_code, access_code_hash, registered_at, reservation_expires_at)
         SELECT 'dup', tenant_id, volume_id, year, 999, 'reserved', public_code, access_code_hash, registered_at, registered_at
         FROM certified_copies LIMIT 1`,
      ),
    ).toThrow(/UNIQUE constraint failed: certified_copies\.public_code/);
  });

  it('the public view carries no requester name nor other personal or internal data', () => {
    const c = r.copies.issueCopy({ ...sampleCopy(r.tenant.id, 7), notes: 'CCCD 079201001234' });
    const view = r.copies.findByPublicCode(c.publicCode.toLowerCase());
    expect(view).not.toBeNull();
    expect(Object.keys(view!).sort()).toEqual(
      [
        'agency', 'agencyCertificate', 'annulment', 'certifiedAt', 'certifierName', 'certifierTitle', 'documentType',
        'number', 'originalPages', 'pdfSha256', 'signerCertificate', 'status', 'timestampAt', 'volume',
      ].sort(),
    );
    expect(view).toMatchObject({ status: 'valid', number: 1, volume: '01/2026-SCT/BS', agency: 'UBND phường Bến Thành', pdfSha256: c.pdfSha256 });
    const json = JSON.stringify(view);
    for (const secret of [c.requesterName, c.documentName, c.caseCode!, c.fileKey, 'CCCD', c.receivingSite!]) expect(json).not.toContain(secret);
    expect(r.copies.findByPublicCode('A'.repeat(32))).toBeNull();
    expect(r.copies.findByPublicCode('not a code')).toBeNull();
  });

  it('writes the public view as JSON from the row exactly as JSON.stringify of the view (valid, annulled, with and without optional parts)', () => {
    const plain = r.copies.issueCopy({ ...sampleCopy(r.tenant.id, 1), agencyCertificate: null, timestampAt: null });
    const full = r.copies.issueCopy({
      ...sampleCopy(r.tenant.id, 2),
      agencyCertificate: { issuer: 'CN=Dev Issuing CA, O=Bộ "Nội vụ"', serial: '0a1b', subject: 'CN=Ủy ban nhân dân <phường>' },
      timestampAt: new Date('2026-03-05T02:12:00.5Z'),
    });
    r.copies.annulCopy(full.id, { decisionNumber: '15/QĐ-UBND', decisionDate: '2026-04-02', reason: 'Bản chính "giả"\n', actor: 'chairman', tenantId: r.tenant.id });
    for (const c of [plain, full]) {
      const found = r.copies.findPublic(c.publicCode)!;
      expect(found.viewJson()).toBe(JSON.stringify(found.view));
    }
    expect(JSON.parse(r.copies.findPublic(full.publicCode)!.viewJson())).toMatchObject({ status: 'annulled', timestampAt: '2026-03-05T02:12:00.500Z' });
  });

  it('checks the access code (second factor) against its scrypt hash only', () => {
    const c = r.copies.issueCopy(sampleCopy(r.tenant.id, 1));
    // 12 Crockford symbols (60 bits) in three groups of four.
    expect(c.accessCode).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
    const stored = r.opened.db.prepare('SELECT access_code_hash AS h FROM certified_copies WHERE id = ?').get(c.id) as { h: string };
    expect(stored.h).toMatch(/^scrypt\$4096\$8\$1\$/);
    expect(stored.h).not.toContain(c.accessCode.replaceAll('-', ''));
    expect(r.copies.verifyAccessCode(c.publicCode, c.accessCode)).toBe(true);
    expect(r.copies.verifyAccessCode(c.publicCode, c.accessCode.toLowerCase().replaceAll('-', ' '))).toBe(true);
    const wrong = c.accessCode.startsWith('Z') ? `Y${c.accessCode.slice(1)}` : `Z${c.accessCode.slice(1)}`;
    expect(r.copies.verifyAccessCode(c.publicCode, wrong)).toBe(false);
    expect(r.copies.verifyAccessCode('A'.repeat(32), c.accessCode)).toBe(false);
    expect(r.copies.getByPublicCode(c.publicCode)?.requesterName).toBe(c.requesterName);
  });

  it('still accepts an access code printed in the earlier form (10 symbols, scrypt N = 2^14): the stored hash names its parameters', () => {
    const salt = Buffer.from('0123456789abcdef');
    const key = scryptSync('AB3CD0F71H', salt, 32, { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
    const earlier = { plain: 'AB3CD-0F71H', hash: `scrypt$16384$8$1$${salt.toString('base64url')}$${key.toString('base64url')}` };
    const c = r.copies.issueCopy({ ...sampleCopy(r.tenant.id, 1), accessCode: earlier });
    expect(r.copies.verifyAccessCode(c.publicCode, 'ab3cd-of7ih')).toBe(true); // Crockford: O is 0, I and L are 1
    expect(r.copies.verifyAccessCode(c.publicCode, 'AB3CD-0F71J')).toBe(false);
  });

  it('accepts an access code hashed off the event loop before the write', async () => {
    const prepared = await prepareAccessCode();
    const c = r.copies.issueCopy({ ...sampleCopy(r.tenant.id, 1), accessCode: prepared });
    expect(c.accessCode).toBe(prepared.plain);
    expect(r.copies.verifyAccessCode(c.publicCode, prepared.plain)).toBe(true);
    const res = r.copies.reserveNumber(r.tenant.id, 2026, 60_000, { accessCode: await prepareAccessCode() });
    r.copies.completeCopy(res.id, sampleCompletion(2));
    expect(r.copies.verifyAccessCode(res.publicCode, res.accessCode)).toBe(true);
    expect(r.copies.verifyAccessCode(res.publicCode, prepared.plain)).toBe(false);
  });

  it('hands out access codes hashed ahead of need, each once, keeping the pool full and reporting a failed hash', async () => {
    let started = 0;
    let failNext = false;
    const pool = new AccessCodePool(2, () => {
      started++;
      if (failNext) {
        failNext = false;
        return Promise.reject(new Error('scrypt failed'));
      }
      return prepareAccessCode();
    });
    const first = await pool.take();
    expect(started).toBe(3); // the one taken and two ahead
    const taken = [first, await pool.take(), await pool.take()];
    expect(started).toBe(5); // one replacement per take
    expect(new Set(taken.map((c) => c.plain)).size).toBe(3);
    for (const c of taken) {
      const res = r.copies.reserveNumber(r.tenant.id, 2026, 60_000, { accessCode: c });
      r.copies.completeCopy(res.id, sampleCompletion(2));
      expect(res.accessCode).toBe(c.plain);
      expect(r.copies.verifyAccessCode(res.publicCode, c.plain)).toBe(true);
    }
    // The codes ahead were started before this failure: the failing one is the next replacement, taken third from now.
    failNext = true;
    await pool.take();
    await pool.take();
    await expect(pool.take()).rejects.toThrow('scrypt failed');
    expect((await pool.take()).plain).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
  });

  it('lists the tenant register newest first with keyset pages and register filters', () => {
    for (let i = 1; i <= 7; i += 1) {
      r.clock = new Date(Date.UTC(2026, 2, 10 + i));
      r.copies.issueCopy(sampleCopy(r.tenant.id, i));
    }
    const seen: number[] = [];
    let cursor: string | undefined;
    do {
      const page = r.copies.listCopies(r.tenant.id, { limit: 3, ...(cursor ? { cursor } : {}) });
      seen.push(...page.items.map((e) => e.number));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual([7, 6, 5, 4, 3, 2, 1]);
    expect(r.copies.listCopies(r.tenant.id, { number: 4 }).items.map((e) => e.number)).toEqual([4]);
    const ranged = r.copies.listCopies(r.tenant.id, { from: new Date(Date.UTC(2026, 2, 13)), to: new Date(Date.UTC(2026, 2, 15)) });
    expect(ranged.items.map((e) => e.number)).toEqual([4, 3]);
    expect(r.copies.listCopies(r.tenant.id, { status: 'annulled' }).items).toEqual([]);
    expect(codeOf(() => r.copies.listCopies(r.tenant.id, { cursor: 'garbage' }))).toBe('registry-invalid-cursor');
    expect(() => r.copies.listCopies(r.tenant.id, { limit: 501 })).toThrow(RegistryError);
  });
});
