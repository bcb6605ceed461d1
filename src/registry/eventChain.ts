/**
 * The append-only event log of the register (issued / annulled / voided), hash-chained so that
 * rewriting history is detectable even by someone who drops the triggers.
 *
 * One GLOBAL chain (not one per tenant): every register write already holds SQLite's single write
 * lock (BEGIN IMMEDIATE), so a single chain costs no extra contention, and one head hash covers the
 * whole database — anchoring that one value outside (e.g. time-stamping it) protects every tenant.
 *
 * hash_n = SHA-256(canonical([ "chungthuc/copy-event/v1", id, tenant_id, copy_id, type, at, actor,
 * payload, prev_hash ])), where canonical is JSON of that array (strings and integers only, payload as
 * the exact stored text, itself canonical JSON with sorted keys) and prev_hash of the first event is 64
 * zeros. The id is inside the hash so events cannot be reordered.
 *
 * Each 'issued' event carries the SHA-256 of the register entry as written (entryDigest), and each
 * 'annulled'/'voided' event the decision/reason, so that an edited copy row is detected too.
 */
import { createHash } from 'node:crypto';
import { prepared, type Sqlite } from './Database.ts';
import type { ChainProblem, ChainReport } from './types.ts';
import { volumeLabel } from './VolumeRepository.ts';

export type EventType = 'issued' | 'annulled' | 'voided';
type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export const GENESIS_HASH = '0'.repeat(64);

/** JSON with object keys sorted, so that equal values always give equal bytes. */
export function canonicalJson(value: Json): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k]!)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

interface EventRow {
  id: number;
  tenant_id: string;
  copy_id: string;
  type: string;
  at: string;
  actor: string;
  payload: string;
  prev_hash: string;
  hash: string;
}

export function eventHash(e: Omit<EventRow, 'hash'>): string {
  return sha256(canonicalJson(['chungthuc/copy-event/v1', e.id, e.tenant_id, e.copy_id, e.type, e.at, e.actor, e.payload, e.prev_hash]));
}

/**
 * Columns of certified_copies that make up the register entry once issued. Annulment and void columns
 * are excluded: they are covered by their own events.
 */
const ENTRY_COLUMNS = [
  'id', 'tenant_id', 'volume_id', 'year', 'number', 'public_code', 'access_code_hash', 'registered_at',
  'certified_at', 'requester_name', 'document_type', 'document_name', 'original_issuer', 'original_pages',
  'copies_count', 'certifier_name', 'certifier_title', 'fee_vnd', 'notes', 'case_code', 'receiving_site',
  'scan_sha256', 'pdf_sha256', 'signer_cert_issuer', 'signer_cert_serial', 'signer_cert_subject',
  'agency_cert_issuer', 'agency_cert_serial', 'agency_cert_subject', 'timestamp_at', 'file_key',
] as const;

/** SHA-256 over the register entry's columns, read back from the row exactly as stored. */
export function entryDigest(row: Record<string, unknown>): string {
  const values = ENTRY_COLUMNS.map((c) => {
    const v = row[c];
    if (v === undefined || v === null) return null;
    if (typeof v === 'string' || typeof v === 'number') return v;
    throw new TypeError(`unexpected value in column ${c}`);
  });
  return sha256(canonicalJson(['chungthuc/register-entry/v1', ...values]));
}

export interface NewEvent {
  readonly tenantId: string;
  readonly copyId: string;
  readonly type: EventType;
  readonly at: Date;
  readonly actor: string;
  readonly payload: { [key: string]: Json };
}

/**
 * Appends one event after the current head. MUST run inside the caller's write transaction (BEGIN
 * IMMEDIATE holds the write lock, so no other writer can append between reading the head and
 * inserting).
 */
