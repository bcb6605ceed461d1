/**
 * API keys of calling systems. A key reads `ck_<prefix>_<secret>`: the prefix (48 random bits, hex)
 * is public and finds the row; the secret (256 random bits, base64url) is shown once and only its
 * SHA-256 is stored.
 *
 * Why a fast hash is enough here (unlike passwords, which need scrypt/argon2): the secret is 256
 * bits from the CSPRNG, so a stolen hash cannot be reversed by guessing — there is no dictionary
 * to try and 2^256 candidates. A slow KDF would only add milliseconds to every API call.
 * Comparison is constant-time (crypto.timingSafeEqual), and an unknown prefix still costs one hash
 * and one comparison so timing does not tell whether a prefix exists.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { durably, prepared, type Sqlite } from './Database.ts';
import { RegistryError } from './errors.ts';
import { InputError } from '../errors.ts';
import { API_SCOPES, type ApiKey, type ApiScope, type NewApiKey } from './accessTypes.ts';
import { text } from './validateEntry.ts';

interface ApiKeyRow {
  id: string;
  tenant_id: string;
  name: string;
  prefix: string;
  secret_hash: Buffer;
  scopes: string;
  allowed_cidrs: string | null;
  created_at: string;
  created_by: string;
  revoked_at: string | null;
  revoked_by: string | null;
  last_used_at: string | null;
}

const TOKEN = /^ck_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;
/** A hash no real key has: compared against when the prefix is unknown, to keep timing flat. */
const DUMMY_HASH = Buffer.alloc(32);
/** last_used_at is informational: write it at most once a minute per key, not on every call. */
const LAST_USED_RESOLUTION_MS = 60_000;

const hashToken = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

const toApiKey = (r: ApiKeyRow): ApiKey => ({
  id: r.id,
  tenantId: r.tenant_id,
  name: r.name,
  prefix: r.prefix,
  scopes: JSON.parse(r.scopes) as ApiScope[],
  allowedCidrs: r.allowed_cidrs === null ? null : (JSON.parse(r.allowed_cidrs) as string[]),
  createdAt: new Date(r.created_at),
  createdBy: r.created_by,
  revokedAt: r.revoked_at === null ? null : new Date(r.revoked_at),
  lastUsedAt: r.last_used_at === null ? null : new Date(r.last_used_at),
});

export type ApiKeyCheck =
  | { ok: true; key: ApiKey }
  | { ok: false; reason: 'malformed' | 'unknown' | 'revoked'; key?: ApiKey };

/** `10.0.0.0/8`, `2001:db8::/32`, or a bare address (a /32 or /128). Returns the canonical `addr/len`. */
export function parseCidr(value: string): string {
  const [addr = '', len, ...rest] = value.trim().split('/');
  const family = isIP(addr);
  const max = family === 4 ? 32 : family === 6 ? 128 : 0;
  const bits = len === undefined ? max : Number(len);
  if (max === 0 || rest.length > 0 || !Number.isInteger(bits) || bits < 0 || bits > max || (len !== undefined && !/^\d+$/.test(len))) {
    throw new InputError('invalid-cidr', `"${value}" is not an IPv4/IPv6 address or CIDR block`);
  }
  return `${addr}/${bits}`;
}

export function parseScopes(values: readonly string[]): ApiScope[] {
  const scopes = [...new Set(values.map((s) => s.trim()).filter(Boolean))];
  if (scopes.length === 0) throw new InputError('invalid-scopes', `give at least one scope of ${API_SCOPES.join(', ')}`);
  for (const s of scopes) {
    if (!(API_SCOPES as readonly string[]).includes(s)) throw new InputError('invalid-scopes', `unknown scope "${s}" (known: ${API_SCOPES.join(', ')})`);
  }
  return scopes as ApiScope[];
}

