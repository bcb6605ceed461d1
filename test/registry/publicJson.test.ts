/**
 * The public lookup's JSON made by SQLite (findPublicJson, SELECT_PUBLIC_JSON) against the view as
 * JavaScript writes it (JSON.stringify of findPublic's view): byte for byte, for every shape a
 * register row can take.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sampleCopy } from './fixtures/sampleCopy.ts';
import { tempRegistry, type TempRegistry } from './fixtures/tempRegistry.ts';

let r: TempRegistry;
beforeEach(() => {
  r = tempRegistry();
});
afterEach(() => r.dispose());

/** Both JSONs as bytes (a string comparison would hide invalid UTF-8: decoding repairs it). */
function bothWays(code: string): { sql: Buffer; js: Buffer } {
  const found = r.copies.findPublicJson(code);
  const view = r.copies.findPublic(code);
  expect(found).not.toBeNull();
  expect(found!.status).toBe(view!.view.status);
  expect(found!.pdfSha256).toBe(view!.view.pdfSha256);
  expect(found!.fileKey).toBe(view!.fileKey);
  expect(found!.publicCode).toBe(view!.publicCode);
  return { sql: found!.json, js: Buffer.from(JSON.stringify(view!.view)) };
}
const parsed = (b: Buffer): unknown => JSON.parse(b.toString('utf8'));

describe('findPublicJson', () => {
  it('writes the same bytes as JSON.stringify(view) for a valid copy with both certificates', () => {
    const c = r.copies.issueCopy(sampleCopy(r.tenant.id, 1));
    const { sql, js } = bothWays(c.publicCode);
    expect(sql.equals(js)).toBe(true);
    expect(parsed(sql)).toMatchObject({ status: 'valid', volume: '01/2026-SCT/BS', agency: 'UBND phường Bến Thành', annulment: null });
  });

  it('… without an agency certificate or timestamp, with text JSON must escape, and in volume 100', () => {
    const tricky = 'Trần "Văn" \\ Bình\n\t\u0001\u001f\u007f\u2028 😀 </script>';
    const c = r.copies.issueCopy({ ...sampleCopy(r.tenant.id, 2), agencyCertificate: null, timestampAt: null, certifierName: tricky, documentType: tricky });
    // Rows the register's triggers would not let the service write: a hundredth volume.
    r.opened.db.exec('DROP TRIGGER register_volumes_forward_only; DROP TRIGGER register_volumes_closed_frozen');
    r.opened.db.prepare('UPDATE register_volumes SET seq = 100').run();
    r.opened.db.prepare('UPDATE tenants SET name = ?').run(tricky);
    const { sql, js } = bothWays(c.publicCode);
    expect(sql.equals(js)).toBe(true);
    expect(parsed(sql)).toMatchObject({ certifierName: tricky, agency: tricky, agencyCertificate: null, timestampAt: null, volume: '100/2026-SCT/BS' });
  });

  it('… for an annulled copy (the decision is public)', () => {
    const c = r.copies.issueCopy(sampleCopy(r.tenant.id, 3));
    r.copies.annulCopy(c.id, { decisionNumber: '12/QĐ-UBND', decisionDate: '2026-03-11', reason: 'Cấp nhầm "bản sao"', actor: 'supervisor' });
    const { sql, js } = bothWays(c.publicCode);
    expect(sql.equals(js)).toBe(true);
    expect(parsed(sql)).toMatchObject({ status: 'annulled', annulment: { decisionNumber: '12/QĐ-UBND', decisionDate: '2026-03-11', reason: 'Cấp nhầm "bản sao"' } });
  });

  it('… when a client stored a lone surrogate (its bytes are not UTF-8): valid UTF-8, U+FFFD as the view shows it', () => {
    const c = r.copies.issueCopy(sampleCopy(r.tenant.id, 6));
    r.copies.annulCopy(c.id, { decisionNumber: '13/QĐ', decisionDate: '2026-03-11', reason: 'x\ud800y', actor: 'supervisor' });
    const { sql, js } = bothWays(c.publicCode);
    expect(sql.equals(js)).toBe(true);
    expect(() => new TextDecoder('utf-8', { fatal: true }).decode(sql)).not.toThrow();
    expect((parsed(sql) as { annulment: { reason: string } }).annulment.reason).toMatch(/^x\ufffd+y$/);
  });

  it('… when a stored instant is not in toJSON form (normalised as the view does)', () => {
    const c = r.copies.issueCopy(sampleCopy(r.tenant.id, 4));
    // An instant from outside the service (e.g. an import), past the register's triggers.
    r.opened.db.exec('DROP TRIGGER certified_copies_identity_frozen; DROP TRIGGER certified_copies_status_flow; DROP TRIGGER certified_copies_annulment_keeps_entry');
    r.opened.db.prepare("UPDATE certified_copies SET certified_at = '2026-03-10 03:00:00+07:00', timestamp_at = '2026-03-10T03:00:01Z'").run();
    const { sql, js } = bothWays(c.publicCode);
    expect(sql.equals(js)).toBe(true);
    expect(parsed(sql)).toMatchObject({ certifiedAt: '2026-03-09T20:00:00.000Z', timestampAt: '2026-03-10T03:00:01.000Z' });
  });

  it('finds nothing for unknown, malformed or never-issued codes, and accepts codes as findPublic does', () => {
    const c = r.copies.issueCopy(sampleCopy(r.tenant.id, 5));
    const reserved = r.copies.reserveNumber(r.tenant.id, 2026, 60_000);
    expect(r.copies.findPublicJson(reserved.publicCode)).toBeNull();
    expect(r.copies.findPublicJson('not a code')).toBeNull();
    expect(r.copies.findPublicJson(`ABCDEFGHIJKLMNOPQRSTUVWXYZ`)).toBeNull();
    expect(r.copies.findPublicJson(` ${c.publicCode.toLowerCase()} `)?.publicCode).toBe(c.publicCode);
  });
});