export function appendEvent(db: Sqlite, e: NewEvent): { id: number; hash: string } {
  if (!db.inTransaction) throw new Error('appendEvent must run inside a write transaction');
  const head = prepared(db, 'SELECT id, hash FROM copy_events ORDER BY id DESC LIMIT 1').get() as { id: number; hash: string } | undefined;
  const row = {
    id: (head?.id ?? 0) + 1,
    tenant_id: e.tenantId,
    copy_id: e.copyId,
    type: e.type,
    at: e.at.toISOString(),
    actor: e.actor,
    payload: canonicalJson(e.payload),
    prev_hash: head?.hash ?? GENESIS_HASH,
  };
  const hash = eventHash(row);
  prepared(
    db,
    `INSERT INTO copy_events (id, tenant_id, copy_id, type, at, actor, payload, prev_hash, hash)
     VALUES (@id, @tenant_id, @copy_id, @type, @at, @actor, @payload, @prev_hash, @hash)`,
  ).run({ ...row, hash });
  return { id: row.id, hash };
}

function payloadOf(e: EventRow): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(e.payload);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Checks the events of one copy against its row; null when consistent. */
function checkEntry(row: Record<string, unknown>, events: EventRow[]): string | null {
  const status = row.status as string;
  const issued = events.filter((e) => e.type === 'issued');
  const annulled = events.filter((e) => e.type === 'annulled');
  const voided = events.filter((e) => e.type === 'voided');
  if (events.some((e) => e.tenant_id !== row.tenant_id)) return 'an event names another tenant';
  if (status === 'reserved') return events.length === 0 ? null : 'a reserved number has events';
  if (status === 'voided') {
    if (voided.length !== 1 || events.length !== 1) return 'a voided number needs exactly one voided event';
    return payloadOf(voided[0]!)?.reason === row.void_reason ? null : 'void reason differs from its event';
  }
  if (issued.length !== 1) return `expected one issued event, found ${issued.length}`;
  const issuedPayload = payloadOf(issued[0]!);
  if (issuedPayload?.entrySha256 !== entryDigest(row)) return 'the register entry differs from its issued event';
  // Events written since the volume label was recorded (older ones carry only its id).
  if (issuedPayload.volume !== undefined && issuedPayload.volume !== issuedVolume(row)) return 'the volume (quyển số) differs from its issued event';
  if (status === 'valid') return annulled.length === 0 && voided.length === 0 ? null : 'a valid entry has annulment/void events';
  if (status !== 'annulled') return `unknown status ${status}`;
  if (annulled.length !== 1 || voided.length !== 0) return 'an annulled entry needs exactly one annulled event';
  const p = payloadOf(annulled[0]!);
  const same =
    p?.decisionNumber === row.annul_decision_number &&
    p?.decisionDate === row.annul_decision_date &&
    p?.reason === row.annul_reason &&
    annulled[0]!.actor === row.annulled_by;
  return same ? null : 'the annulment differs from its event';
}

/**
 * Verifies (1) every event's hash and link to its predecessor, (2) every register entry against its
 * events, (3) every volume's numbers: first..last present exactly once (no gap, no extra number),
 * (4) with `anchors`, that each head recorded earlier outside the database (a backup manifest, a
 * time-stamped hash) is still in the chain with the same hash: a chain is consistent by itself after
 * its newest events are cut off (an annulment undone), which only an outside anchor reveals.
 * Stops at the first problem. Reads in one snapshot (a read transaction), so concurrent writers do not
 * produce false alarms.
 */
