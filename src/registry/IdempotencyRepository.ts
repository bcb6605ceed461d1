/**
 * Idempotency keys (draft-ietf-httpapi-idempotency-key-header): the first request with a key
 * reserves it ('pending'), runs, and stores its response ('done'); a retry with the same key and
 * the same request fingerprint gets the stored response; a different request under the same key
 * is refused by the caller. Keys are scoped per API key or per officer, and expire.
 */
import type { Sqlite } from './Database.ts';
import { RegistryError } from './errors.ts';
import type { IdempotencyRecord, StoredResponse } from './accessTypes.ts';
import { text } from './validateEntry.ts';

interface IdempotencyRow {
  id: number;
  key: string;
  api_key_id: string | null;
  method: string;
  path: string;
  request_hash: string;
  state: 'pending' | 'done';
  response_status: number | null;
  response_headers: string | null;
  response_body: Buffer | null;
  response_file: string | null;
  created_at: string;
  expires_at: string;
}

const toRecord = (r: IdempotencyRow): IdempotencyRecord => ({
  id: r.id,
  key: r.key,
  apiKeyId: r.api_key_id,
  method: r.method,
  path: r.path,
  requestHash: r.request_hash,
  state: r.state,
  response:
    r.state === 'done'
      ? {
          status: r.response_status!,
          headers: JSON.parse(r.response_headers!) as Record<string, string>,
          body: r.response_body === null ? undefined : new Uint8Array(r.response_body),
          file: r.response_file ?? undefined,
        }
      : null,
  createdAt: new Date(r.created_at),
  expiresAt: new Date(r.expires_at),
});

export interface IdempotencyReservation {
  readonly key: string;
  readonly apiKeyId: string | null;
  /** The officer whose session made the request (keys are scoped per API key or per officer). */
  readonly officerId?: string | null | undefined;
  readonly method: string;
  readonly path: string;
  readonly requestHash: string;
  readonly ttlMs: number;
}

export class IdempotencyRepository {
  constructor(
    private readonly db: Sqlite,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * Reserves the key, or returns the live record already holding it. Atomic: two concurrent first
   * requests cannot both reserve (the unique index decides). Expired records are ignored (purged here).
   */
  reserve(r: IdempotencyReservation): { reserved: true; id: number } | { reserved: false; existing: IdempotencyRecord } {
    const key = text('key', r.key, 255);
    const now = this.now();
    return this.db
      .transaction(() => {
        const existing = this.db
          .prepare("SELECT * FROM idempotency_keys WHERE coalesce(api_key_id, '') = coalesce(?, '') AND coalesce(officer_id, '') = coalesce(?, '') AND key = ?")
          .get(r.apiKeyId, r.officerId ?? null, key) as IdempotencyRow | undefined;
        if (existing && new Date(existing.expires_at) > now) return { reserved: false as const, existing: toRecord(existing) };
        if (existing) this.db.prepare('DELETE FROM idempotency_keys WHERE id = ?').run(existing.id);
        const res = this.db
          .prepare(
            `INSERT INTO idempotency_keys (key, api_key_id, officer_id, method, path, request_hash, state, created_at, expires_at)
             VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)`,
          )
          .run(key, r.apiKeyId, r.officerId ?? null, r.method, r.path, r.requestHash, now.toISOString(), new Date(now.getTime() + r.ttlMs).toISOString());
        return { reserved: true as const, id: Number(res.lastInsertRowid) };
      })
      .immediate();
  }

  complete(id: number, response: StoredResponse): void {
    const res = this.db
      .prepare(
        "UPDATE idempotency_keys SET state = 'done', response_status = ?, response_headers = ?, response_body = ?, response_file = ? WHERE id = ? AND state = 'pending'",
      )
      .run(response.status, JSON.stringify(response.headers), response.body === undefined ? null : Buffer.from(response.body), response.file ?? null, id);
    if (res.changes !== 1) throw new RegistryError('idempotency-state', `idempotency record ${id} is not pending`, { status: 500 });
  }

  /** Gives the key back after a failure, so the client's retry runs the request again. */
  release(id: number): void {
    this.db.prepare("DELETE FROM idempotency_keys WHERE id = ? AND state = 'pending'").run(id);
  }

  /** Deletes expired records; returns their response files so the caller can remove them. */
  purgeExpired(): string[] {
    const now = this.now().toISOString();
    return this.db
      .transaction(() => {
        const files = (this.db.prepare('SELECT response_file FROM idempotency_keys WHERE expires_at <= ? AND response_file IS NOT NULL').all(now) as Array<{ response_file: string }>).map(
          (r) => r.response_file,
        );
        this.db.prepare('DELETE FROM idempotency_keys WHERE expires_at <= ?').run(now);
        return files;
      })
      .immediate();
  }
}
