/**
 * Officer sign-in, kept in two steps so other ways of proving identity can be added:
 *
 *   1. authenticate — find out WHO: `passwordLogin` checks a username and password (scrypt,
 *      lockout). An OIDC sign-in would be a second such step: the HTTP callback route verifies the
 *      ID token (issuer, audience, nonce, signature), maps its `sub`/`preferred_username` to an
 *      officer (e.g. OfficerRepository.getByUsername), refuses disabled accounts, and then calls
 *      step 2 with method 'oidc'. Nothing below step 2 changes.
 *   2. `login(officer, method)` — start a session, whatever the method was.
 *
 * The session cookie, CSRF header and principal are the HTTP layer's (src/http/access/).
 */
import {
  DUMMY_PASSWORD_HASH,
  ROLE_SCOPES,
  verifyPassword,
  type ApiScope,
  type AuthMethod,
  type LockoutPolicy,
  type Officer,
  type OfficerRepository,
  type Session,
  type SessionRepository,
  type Tenant,
  type TenantRepository,
} from '../registry/index.ts';

export interface OfficerSessionDeps {
  officers: OfficerRepository;
  sessions: SessionRepository;
  tenants: TenantRepository;
  lockout: LockoutPolicy;
  now?: () => Date;
  /** Most unknown or disabled usernames whose failures are counted at once (10 000). */
  unlockableTracked?: number;
}

export interface ClientInfo {
  ip: string | null;
  userAgent: string | null;
}

export type PasswordLoginResult =
  | { ok: true; officer: Officer; session: Session; secret: string }
  /** `invalid`: unknown user, wrong password or disabled account — one answer for all three. */
  | { ok: false; reason: 'invalid'; officer: Officer | null }
  /** `locked`: too many failures in a row — for an unknown or disabled name too (then `officer` is that account or null). */
  | { ok: false; reason: 'locked'; officer: Officer | null; retryAfterSeconds: number };

/** An officer, their tenant and their scopes: what a live session stands for. */
export interface SignedInOfficer {
  officer: Officer;
  tenant: Tenant;
  scopes: readonly ApiScope[];
  session: Session;
}

/** Most usernames without a lockable account whose failures are counted at once (oldest forgotten first). */
const UNLOCKABLE_TRACKED = 10_000;

export class OfficerSessions {
  private readonly now: () => Date;
  /**
   * Failures against usernames that have no lockable account (unknown or disabled), counted in memory
   * with the same policy as an account's: such a name "locks" like a real one, so the lockout answer
   * does not tell which usernames exist.
   */
  private readonly unlockable = new Map<string, { failures: number; lockedUntilMs: number }>();