export function verifyChain(db: Sqlite, anchors: ReadonlyArray<{ id: number; hash: string }> = []): ChainReport {
  const run = db.transaction((): ChainReport => {
    let checked = 0;
    let prev = GENESIS_HASH;
    let prevId = 0;
    let head: ChainReport['head'] = null;
    const bad = (firstBad: ChainProblem, entries = 0): ChainReport => ({ ok: false, checked, entries, firstBad, head });

    for (const e of db.prepare('SELECT * FROM copy_events ORDER BY id').iterate() as IterableIterator<EventRow>) {
      if (e.id !== prevId + 1) return bad({ kind: 'event', id: String(e.id), reason: `event ${prevId + 1} is missing` });
      if (e.prev_hash !== prev) return bad({ kind: 'event', id: String(e.id), reason: 'prev_hash does not match the previous event' });
      if (eventHash(e) !== e.hash) return bad({ kind: 'event', id: String(e.id), reason: 'hash does not match the event content' });
      if (payloadOf(e) === null) return bad({ kind: 'event', id: String(e.id), reason: 'payload is not a JSON object' });
      prev = e.hash;
      prevId = e.id;
      head = { id: e.id, hash: e.hash };
      checked += 1;
    }
    const eventHashAt = db.prepare('SELECT hash FROM copy_events WHERE id = ?');
    for (const a of anchors) {
      const at = eventHashAt.get(a.id) as { hash: string } | undefined;
      if (!at) return bad({ kind: 'anchor', id: String(a.id), reason: `the anchored event ${a.id} is no longer in the chain (it ends at ${head?.id ?? 0}): events were removed` });
      if (at.hash !== a.hash) return bad({ kind: 'anchor', id: String(a.id), reason: `event ${a.id} no longer has the anchored hash: the chain was rewritten` });
    }

    let entries = 0;
    const eventsOf = db.prepare('SELECT * FROM copy_events WHERE copy_id = ? ORDER BY id');
    const rows = db.prepare(
      `SELECT c.*, v.year AS volume_year, v.seq AS volume_seq, v.register_suffix AS volume_suffix
       FROM certified_copies c LEFT JOIN register_volumes v ON v.id = c.volume_id ORDER BY c.rowid`,
    );
    for (const row of rows.iterate() as IterableIterator<Record<string, unknown>>) {
      const problem = checkEntry(row, eventsOf.all(row.id) as EventRow[]);
      if (problem !== null) return bad({ kind: 'copy', id: String(row.id), reason: problem }, entries);
      entries += 1;
    }
    const orphan = db.prepare('SELECT e.id FROM copy_events e LEFT JOIN certified_copies c ON c.id = e.copy_id WHERE c.id IS NULL LIMIT 1').get() as
      | { id: number }
      | undefined;
    if (orphan) return bad({ kind: 'event', id: String(orphan.id), reason: 'the event names a missing register entry' }, entries);

    const volumes = db
      .prepare(
        `SELECT v.id, v.first_number, v.last_number, v.closed_at, v.total_certified, v.total_voided,
                COUNT(c.id) AS n, COUNT(DISTINCT c.number) AS distinct_n, MIN(c.number) AS lo, MAX(c.number) AS hi,
                SUM(c.status IN ('valid', 'annulled')) AS certified, SUM(c.status = 'voided') AS voided
         FROM register_volumes v LEFT JOIN certified_copies c ON c.volume_id = v.id GROUP BY v.id`,
      )
      .all() as Array<Record<string, number | string | null>>;
    for (const v of volumes) {
      const expected = (v.last_number as number) - (v.first_number as number) + 1;
      const n = v.n as number;
      if (n !== expected || v.distinct_n !== n || (n > 0 && (v.lo !== v.first_number || v.hi !== v.last_number))) {
        return bad({ kind: 'volume', id: String(v.id), reason: `numbers ${v.first_number}..${v.last_number} are not each present once` }, entries);
      }
      if (v.closed_at !== null && (v.total_certified !== (v.certified ?? 0) || v.total_voided !== (v.voided ?? 0))) {
        return bad({ kind: 'volume', id: String(v.id), reason: 'the closing totals differ from the entries' }, entries);
      }
    }
    return { ok: true, checked, entries, head };
  });
  return run.deferred();
}

/**
 * The volume an issued event records ("quyển số" as printed: seq/year and suffix), from a row
 * carrying `volume_year`, `volume_seq`, `volume_suffix`.
 */
export function issuedVolume(row: Record<string, unknown>): string {
  return `${volumeLabel(Number(row.volume_seq), Number(row.volume_year))}${String(row.volume_suffix ?? '')}`;
}

/** The newest event's id and hash, to be anchored outside the database. */
export function chainHead(db: Sqlite): { id: number; hash: string } | null {
  return (db.prepare('SELECT id, hash FROM copy_events ORDER BY id DESC LIMIT 1').get() as { id: number; hash: string } | undefined) ?? null;
}
