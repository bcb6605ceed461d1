/**
 * The register of certified copies: number allocation, issuing, reservations, annulment and lookups.
 *
 * domain.md: one certification number per original per occasion, sequential within a volume, NO GAPS
 * and NO REUSE. Every write below is one synchronous better-sqlite3 transaction started with
 * BEGIN IMMEDIATE, which takes SQLite's write lock before reading the volume's last number: two
 * processes on the same file can never read the same last number, and a transaction that throws or
 * whose process dies before COMMIT leaves nothing (WAL rollback), so the number was never taken.
 *
 * Two ways to issue:
 * - `issueCopy`: after signing, allocate the number and write the entry and its 'issued' event at once.
 *   Used when the number does not have to appear in the signed content.
 * - `reserveNumber` → `completeCopy` | `voidReservation`: the number, public code and access code are
 *   printed on the stamp BEFORE the signature is made, so they must be allocated first. If signing then
 *   fails, the number cannot be given back (another copy may already hold the next one, and a number
 *   that was printed must never reappear on a different document): it is VOIDED, and the register shows
 *   it as void with its reason — no unexplained gap, no reuse. `voidExpiredReservations` sweeps the
 *   reservations of crashed or abandoned requests.
 */
import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { durably, prepared, type Sqlite } from './Database.ts';
import type BetterSqlite3 from 'better-sqlite3';
import { RegistryError } from './errors.ts';
import { accessCodeMatches, newPublicCode, normalizePublicCode, prepareAccessCodeSync, type PreparedAccessCode } from './codes.ts';
import { DETAIL_COLUMNS, SELECT_COPY, SELECT_PUBLIC, SELECT_PUBLIC_JSON, detailParams, publicViewJson, toEntry, toPublicView, type CopyRow, type PublicJsonRow, type PublicRow } from './copyRows.ts';
import { appendEvent, chainHead, entryDigest, issuedVolume, verifyChain } from './eventChain.ts';
import type {
  AnnulInput,
  ChainReport,
  StoredFile,
  CopyCompletion,
  CopyRecord,
  IssuedCopy,
  ListQuery,
  NewCopy,
  Page,
  PublicCopyView,
  RegisterEntry,
  Reservation,
  ReserveOptions,
  VoidedEntry,
} from './types.ts';
import { positiveInt, registerYear, text, validAnnulment, validCompletion, instant } from './validateEntry.ts';
import { VolumeRepository } from './VolumeRepository.ts';

const MAX_RESERVATION_MS = 24 * 3600_000;

/**
 * Runs a write transaction with BEGIN IMMEDIATE. SQLITE_BUSY (another process held the write lock
 * longer than busy_timeout) becomes a retryable RegistryError; the transaction left nothing behind.
 * `durable`: the commit is on disk before this returns (`durably`), for the acts someone is told about
 * at once — an issued copy and an annulment. A reservation or a voided number needs no fsync of its
 * own: nothing is handed out on it, and the next durable commit carries it to disk.
 */
function immediate<T>(db: Sqlite, fn: () => T, durable = false): T {
  try {
    return durable ? durably(db, () => db.transaction(fn).immediate()) : db.transaction(fn).immediate();
  } catch (cause) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('SQLITE_BUSY')) {
      throw new RegistryError('registry-busy', 'the register is busy; try again', { retryable: true, cause });
    }
    throw cause;
  }
}

function notFound(what: string, id: string): RegistryError {
  return new RegistryError(`${what}-not-found`, `no ${what.replace('-', ' ')} ${id}`, { status: 404 });
}

const COMPLETE_RESERVATION = `UPDATE certified_copies SET status = 'valid', ${DETAIL_COLUMNS.map((c) => `${c} = @${c}`).join(', ')} WHERE id = @id`;

export class CopyRepository {
  readonly volumes: VolumeRepository;

  constructor(
    private readonly db: Sqlite,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.volumes = new VolumeRepository(db, now);
  }