export class ApiKeyRepository {
  constructor(
    private readonly db: Sqlite,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Creates a key; the returned `token` is the only time the secret exists outside the caller. */
  create(input: NewApiKey): { key: ApiKey; token: string } {
    const scopes = parseScopes(input.scopes);
    const cidrs = input.allowedCidrs === undefined || input.allowedCidrs.length === 0 ? null : input.allowedCidrs.map(parseCidr);
    const name = text('name', input.name, 200);
    const createdBy = text('createdBy', input.createdBy, 200);
    if (this.db.prepare('SELECT 1 FROM tenants WHERE id = ?').get(input.tenantId) === undefined) {
      throw new RegistryError('tenant-not-found', `no tenant ${input.tenantId}`, { status: 404 });
    }
    // A prefix collision (1 in 2^48 per pair) is retried rather than reported.
    for (let attempt = 0; attempt < 5; attempt++) {
      const prefix = randomBytes(6).toString('hex');
      const token = `ck_${prefix}_${randomBytes(32).toString('base64url')}`;
      const row: ApiKeyRow = {
        id: randomUUID(),
        tenant_id: input.tenantId,
        name,
        prefix,
        secret_hash: hashToken(token),
        scopes: JSON.stringify(scopes),
        allowed_cidrs: cidrs === null ? null : JSON.stringify(cidrs),
        created_at: this.now().toISOString(),
        created_by: createdBy,
        revoked_at: null,
        revoked_by: null,
        last_used_at: null,
      };
      try {
        this.db
          .prepare(
            `INSERT INTO api_keys (id, tenant_id, name, prefix, secret_hash, scopes, allowed_cidrs, created_at, created_by)
             VALUES (@id, @tenant_id, @name, @prefix, @secret_hash, @scopes, @allowed_cidrs, @created_at, @created_by)`,
          )
          .run(row);
        return { key: toApiKey(row), token };
      } catch (cause) {
        if ((cause as { code?: string }).code !== 'SQLITE_CONSTRAINT_UNIQUE') throw cause;
      }
    }
    throw new RegistryError('api-key-create-failed', 'could not allocate a unique key prefix');
  }

  /**
   * Checks a presented token against the stored hash. Reads the row on every call — no cache — so
   * a revocation takes effect on the next request.
   */
  check(token: string): ApiKeyCheck {
    const m = TOKEN.exec(token);
    if (!m) return { ok: false, reason: 'malformed' };
    const row = prepared(this.db, 'SELECT * FROM api_keys WHERE prefix = ?').get(m[1]) as ApiKeyRow | undefined;
    const presented = hashToken(token);
    const equal = timingSafeEqual(presented, row?.secret_hash ?? DUMMY_HASH);
    if (!row || !equal) return { ok: false, reason: 'unknown' };
    const key = toApiKey(row);
    if (key.revokedAt !== null) return { ok: false, reason: 'revoked', key };
    return { ok: true, key };
  }

  /** Records use (coarsely: see LAST_USED_RESOLUTION_MS). */
  touch(key: ApiKey): void {
    const now = this.now();
    if (key.lastUsedAt !== null && now.getTime() - key.lastUsedAt.getTime() < LAST_USED_RESOLUTION_MS) return;
    prepared(this.db, 'UPDATE api_keys SET last_used_at = ? WHERE id = ? AND revoked_at IS NULL').run(now.toISOString(), key.id);
  }

  get(id: string): ApiKey | null {
    const r = this.db.prepare('SELECT * FROM api_keys WHERE id = ?').get(id) as ApiKeyRow | undefined;
    return r ? toApiKey(r) : null;
  }

  list(tenantId: string): ApiKey[] {
    return (this.db.prepare('SELECT * FROM api_keys WHERE tenant_id = ? ORDER BY created_at, id').all(tenantId) as ApiKeyRow[]).map(toApiKey);
  }

  /** Revokes at once; revoking a revoked key is refused (409) so the first revocation stays on record. */
  revoke(id: string, by: string): ApiKey {
    const revokedBy = text('revokedBy', by, 200);
    // On disk before it returns (`durably`): a revocation lost to a power cut would let the key back in.
    const res = durably(this.db, () =>
      this.db.prepare('UPDATE api_keys SET revoked_at = ?, revoked_by = ? WHERE id = ? AND revoked_at IS NULL').run(this.now().toISOString(), revokedBy, id),
    );
    if (res.changes !== 1) {
      if (this.get(id) === null) throw new RegistryError('api-key-not-found', `no API key ${id}`, { status: 404 });
      throw new RegistryError('api-key-revoked', `the API key ${id} is already revoked`, { status: 409 });
    }
    return this.get(id)!;
  }
}
