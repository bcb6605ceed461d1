/**
 * Officers' browser sessions. The cookie carries a 256-bit random secret; the row's id is its
 * SHA-256, so the table alone gives no usable cookie (as for API keys, a fast hash suffices for a
 * full-entropy secret). Each session has its own CSRF token (synchronizer token pattern, OWASP CSRF
 * Prevention Cheat Sheet). A session ends at the first of: logout, the idle timeout (sliding), the
 * absolute timeout, a password change or the account being disabled (OfficerRepository revokes).
 *
 * `create` does not care how the officer was authenticated — a password check today, an OIDC
 * callback later; it only records the method.
 */
import { createHash, randomBytes } from 'node:crypto';
import { prepared, type Sqlite } from './Database.ts';
import type { AuthMethod, Session, SessionTimeouts } from './officerTypes.ts';

interface SessionRow {
  id: string;
  officer_id: string;
  csrf_token: string;
  auth_method: AuthMethod;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  ip: string | null;
  user_agent: string | null;
  revoked_at: string | null;
  revoked_reason: string | null;
}

const SECRET = /^[A-Za-z0-9_-]{43}$/;
/** last_seen_at moves at most this often, so a busy officer does not cost a write per request. */
const TOUCH_RESOLUTION_MS = 15_000;

export const sessionIdOf = (secret: string): string => createHash('sha256').update(secret, 'utf8').digest('hex');

const toSession = (r: SessionRow): Session => ({
  id: r.id,
  officerId: r.officer_id,
  csrfToken: r.csrf_token,
  authMethod: r.auth_method,
  createdAt: new Date(r.created_at),
  lastSeenAt: new Date(r.last_seen_at),
  expiresAt: new Date(r.expires_at),
  ip: r.ip,
  userAgent: r.user_agent,
  revokedAt: r.revoked_at === null ? null : new Date(r.revoked_at),
});

export class SessionRepository {
  constructor(
    private readonly db: Sqlite,
    private readonly timeouts: SessionTimeouts,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Starts a session; `secret` goes into the cookie and exists nowhere else. */
  create(input: { officerId: string; authMethod: AuthMethod; ip?: string | null; userAgent?: string | null }): { session: Session; secret: string } {
    const secret = randomBytes(32).toString('base64url');
    const now = this.now();
    const row: SessionRow = {
      id: sessionIdOf(secret),
      officer_id: input.officerId,
      csrf_token: randomBytes(32).toString('base64url'),
      auth_method: input.authMethod,
      created_at: now.toISOString(),
      last_seen_at: now.toISOString(),
      expires_at: new Date(now.getTime() + this.timeouts.absoluteMs).toISOString(),
      ip: input.ip ?? null,
      user_agent: input.userAgent?.slice(0, 300) ?? null,
      revoked_at: null,
      revoked_reason: null,
    };
    this.db
      .prepare(
        `INSERT INTO officer_sessions (id, officer_id, csrf_token, auth_method, created_at, last_seen_at, expires_at, ip, user_agent)
         VALUES (@id, @officer_id, @csrf_token, @auth_method, @created_at, @last_seen_at, @expires_at, @ip, @user_agent)`,
      )
      .run(row);
    return { session: toSession(row), secret };
  }

  get(id: string): Session | null {
    const r = prepared(this.db, 'SELECT * FROM officer_sessions WHERE id = ?').get(id) as SessionRow | undefined;
    return r ? toSession(r) : null;
  }

  /**
   * The live session a cookie secret opens, sliding its idle timeout; null when the secret is
   * malformed or unknown, or the session was revoked or has expired (idle or absolute). Read fresh
   * on every request: a revocation takes effect at once.
   */
  resume(secret: string): Session | null {
    if (!SECRET.test(secret)) return null;
    const s = this.get(sessionIdOf(secret));
    if (!s || !this.isLive(s)) return null;
    const now = this.now();
    if (now.getTime() - s.lastSeenAt.getTime() >= TOUCH_RESOLUTION_MS) {
      prepared(this.db, 'UPDATE officer_sessions SET last_seen_at = ? WHERE id = ? AND revoked_at IS NULL').run(now.toISOString(), s.id);
      return { ...s, lastSeenAt: now };
    }
    return s;
  }

  isLive(s: Session): boolean {
    const now = this.now().getTime();
    return s.revokedAt === null && now < s.expiresAt.getTime() && now < s.lastSeenAt.getTime() + this.timeouts.idleMs;
  }

  /** When the session ends if left alone: the earlier of the idle and the absolute expiry. */
  endsAt(s: Session): Date {
    return new Date(Math.min(s.expiresAt.getTime(), s.lastSeenAt.getTime() + this.timeouts.idleMs));
  }

  revoke(id: string, reason: string): void {
    this.db.prepare('UPDATE officer_sessions SET revoked_at = ?, revoked_reason = ? WHERE id = ? AND revoked_at IS NULL').run(this.now().toISOString(), reason, id);
  }

  /** Live sessions of an officer (for an admin view or a test). */
  listLive(officerId: string): Session[] {
    return (this.db.prepare('SELECT * FROM officer_sessions WHERE officer_id = ? AND revoked_at IS NULL ORDER BY created_at').all(officerId) as SessionRow[])
      .map(toSession)
      .filter((s) => this.isLive(s));
  }

  /** Deletes sessions that ended more than a day ago (they are not evidence; the audit log is). */
  purgeEnded(): number {
    const cutoff = new Date(this.now().getTime() - 86_400_000).toISOString();
    const idleCutoff = new Date(this.now().getTime() - 86_400_000 - this.timeouts.idleMs).toISOString();
    return this.db
      .prepare('DELETE FROM officer_sessions WHERE expires_at < ? OR revoked_at < ? OR last_seen_at < ?')
      .run(cutoff, cutoff, idleCutoff).changes;
  }
}