  /**
   * Writes a signed copy into the register: allocates the number, inserts the entry (status 'valid')
   * and appends its 'issued' event, in ONE transaction. Call only after signing succeeded.
   */
  issueCopy(input: NewCopy): IssuedCopy {
    const details = validCompletion(input);
    const tenantId = text('tenantId', input.tenantId, 200);
    // scrypt runs before the transaction: the write lock is held only for the inserts.
    const access = input.accessCode ?? prepareAccessCodeSync();
    const publicCode = newPublicCode();
    const id = randomUUID();
    const at = this.now();
    const entry = immediate(this.db, (): CopyRecord => {
      const { volume, number } = this.volumes.allocateNumber(tenantId, registerYear(details.certifiedAt), at);
      this.db
        .prepare(
          `INSERT INTO certified_copies (id, tenant_id, volume_id, year, number, status, public_code, access_code_hash,
             registered_at, ${DETAIL_COLUMNS.join(', ')})
           VALUES (@id, @tenant_id, @volume_id, @year, @number, 'valid', @public_code, @access_code_hash,
             @registered_at, ${DETAIL_COLUMNS.map((c) => `@${c}`).join(', ')})`,
        )
        .run({
          id,
          tenant_id: tenantId,
          volume_id: volume.id,
          year: volume.year,
          number,
          public_code: publicCode,
          access_code_hash: access.hash,
          registered_at: at.toISOString(),
          ...detailParams(details),
        });
      return this.recordIssued(id, details.actor, at);
    }, true);
    return { ...entry, accessCode: access.plain };
  }

  /**
   * Allocates the next number of the tenant's volume for `year` and the copy's codes, before the
   * stamp is drawn and signed. The reservation expires after `ttlMs` (1 s .. 24 h).
   */
  reserveNumber(tenantId: string, year: number, ttlMs: number, options: ReserveOptions = {}): Reservation {
    text('tenantId', tenantId, 200);
    const ttl = positiveInt('ttlMs', ttlMs, 1000);
    if (ttl > MAX_RESERVATION_MS) throw new RegistryError('registry-invalid-input', 'ttlMs: at most 24 hours', { status: 422 });
    const access: PreparedAccessCode = options.accessCode ?? prepareAccessCodeSync();
    const at = options.at === undefined ? this.now() : instant('at', options.at);
    const id = randomUUID();
    const entry = immediate(this.db, (): RegisterEntry => {
      const { volume, number } = this.volumes.allocateNumber(tenantId, year, at);
      prepared(
        this.db,
        `INSERT INTO certified_copies (id, tenant_id, volume_id, year, number, status, public_code, access_code_hash,
           registered_at, reservation_expires_at)
         VALUES (?, ?, ?, ?, ?, 'reserved', ?, ?, ?, ?)`,
      ).run(id, tenantId, volume.id, volume.year, number, newPublicCode(), access.hash, at.toISOString(), new Date(at.getTime() + ttl).toISOString());
      return this.entryById(id)!;
    });
    if (entry.status !== 'reserved') throw new Error('unreachable: a new reservation is reserved');
    return { ...entry, accessCode: access.plain };
  }

  /**
   * Turns a reservation into the register entry once the copy carrying its number has been signed.
   * Refused after the reservation expired (the sweeper voids it; the signed file must be discarded)
   * and when the certification date falls outside the reservation's register year.
   */
  completeCopy(reservationId: string, data: CopyCompletion): CopyRecord {
    const details = validCompletion(data);
    const at = this.now();
    return immediate(this.db, (): CopyRecord => {
      const row = this.rowById(reservationId);
      if (!row) throw notFound('reservation', reservationId);
      if (row.status !== 'reserved') {
        throw new RegistryError('reservation-not-open', `number ${row.number} is already ${row.status}`, { status: 409 });
      }
      if (at.getTime() > Date.parse(row.reservation_expires_at!)) {
        throw new RegistryError('reservation-expired', `the reservation of number ${row.number} expired`, { status: 409 });
      }
      if (registerYear(details.certifiedAt) !== row.year) {
        throw new RegistryError('registry-year-mismatch', `the certification date is not in the register year ${row.year}`, { status: 422 });
      }
      const params = detailParams(details);
      prepared(this.db, COMPLETE_RESERVATION).run({ ...params, id: reservationId });
      return this.recordIssued(reservationId, details.actor, at);
    }, true);
  }

