/**
 * Officer sessions and the tenant administration API (issue #6):
 *   POST/GET/DELETE /api/v1/session — sign in (password), who am I, sign out;
 *   /api/v1/officers, /api/v1/signing-keys, /api/v1/api-keys, /api/v1/audit — admin scope, the caller's own tenant only
 *   (another tenant's officer or key answers 404, as if it did not exist).
 * The access middleware has already authenticated the caller; handlers read the tenant from it.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import {
  generatePassword,
  parseCidr,
  RegistryError,
  type ApiKeyRepository,
  type AuditLog,
  type Officer,
  type OfficerRepository,
} from '../../../registry/index.ts';
import { checkKeyHolder } from '../../../services/keyHolder.ts';
import type { OfficerSessions } from '../../../services/officerSessions.ts';
import { readJson } from '../../body.ts';
import { idempotentJson, type IdempotencyDeps } from '../../idempotency.ts';
import type { AppState } from '../../middleware.ts';
import { HttpError } from '../../problem.ts';
import { actorOf, callerOf, clientAddress, tooManyFailures, type Caller } from '../../access/authenticate.ts';
import type { FailureThrottle } from '../../access/FailureThrottle.ts';
import { clearSessionCookie, setSessionCookie, type CookieOptions } from '../../access/sessionCookie.ts';
import { apiKeyJson, auditJson, officerJson, pageOf, sessionJson } from './presenter.ts';
import { auditQuery, changePasswordBody, createApiKeyBody, createOfficerBody, idParam, loginBody, pageQuery, parse, updateOfficerBody } from './schema.ts';

export interface AccountsRouteDeps {
  sessions: OfficerSessions;
  officers: OfficerRepository;
  apiKeys: ApiKeyRepository;
  audit: AuditLog;
  /** Failed sign-ins count against the same per-address budget as bad API keys. */
  throttle: FailureThrottle;
  cookie: CookieOptions;
  /** Creating POSTs (officers, API keys) honour Idempotency-Key. */
  idempotency: IdempotencyDeps;
  /** The holder's name in the certificate of an HSM key (undefined: not at hand): an officer and their personal key must be one person. */
  keyHolder?: (keyLabel: string) => Promise<string | undefined>;
}

type Ctx = Context & { state: AppState };

/** The signed-in officer of this request, or 401 (API keys have no session). */
function sessionOf(ctx: Ctx, deps: AccountsRouteDeps) {
  const p = callerOf(ctx);
  const who = p.kind === 'officer' ? deps.sessions.current(p.sessionId) : null;
  if (!who) throw new HttpError('unauthenticated', 'this operation needs an officer session (sign in with POST /api/v1/session)', { status: 401 });
  return who;
}

/** An officer of the caller's tenant, or 404 — another tenant's officer is not even acknowledged. */
function ownOfficer(deps: AccountsRouteDeps, caller: Caller, id: string): Officer {
  const o = deps.officers.get(id);
  if (!o || o.tenantId !== caller.tenantId) throw new RegistryError('officer-not-found', `no officer ${id}`, { status: 404 });
  return o;
}