  constructor(private readonly deps: OfficerSessionDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /**
   * Makes room, never by forgetting `counting` (the name just counted, which must be able to lock):
   * the least recently failed other name that is not locked goes first. A locked name is kept
   * (forgetting it early would unlock it, unlike a real account: the oracle again) unless every other
   * tracked name is locked, when the oldest of them goes.
   */
  private forgetOneUnlockable(counting: string): void {
    const now = this.now().getTime();
    let oldest: string | undefined;
    for (const [name, e] of this.unlockable) {
      if (name === counting) continue;
      oldest ??= name;
      if (e.lockedUntilMs <= now) {
        this.unlockable.delete(name);
        return;
      }
    }
    if (oldest !== undefined) this.unlockable.delete(oldest);
  }

  private unlockableLockedFor(name: string): number {
    const ms = (this.unlockable.get(name)?.lockedUntilMs ?? 0) - this.now().getTime();
    return ms > 0 ? Math.ceil(ms / 1000) : 0;
  }

  private unlockableFailed(name: string): number {
    const entry = this.unlockable.get(name) ?? { failures: 0, lockedUntilMs: 0 };
    this.unlockable.delete(name);
    entry.failures += 1;
    if (entry.failures >= this.deps.lockout.maxFailures) {
      entry.failures = 0;
      entry.lockedUntilMs = this.now().getTime() + this.deps.lockout.lockMs;
    }
    this.unlockable.set(name, entry);
    if (this.unlockable.size > (this.deps.unlockableTracked ?? UNLOCKABLE_TRACKED)) this.forgetOneUnlockable(name);
    return this.unlockableLockedFor(name);
  }

  private lockedFor(o: Officer): number {
    const ms = o.lockedUntil === null ? 0 : o.lockedUntil.getTime() - this.now().getTime();
    return ms > 0 ? Math.ceil(ms / 1000) : 0;
  }

  /**
   * Step 1 for passwords. Every path costs one scrypt comparison (the dummy hash for unknown users,
   * locked and disabled accounts), so timing tells nothing about which usernames exist.
   */
  async passwordLogin(username: string, password: string, client: ClientInfo): Promise<PasswordLoginResult> {
    const officer = this.deps.officers.getByUsername(username);
    const lockable = officer !== null && officer.disabledAt === null;
    const name = username.trim().toLowerCase();
    const stored = officer ? this.deps.officers.passwordHash(officer.id) : null;
    const locked = lockable ? this.lockedFor(officer) : this.unlockableLockedFor(name);
    const usable = lockable && locked === 0;
    const matches = await verifyPassword(password, usable && stored ? stored : DUMMY_PASSWORD_HASH);
    if (locked > 0) return { ok: false, reason: 'locked', officer, retryAfterSeconds: locked };
    if (!usable || !matches) {
      const nowLocked = lockable ? this.lockedFor(this.deps.officers.recordFailedLogin(officer.id, this.deps.lockout)) : this.unlockableFailed(name);
      if (nowLocked > 0) return { ok: false, reason: 'locked', officer, retryAfterSeconds: nowLocked };
      return { ok: false, reason: 'invalid', officer };
    }
    this.deps.officers.recordSuccessfulLogin(officer.id);
    return { ok: true, officer, ...this.login(officer, 'password', client) };
  }

  /**
   * An officer changes their own password. The current one must match — a wrong one counts toward
   * the lockout like a failed sign-in. Every session of the officer ends (a stolen session or another
   * device is signed out) and a fresh one is started for this client.
   */
  async changeOwnPassword(
    officerId: string,
    current: string,
    next: string,
    client: ClientInfo,
  ): Promise<{ ok: true; officer: Officer; session: Session; secret: string } | { ok: false; reason: 'invalid' } | { ok: false; reason: 'locked'; retryAfterSeconds: number }> {
    const officer = this.deps.officers.get(officerId);
    if (!officer || officer.disabledAt !== null) return { ok: false, reason: 'invalid' };
    const stored = this.deps.officers.passwordHash(officer.id);
    if (!(await verifyPassword(current, stored ?? DUMMY_PASSWORD_HASH)) || stored === null) {
      const after = this.deps.officers.recordFailedLogin(officer.id, this.deps.lockout);
      const locked = this.lockedFor(after);
      return locked > 0 ? { ok: false, reason: 'locked', retryAfterSeconds: locked } : { ok: false, reason: 'invalid' };
    }
    const updated = await this.deps.officers.setPassword(officer.id, next);
    return { ok: true, officer: updated, ...this.login(updated, 'password', client) };
  }

  /** Step 2: starts a session for an officer already authenticated by `method`. */
  login(officer: Officer, method: AuthMethod, client: ClientInfo): { session: Session; secret: string } {
    return this.deps.sessions.create({ officerId: officer.id, authMethod: method, ip: client.ip, userAgent: client.userAgent });
  }

  /**
   * The officer behind a cookie secret, or null: no such live session, or the account is now
   * disabled (checked on every request, so disabling takes effect at once; a lock only stops sign-ins).
   */
  resume(secret: string): SignedInOfficer | null {
    const session = this.deps.sessions.resume(secret);
    if (!session) return null;
    const officer = this.deps.officers.get(session.officerId);
    // A lock stops password sign-ins, not sessions already open: otherwise anyone knowing a username
    // could sign a working officer out with five wrong passwords.
    if (!officer || officer.disabledAt !== null) return null;
    const tenant = this.deps.tenants.get(officer.tenantId);
    if (!tenant) return null;
    return { officer, tenant, scopes: ROLE_SCOPES[officer.role], session };
  }

  /** The same as `resume`, for a session already resumed in this request (by its id). */
  current(sessionId: string): SignedInOfficer | null {
    const session = this.deps.sessions.get(sessionId);
    if (!session || !this.deps.sessions.isLive(session)) return null;
    const officer = this.deps.officers.get(session.officerId);
    const tenant = officer ? this.deps.tenants.get(officer.tenantId) : null;
    if (!officer || !tenant || officer.disabledAt !== null) return null;
    return { officer, tenant, scopes: ROLE_SCOPES[officer.role], session };
  }

  logout(sessionId: string): void {
    this.deps.sessions.revoke(sessionId, 'logout');
  }

  /** When the session ends if left alone (idle or absolute, whichever is first). */
  endsAt(session: Session): Date {
    return this.deps.sessions.endsAt(session);
  }
}