  /** Voids a reserved number (signing failed or was abandoned); it stays in the register as void. */
  voidReservation(reservationId: string, reason: string, options: { actor?: string; at?: Date } = {}): VoidedEntry {
    const why = text('reason', reason, 2000);
    const actor = text('actor', options.actor ?? 'system', 200);
    const at = options.at === undefined ? this.now() : instant('at', options.at);
    return immediate(this.db, (): VoidedEntry => {
      const row = this.rowById(reservationId);
      if (!row) throw notFound('reservation', reservationId);
      if (row.status !== 'reserved') {
        throw new RegistryError('reservation-not-open', `number ${row.number} is already ${row.status}`, { status: 409 });
      }
      return this.voidRow(row, why, actor, at);
    });
  }

  /** Voids every reservation whose expiry is before `now`, in one transaction; returns them. */
  voidExpiredReservations(now: Date = this.now()): VoidedEntry[] {
    const at = instant('now', now);
    return immediate(this.db, (): VoidedEntry[] => {
      const rows = this.db
        .prepare(`${SELECT_COPY} WHERE c.status = 'reserved' AND c.reservation_expires_at < ? ORDER BY c.tenant_id, c.year, c.number`)
        .all(at.toISOString()) as CopyRow[];
      return rows.map((r) => this.voidRow(r, 'reservation expired before the copy was signed', 'system', at));
    });
  }

  /**
   * Annuls a copy by decision of the competent chairman (domain.md "Annulment"): status 'annulled' and
   * an 'annulled' event in one transaction. Nothing is deleted; annulling twice is refused.
   */
  annulCopy(copyId: string, input: AnnulInput): CopyRecord {
    const a = validAnnulment(input);
    const at = a.at ?? this.now();
    return immediate(this.db, (): CopyRecord => {
      const row = this.rowById(copyId);
      if (!row || (a.tenantId !== undefined && row.tenant_id !== a.tenantId)) throw notFound('copy', copyId);
      if (row.status === 'annulled') throw new RegistryError('copy-already-annulled', `copy ${row.number} is already annulled`, { status: 409 });
      if (row.status !== 'valid') throw new RegistryError('copy-not-issued', `number ${row.number} is ${row.status}, not an issued copy`, { status: 409 });
      this.db
        .prepare(
          `UPDATE certified_copies SET status = 'annulled', annul_decision_number = ?, annul_decision_date = ?, annul_reason = ?,
             annulled_by = ?, annulled_at = ? WHERE id = ?`,
        )
        .run(a.decisionNumber, a.decisionDate, a.reason, a.actor, at.toISOString(), copyId);
      appendEvent(this.db, {
        tenantId: row.tenant_id,
        copyId,
        type: 'annulled',
        at,
        actor: a.actor,
        payload: { number: row.number, year: row.year, decisionNumber: a.decisionNumber, decisionDate: a.decisionDate, reason: a.reason },
      });
      return this.entryById(copyId) as CopyRecord;
    }, true);
  }

  /** The public page's view of a code: null for unknown codes and for numbers never issued. */
  findByPublicCode(code: string): PublicCopyView | null {
    return this.findPublic(code)?.view ?? null;
  }

  /**
   * The public view of a code, its normalised form and stored file (register file key), in one read:
   * the QR page's hot path. `viewJson()` is `JSON.stringify(view)`, written from the row.
   */
  findPublic(code: string): { view: PublicCopyView; publicCode: string; fileKey: string; viewJson(): string } | null {
    const c = normalizePublicCode(code);
    if (c === null) return null;
    const row = this.publicQuery().get(c) as PublicRow | undefined;
    const fileKey = row?.[22];
    return row && fileKey ? { view: toPublicView(row), publicCode: c, fileKey, viewJson: () => publicViewJson(row) } : null;
  }