export function accountsRouter(deps: AccountsRouteDeps): Router<AppState> {
  const router = new Router<AppState>({ prefix: '/api/v1', sensitive: true });

  router.post('/session', async (ctx) => {
    const ip = clientAddress(ctx.ip);
    const wait = deps.throttle.retryAfterSeconds(ip);
    if (wait > 0) {
      ctx.state.authFailure = { reason: 'throttled' };
      throw tooManyFailures(ctx, wait);
    }
    const body = parse(loginBody, await readJson(ctx, ctx.state.bodyLimit));
    const r = await deps.sessions.passwordLogin(body.username, body.password, { ip, userAgent: ctx.get('user-agent') || null });
    ctx.state.audit = { object: r.officer ? `officer:${r.officer.id}` : undefined, details: { username: body.username.slice(0, 64).toLowerCase() } };
    if (!r.ok) {
      deps.throttle.fail(ip);
      ctx.state.authFailure = { reason: r.reason === 'locked' ? 'locked' : 'login-failed', officerId: r.officer?.id, tenantId: r.officer?.tenantId };
      if (r.reason === 'locked') {
        ctx.set('Retry-After', String(r.retryAfterSeconds));
        throw new HttpError('account-locked', `too many failed sign-ins: the account is locked for ${r.retryAfterSeconds} s`, {
          status: 423,
          details: { retryAfterSeconds: r.retryAfterSeconds },
        });
      }
      throw new HttpError('login-failed', 'wrong username or password', { status: 401 });
    }
    setSessionCookie(ctx, r.secret, deps.cookie);
    const who = deps.sessions.current(r.session.id)!;
    ctx.state.principal = { kind: 'officer', officerId: r.officer.id, tenantId: r.officer.tenantId, username: r.officer.username, role: r.officer.role, scopes: who.scopes, sessionId: r.session.id };
    ctx.body = sessionJson(who, deps.sessions.endsAt(r.session));
  });

  router.post('/session/password', async (ctx) => {
    const who = sessionOf(ctx, deps);
    const body = parse(changePasswordBody, await readJson(ctx, ctx.state.bodyLimit));
    ctx.state.audit = { object: `officer:${who.officer.id}` };
    const r = await deps.sessions.changeOwnPassword(who.officer.id, body.currentPassword, body.newPassword, { ip: clientAddress(ctx.ip), userAgent: ctx.get('user-agent') || null });
    if (!r.ok) {
      if (r.reason === 'locked') {
        ctx.set('Retry-After', String(r.retryAfterSeconds));
        throw new HttpError('account-locked', `too many wrong passwords: the account is locked for ${r.retryAfterSeconds} s`, { status: 423, details: { retryAfterSeconds: r.retryAfterSeconds } });
      }
      throw new HttpError('current-password-wrong', 'the current password is not right', { status: 403 });
    }
    // All the officer's sessions ended with the change; this client continues in a new one.
    setSessionCookie(ctx, r.secret, deps.cookie);
    const now = deps.sessions.current(r.session.id)!;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = sessionJson(now, deps.sessions.endsAt(r.session));
  });

  router.get('/session', (ctx) => {
    const who = sessionOf(ctx, deps);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = sessionJson(who, deps.sessions.endsAt(who.session));
  });

  router.delete('/session', (ctx) => {
    const who = sessionOf(ctx, deps);
    deps.sessions.logout(who.session.id);
    clearSessionCookie(ctx, deps.cookie);
    ctx.state.audit = { object: `officer:${who.officer.id}` };
    ctx.status = 204;
  });

  router.get('/officers', (ctx) => {
    const caller = callerOf(ctx, 'admin');
    const q = parse(pageQuery, ctx.query);
    const rows = deps.officers.list(caller.tenantId, { after: q.cursor, limit: q.limit + 1 });
    ctx.body = pageOf(rows, q.limit, (o) => o.username, (o) => officerJson(o));
  });

  router.get('/signing-keys', async (ctx) => {
    const caller = callerOf(ctx, 'admin');
    const keys = deps.officers.signingKeys(caller.tenantId);
    ctx.body = { items: await Promise.all(keys.map(async (k) => ({ ...k, certificateName: (await deps.keyHolder?.(k.label)) ?? null }))) };
  });

  router.post('/officers', async (ctx) => {
    const caller = callerOf(ctx, 'admin');
    const body = parse(createOfficerBody, await readJson(ctx, ctx.state.bodyLimit));
    // A chosen password is no part of the stored request identity (not even hashed: a fast hash
    // would undo scrypt); the same key with another password replays the first answer.
    const identity = { ...body, password: body.password === undefined ? undefined : '(chosen)' };
    await idempotentJson(ctx, deps.idempotency, identity, async () => {
      if (body.signingKeyLabel && deps.keyHolder) await checkKeyHolder(deps.keyHolder, body.signingKeyLabel, body.displayName);
      const password = body.password ?? generatePassword();
      const officer = await deps.officers.create({ ...body, tenantId: caller.tenantId, password, createdBy: actorOf(caller) });
      ctx.state.audit = { object: `officer:${officer.id}`, details: { username: officer.username, role: officer.role, signingKeyLabel: officer.signingKeyLabel } };
      const generated = body.password === undefined;
      return {
        status: 201,
        headers: { 'Cache-Control': 'no-store' },
        body: { officer: officerJson(officer), ...(generated ? { password } : {}) },
        replay: { officer: officerJson(officer), ...(generated ? { password: null } : {}) },
      };
    });
  });

  router.patch('/officers/:id', async (ctx) => {
    const caller = callerOf(ctx, 'admin');
    const { id } = parse(idParam, ctx.params);
    const body = parse(updateOfficerBody, await readJson(ctx, ctx.state.bodyLimit));
    let officer = ownOfficer(deps, caller, id);
    // An admin cannot lock themselves out (nor leave the tenant without its last admin that way).
    if (caller.kind === 'officer' && caller.officerId === id && (body.disabled === true || (body.role !== undefined && body.role !== 'admin'))) {
      throw new HttpError('own-account', 'an admin cannot disable or demote their own account', { status: 409 });
    }
    ctx.state.audit = {
      object: `officer:${id}`,
      details: {
        changed: Object.keys(body).filter((k) => k !== 'password'),
        ...(body.password !== undefined ? { passwordSet: true } : {}),
      },
    };
    const { displayName, title, role, signingKeyLabel } = body;
    const key = signingKeyLabel === undefined ? officer.signingKeyLabel : signingKeyLabel;
    if (key && deps.keyHolder && (displayName !== undefined || signingKeyLabel !== undefined)) await checkKeyHolder(deps.keyHolder, key, displayName ?? officer.displayName);
    if ([displayName, title, role, signingKeyLabel].some((v) => v !== undefined)) officer = deps.officers.update(id, { displayName, title, role, signingKeyLabel });
    if (body.disabled === true) officer = deps.officers.disable(id);
    if (body.disabled === false) officer = deps.officers.enable(id);
    const generated = body.resetPassword ? generatePassword() : undefined;
    const newPassword = body.password ?? generated;
    if (newPassword !== undefined) officer = await deps.officers.setPassword(id, newPassword);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { officer: officerJson(officer), ...(generated !== undefined ? { password: generated } : {}) };
  });

  router.get('/api-keys', (ctx) => {
    const caller = callerOf(ctx, 'admin');
    const q = parse(pageQuery, ctx.query);
    // A tenant has few keys: page over the ordered list.
    const all = deps.apiKeys.list(caller.tenantId);
    const start = q.cursor === undefined ? 0 : all.findIndex((k) => k.id === q.cursor) + 1;
    ctx.body = pageOf(all.slice(start, start + q.limit + 1), q.limit, (k) => k.id, apiKeyJson);
  });

  router.post('/api-keys', async (ctx) => {
    const caller = callerOf(ctx, 'admin');
    const body = parse(createApiKeyBody, await readJson(ctx, ctx.state.bodyLimit));
    await idempotentJson(ctx, deps.idempotency, body, async () => {
      const { key, token } = deps.apiKeys.create({ tenantId: caller.tenantId, name: body.name, scopes: body.scopes, allowedCidrs: body.allowedCidrs?.map(parseCidr), createdBy: actorOf(caller) });
      ctx.state.audit = { object: `apikey:${key.id}`, details: { name: key.name, prefix: key.prefix, scopes: key.scopes, allowedCidrs: key.allowedCidrs } };
      // The secret is shown once: a replay names the same key with `key: null` (it is never stored).
      return { status: 201, headers: { 'Cache-Control': 'no-store' }, body: { apiKey: apiKeyJson(key), key: token }, replay: { apiKey: apiKeyJson(key), key: null } };
    });
  });

  router.delete('/api-keys/:id', (ctx) => {
    const caller = callerOf(ctx, 'admin');
    const { id } = parse(idParam, ctx.params);
    const existing = deps.apiKeys.get(id);
    if (!existing || existing.tenantId !== caller.tenantId) throw new RegistryError('api-key-not-found', `no API key ${id}`, { status: 404 });
    ctx.state.audit = { object: `apikey:${id}`, details: { prefix: existing.prefix } };
    ctx.body = apiKeyJson(deps.apiKeys.revoke(id, actorOf(caller)));
  });

  router.get('/audit', (ctx) => {
    const caller = callerOf(ctx, 'admin');
    const q = parse(auditQuery, ctx.query);
    const afterId = q.cursor === undefined ? undefined : Number(q.cursor);
    if (afterId !== undefined && !Number.isSafeInteger(afterId)) throw new HttpError('invalid-parameters', 'cursor: not a cursor of this list', { status: 400 });
    const rows = deps.audit.list({ tenantId: caller.tenantId, since: q.since === undefined ? undefined : new Date(q.since), afterId, limit: q.limit + 1 });
    ctx.body = pageOf(rows, q.limit, (r) => String(r.id), auditJson);
  });

  return router;
}
