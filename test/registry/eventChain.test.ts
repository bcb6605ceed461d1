import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../src/registry/index.ts';
import { sampleCopy } from './fixtures/sampleCopy.ts';
import { tempRegistry, type TempRegistry } from './fixtures/tempRegistry.ts';

let r: TempRegistry;
beforeEach(() => {
  r = tempRegistry();
  // A small history: 3 issued, 1 annulled, 1 voided reservation.
  const ids = [1, 2, 3].map((n) => r.copies.issueCopy(sampleCopy(r.tenant.id, n)).id);
  r.copies.annulCopy(ids[1]!, { decisionNumber: '3/QĐ-UBND', decisionDate: '2026-03-11', reason: 'nhầm', actor: 'chairman' });
  r.copies.voidReservation(r.copies.reserveNumber(r.tenant.id, 2026, 60_000).id, 'signing failed');
});
afterEach(() => r.dispose());

type EventRow = { id: number; copy_id: string; type: string; actor: string; payload: string; prev_hash: string; hash: string };
const events = (): EventRow[] => r.opened.db.prepare('SELECT * FROM copy_events ORDER BY id').all() as EventRow[];

describe('the event chain', () => {
  it('links every event to the previous one and verifies', () => {
    const all = events();
    expect(all.map((e) => e.type)).toEqual(['issued', 'issued', 'issued', 'annulled', 'voided']);
    expect(all[0]!.prev_hash).toBe('0'.repeat(64));
    for (let i = 1; i < all.length; i += 1) expect(all[i]!.prev_hash).toBe(all[i - 1]!.hash);
    expect(JSON.parse(all[0]!.payload)).toMatchObject({ number: 1, year: 2026 });
    expect(all[0]!.payload).not.toContain('Nguyễn'); // only a digest of the entry, no personal data
    const report = r.copies.verifyChain();
    expect(report).toEqual({ ok: true, checked: 5, entries: 4, head: { id: 5, hash: all[4]!.hash } });
    expect(r.copies.chainHead()).toEqual({ id: 5, hash: all[4]!.hash });
  });

  it('triggers forbid UPDATE and DELETE on events, DELETE on copies and rewriting an entry', () => {
    const db = r.opened.db;
    expect(() => db.prepare("UPDATE copy_events SET actor = 'x' WHERE id = 1").run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM copy_events WHERE id = 5').run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM certified_copies').run()).toThrow(/kept permanently/);
    expect(() => db.prepare('DELETE FROM register_volumes').run()).toThrow(/kept permanently/);
    expect(() => db.prepare("UPDATE certified_copies SET requester_name = 'X' WHERE status = 'valid'").run()).toThrow(/illegal register status change|cannot rewrite/);
    expect(() => db.prepare("UPDATE certified_copies SET status = 'valid' WHERE status = 'annulled'").run()).toThrow(/illegal register status change/);
    expect(() => db.prepare("UPDATE certified_copies SET status = 'annulled', annul_decision_number = 'n', annul_decision_date = 'd', annul_reason = 'r', annulled_by = 'a', annulled_at = 't', fee_vnd = 0 WHERE number = 1").run()).toThrow(/cannot rewrite/);
    // A legal transition (reserved → voided) still may not change the number or the public code.
    r.copies.reserveNumber(r.tenant.id, 2026, 60_000);
    const voidIt = "UPDATE certified_copies SET status = 'voided', void_reason = 'r', voided_by = 'a', voided_at = 't'";
    expect(() => db.prepare(`${voidIt}, number = number + 100 WHERE status = 'reserved'`).run()).toThrow(/never change/);
    expect(() => db.prepare(`${voidIt}, public_code = 'X' WHERE status = 'reserved'`).run()).toThrow(/never change/);
    expect(r.copies.verifyChain().ok).toBe(true);
  });

  it('detects an event edited behind the triggers', () => {
    r.opened.db.exec('DROP TRIGGER copy_events_no_update');
    r.opened.db.prepare("UPDATE copy_events SET actor = 'someone-else' WHERE id = 2").run();
    expect(r.copies.verifyChain()).toMatchObject({ ok: false, checked: 1, firstBad: { kind: 'event', id: '2', reason: expect.stringMatching(/hash/) } });
  });

  it('detects an event rewritten with a recomputed hash by the broken link to the next one', () => {
    r.opened.db.exec('DROP TRIGGER copy_events_no_update');
    const e = events()[3]!;
    const payload = canonicalJson({ ...JSON.parse(e.payload), reason: 'khác' });
    const full = r.opened.db.prepare('SELECT * FROM copy_events WHERE id = ?').get(e.id) as Record<string, string | number>;
    const hash = createHash('sha256')
      .update(canonicalJson(['chungthuc/copy-event/v1', full.id!, full.tenant_id!, full.copy_id!, full.type!, full.at!, full.actor!, payload, full.prev_hash!]))
      .digest('hex');
    r.opened.db.prepare('UPDATE copy_events SET payload = ?, hash = ? WHERE id = ?').run(payload, hash, e.id);
    expect(r.copies.verifyChain()).toMatchObject({ ok: false, firstBad: { kind: 'event', id: '5', reason: expect.stringMatching(/prev_hash/) } });
  });

  it('detects a register entry edited behind the triggers', () => {
    r.opened.db.exec('DROP TRIGGER certified_copies_status_flow; DROP TRIGGER certified_copies_annulment_keeps_entry');
    r.opened.db.prepare("UPDATE certified_copies SET pdf_sha256 = ? WHERE number = 3").run('0'.repeat(64));
    const report = r.copies.verifyChain();
    expect(report.ok).toBe(false);
    expect(report.checked).toBe(5);
    expect(report.firstBad).toMatchObject({ kind: 'copy', reason: 'the register entry differs from its issued event' });
  });

  it('a chain whose newest events were cut off verifies by itself, but not against a head anchored before', () => {
    const anchor = r.copies.chainHead()!;
    expect(r.copies.verifyChain([anchor]).ok).toBe(true);
    // Behind the triggers: the last event (the voided number) and its entry go, the volume is wound back.
    r.opened.db.exec('DROP TRIGGER certified_copies_no_delete; DROP TRIGGER copy_events_no_delete; PRAGMA foreign_keys = OFF');
    for (const t of (r.opened.db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'register_volumes'").all() as Array<{ name: string }>)) {
      r.opened.db.exec(`DROP TRIGGER ${t.name}`);
    }
    r.opened.db.exec("DELETE FROM copy_events WHERE id = 5; DELETE FROM certified_copies WHERE status = 'voided'; UPDATE register_volumes SET last_number = last_number - 1");
    expect(r.copies.verifyChain()).toMatchObject({ ok: true, checked: 4 });
    expect(r.copies.verifyChain([anchor])).toMatchObject({ ok: false, firstBad: { kind: 'anchor', id: '5', reason: expect.stringMatching(/no longer in the chain/) } });
    // A head that is there but with another hash: rewritten.
    expect(r.copies.verifyChain([{ id: 4, hash: 'f'.repeat(64) }]).firstBad).toMatchObject({ kind: 'anchor', reason: expect.stringMatching(/rewritten/) });
  });

  it('an issued event records the volume (quyển số): a volume relabelled behind the triggers is detected', () => {
    expect(JSON.parse(events()[0]!.payload)).toMatchObject({ volume: expect.stringMatching(/^01\/2026/) });
    for (const t of (r.opened.db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'register_volumes'").all() as Array<{ name: string }>)) {
      r.opened.db.exec(`DROP TRIGGER ${t.name}`);
    }
    r.opened.db.exec("UPDATE register_volumes SET seq = 7");
    expect(r.copies.verifyChain().firstBad).toMatchObject({ kind: 'copy', reason: 'the volume (quyển số) differs from its issued event' });
  });

  it('detects an annulment reverted and a number removed behind the triggers', () => {
    r.opened.db.exec('DROP TRIGGER certified_copies_status_flow');
    r.opened.db.prepare("UPDATE certified_copies SET status = 'valid' WHERE status = 'annulled'").run();
    expect(r.copies.verifyChain().firstBad).toMatchObject({ kind: 'copy', reason: expect.stringMatching(/annulment/) });

    const fresh = tempRegistry();
    try {
      fresh.copies.issueCopy(sampleCopy(fresh.tenant.id, 1));
      fresh.copies.voidReservation(fresh.copies.reserveNumber(fresh.tenant.id, 2026, 60_000).id, 'x');
      fresh.copies.issueCopy(sampleCopy(fresh.tenant.id, 3));
      fresh.opened.db.exec('DROP TRIGGER certified_copies_no_delete; DROP TRIGGER copy_events_no_delete; PRAGMA foreign_keys = OFF');
      fresh.opened.db.exec("DELETE FROM copy_events WHERE type = 'voided'; DELETE FROM certified_copies WHERE status = 'voided'");
      const report = fresh.copies.verifyChain();
      expect(report.ok).toBe(false);
      expect(report.firstBad?.kind).toBe('event'); // event 2 is missing from the chain
    } finally {
      fresh.dispose();
    }
  });
});