  /**
   * The public lookup for programs: `json` is the UTF-8 bytes of `JSON.stringify(view)` (SELECT_PUBLIC_JSON),
   * with the status and registered SHA-256 the assessment needs. Null as `findPublic`.
   */
  findPublicJson(code: string): { status: PublicCopyView['status']; pdfSha256: string; publicCode: string; fileKey: string; json: Buffer } | null {
    const c = normalizePublicCode(code);
    if (c === null) return null;
    const row = (this.publicJsonStatement ??= this.db.prepare(SELECT_PUBLIC_JSON).raw(true)).get(c) as PublicJsonRow | undefined;
    const fileKey = row?.[2];
    if (!row || !fileKey) return null;
    let json = row[3];
    // A stored instant not in toJSON's form, or text that is not well-formed UTF-8 (a lone surrogate
    // an API client sent is stored as such, and json_object copies its bytes): written from the row,
    // as findPublic does, which decodes such bytes to U+FFFD as JSON.stringify of the view shows them.
    if (json === null || !isUtf8(json)) {
      const found = this.findPublic(c);
      if (!found) return null;
      json = Buffer.from(found.viewJson());
    }
    return { status: row[0], pdfSha256: row[1], publicCode: c, fileKey, json };
  }

  private publicStatement: BetterSqlite3.Statement | undefined;
  private publicJsonStatement: BetterSqlite3.Statement | undefined;
  /** SELECT_PUBLIC in raw (array) mode, prepared once: its own statement, since raw() changes it. */
  private publicQuery(): BetterSqlite3.Statement {
    return (this.publicStatement ??= this.db.prepare(SELECT_PUBLIC).raw(true));
  }

  /**
   * The full record behind a public code, for the holder who proved the access code: callers MUST
   * check `verifyAccessCode` first (domain.md: requester name and document need a second factor).
   */
  getByPublicCode(code: string): CopyRecord | null {
    const c = normalizePublicCode(code);
    const row = c === null ? undefined : (prepared(this.db, `${SELECT_COPY} WHERE c.public_code = ?`).get(c) as CopyRow | undefined);
    if (!row || (row.status !== 'valid' && row.status !== 'annulled')) return null;
    return toEntry(row) as CopyRecord;
  }

  /** True when `accessCode` is the one printed on the issued copy `code`; constant work otherwise. */
  verifyAccessCode(code: string, accessCode: string): boolean {
    const c = normalizePublicCode(code);
    const row =
      c === null
        ? undefined
        : (this.db.prepare('SELECT status, access_code_hash FROM certified_copies WHERE public_code = ?').get(c) as
            | { status: string; access_code_hash: string }
            | undefined);
    const issued = row !== undefined && (row.status === 'valid' || row.status === 'annulled');
    return accessCodeMatches(issued ? row.access_code_hash : null, accessCode);
  }

  /** One entry of the tenant's register (any status), or null — never another tenant's. */
  getCopy(tenantId: string, id: string): RegisterEntry | null {
    const row = this.db.prepare(`${SELECT_COPY} WHERE c.tenant_id = ? AND c.id = ?`).get(tenantId, id) as CopyRow | undefined;
    return row ? toEntry(row) : null;
  }

  /**
   * The tenant's register, newest first (year, number descending), keyset-paginated. Filters are
   * register data only: there is deliberately no search by requester name (domain.md).
   */
  listCopies(tenantId: string, query: ListQuery = {}): Page<RegisterEntry> {
    const limit = query.limit === undefined ? 50 : positiveInt('limit', query.limit);
    if (limit > 500) throw new RegistryError('registry-invalid-input', 'limit: at most 500', { status: 422 });
    const where = ['c.tenant_id = @tenantId'];
    const params: Record<string, string | number> = { tenantId, limit: limit + 1 };
    if (query.from !== undefined) (where.push('c.registered_at >= @from'), (params.from = instant('from', query.from).toISOString()));
    if (query.to !== undefined) (where.push('c.registered_at < @to'), (params.to = instant('to', query.to).toISOString()));
    if (query.year !== undefined) (where.push('c.year = @year'), (params.year = positiveInt('year', query.year)));
    if (query.number !== undefined) (where.push('c.number = @number'), (params.number = positiveInt('number', query.number)));
    if (query.volumeId !== undefined) (where.push('c.volume_id = @volumeId'), (params.volumeId = query.volumeId));
    if (query.status !== undefined) (where.push('c.status = @status'), (params.status = query.status));
    if (query.publicCode !== undefined) (where.push('c.public_code = @publicCode'), (params.publicCode = normalizePublicCode(query.publicCode) ?? ''));
    if (query.caseCode !== undefined) (where.push('c.case_code = @caseCode'), (params.caseCode = query.caseCode));
    if (query.cursor !== undefined) {
      const m = /^(\d{4})\.(\d+)$/.exec(Buffer.from(query.cursor, 'base64url').toString('latin1'));
      if (!m) throw new RegistryError('registry-invalid-cursor', 'the cursor is not one this service returned', { status: 422 });
      where.push('(c.year < @cy OR (c.year = @cy AND c.number < @cn))');
      params.cy = Number(m[1]);
      params.cn = Number(m[2]);
    }
    const rows = this.db
      .prepare(`${SELECT_COPY} WHERE ${where.join(' AND ')} ORDER BY c.year DESC, c.number DESC LIMIT @limit`)
      .all(params) as CopyRow[];
    const more = rows.length > limit;
    const items = rows.slice(0, limit).map(toEntry);
    const last = items[items.length - 1];
    return { items, nextCursor: more && last ? Buffer.from(`${last.year}.${last.number}`, 'latin1').toString('base64url') : null };
  }

  /** Hash chain + entries + volume numbering check (see eventChain.ts). */
  /** See eventChain.ts `verifyChain`; `anchors`: heads recorded earlier outside the database. */
  verifyChain(anchors: ReadonlyArray<{ id: number; hash: string }> = []): ChainReport {
    return verifyChain(this.db, anchors);
  }

  chainHead(): { id: number; hash: string } | null {
    return chainHead(this.db);
  }

  /** Every issued entry (valid or annulled) with its stored file, oldest first: what a backup must hold. */
  storedFiles(): StoredFile[] {
    return (
      this.db
        .prepare(`SELECT id, public_code, file_key, pdf_sha256 FROM certified_copies WHERE status IN ('valid', 'annulled') AND file_key IS NOT NULL ORDER BY rowid`)
        .raw(true)
        .all() as Array<[string, string, string, string]>
    ).map(([id, publicCode, fileKey, pdfSha256]) => ({ id, publicCode, fileKey, pdfSha256 }));
  }

  private rowById(id: string): CopyRow | undefined {
    return prepared(this.db, `${SELECT_COPY} WHERE c.id = ?`).get(id) as CopyRow | undefined;
  }

  private entryById(id: string): RegisterEntry | null {
    const r = this.rowById(id);
    return r ? toEntry(r) : null;
  }

  /** Appends the 'issued' event over the entry as stored; inside the caller's transaction. */
  private recordIssued(id: string, actor: string, at: Date): CopyRecord {
    const row = this.rowById(id)!;
    appendEvent(this.db, {
      tenantId: row.tenant_id,
      copyId: id,
      type: 'issued',
      at,
      actor,
      payload: {
        number: row.number,
        year: row.year,
        volumeId: row.volume_id,
        volume: issuedVolume({ volume_seq: row.volume_seq, volume_year: row.year, volume_suffix: row.volume_suffix }),
        entrySha256: entryDigest(row as unknown as Record<string, unknown>),
      },
    });
    return toEntry(row) as CopyRecord;
  }

  private voidRow(row: CopyRow, reason: string, actor: string, at: Date): VoidedEntry {
    this.db
      .prepare(`UPDATE certified_copies SET status = 'voided', void_reason = ?, voided_by = ?, voided_at = ? WHERE id = ?`)
      .run(reason, actor, at.toISOString(), row.id);
    appendEvent(this.db, {
      tenantId: row.tenant_id,
      copyId: row.id,
      type: 'voided',
      at,
      actor,
      payload: { number: row.number, year: row.year, volumeId: row.volume_id, reason },
    });
    return this.entryById(row.id) as VoidedEntry;
  }
}
