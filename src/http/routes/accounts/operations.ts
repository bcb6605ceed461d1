/** Catalogue entries of officer sessions, accounts, API keys and audit over HTTP (issue #6); src/http/operations.ts includes them. */
import { json, jsonBody, type Operation } from '../../operationParts.ts';
import { auditQuery, changePasswordBody, createApiKeyBody, createOfficerBody, idParam, loginBody, pageQuery, updateOfficerBody } from './schema.ts';

const tag = 'accounts';

const sessionJson = json('{ officer: { id, username, displayName, title, role, scopes, signingKeyLabel, tenant: { id, code, name } }, csrfToken, expiresAt }');
const page = (item: string) => json(`{ items: [${item}], nextCursor: string | null }`);
const officerJson = 'Officer { id, tenantId, username, displayName, title, role, scopes, signingKeyLabel, disabled, disabledAt, lockedUntil, createdAt, passwordChangedAt }';
const apiKeyJson = 'ApiKey { id, name, prefix, scopes, allowedCidrs, createdAt, createdBy, revokedAt, lastUsedAt }';

export const ACCOUNT_OPERATIONS: readonly Operation[] = [
  {
    method: 'POST', path: '/api/v1/session', operationId: 'session.create', tag, access: 'public', audit: true,
    summary: 'officer sign-in with username and password: sets the ct_session cookie',
    description:
      'Answers the session and its CSRF token; the cookie is HttpOnly, SameSite=Strict, Secure under https. Every later request that is not GET/HEAD/OPTIONS must send `X-CSRF-Token: <csrfToken>` (or form field `_csrf`). ' +
      'Wrong username or password (or a disabled account) → 401 `login-failed`, one answer for all; after repeated failures the account locks → 423 `account-locked`; too many failures from one address → 429.',
    requestBody: jsonBody(loginBody),
    responses: {
      '200': { description: 'signed in (Set-Cookie: ct_session=…)', content: sessionJson },
      '401': { description: 'login-failed' },
      '423': { description: 'account-locked (retryAfterSeconds)' },
      '429': { description: 'too-many-requests from this address' },
    },
  },
  {
    method: 'GET', path: '/api/v1/session', operationId: 'session.read', tag, access: 'authenticated', audit: false,
    summary: 'the signed-in officer and the CSRF token of the session',
    responses: { '200': { description: 'the session', content: sessionJson } },
  },
  {
    method: 'DELETE', path: '/api/v1/session', operationId: 'session.delete', tag, access: 'authenticated', audit: true,
    summary: 'sign out: ends the session and clears the cookie',
    responses: { '204': { description: 'signed out' } },
  },
  {
    method: 'POST', path: '/api/v1/session/password', operationId: 'session.changePassword', tag, access: 'authenticated', audit: true, durableAct: true,
    summary: "the signed-in officer changes their own password",
    description:
      'Needs the current password (a wrong one → 403 `current-password-wrong`, counted toward the lockout → 423 `account-locked`). ' +
      "Every session of the officer ends; this client gets a new one (new cookie, new CSRF token in the answer). API keys → 401.",
    requestBody: jsonBody(changePasswordBody),
    responses: { '200': { description: 'the new session', content: sessionJson } },
  },
  {
    method: 'GET', path: '/api/v1/officers', operationId: 'officers.list', tag, access: 'admin', audit: false,
    summary: "the caller's tenant's officers, by username",
    query: pageQuery,
    responses: { '200': { description: 'a page of officers', content: page(officerJson) } },
  },
  {
    method: 'GET', path: '/api/v1/signing-keys', operationId: 'signingKeys.list', tag, access: 'admin', audit: false,
    summary: "the caller's tenant's HSM keys, each with what it is for: the seal's, an officer's personal key, or free",
    description:
      'The keys the tenant may sign with (`chungthuc tenant allow-key`), by label. `use`: `seal` (the tenant\'s seal key: never a personal key), `personal` (the key of the active officer in `holder`), `free` (can be given to an officer as `signingKeyLabel`). `certificateName`: the CN of the key\'s certificate in the HSM (null when not at hand); an officer given the key must bear that name.',
    responses: { '200': { description: 'the keys', content: json("{ items: [{ label, use: 'seal' | 'personal' | 'free', holder: { id, username } | null, certificateName: string | null }] }") } },
  },
  {
    method: 'POST', path: '/api/v1/officers', operationId: 'officers.create', tag, access: 'admin', audit: true, idempotent: true,
    summary: 'create an officer account in the caller’s tenant',
    description: 'Without `password`, a strong one is generated and returned once in `password`.',
    requestBody: jsonBody(createOfficerBody),
    responses: {
      '201': { description: 'created', content: json(`{ officer: ${officerJson}, password?: string }`) },
      '409': { description: 'username-taken' },
      '422': { description: "signing-key-not-allowed, signing-key-name-mismatch (the key's certificate names someone else), password-too-weak" },
    },
  },
  {
    method: 'PATCH', path: '/api/v1/officers/{id}', operationId: 'officers.update', tag, access: 'admin', audit: true, durableAct: true,
    summary: 'change, disable/enable an officer, or reset their password',
    pathParams: idParam,
    requestBody: jsonBody(updateOfficerBody),
    responses: {
      '200': { description: 'the officer as it now stands (and a generated password, once)', content: json(`{ officer: ${officerJson}, password?: string }`) },
      '404': { description: 'officer-not-found (also for another tenant’s officer)' },
      '409': { description: 'own-account: an admin cannot disable or demote themselves' },
      '422': { description: "signing-key-name-mismatch: the officer's name and their key's certificate would name two people" },
    },
  },
  {
    method: 'GET', path: '/api/v1/api-keys', operationId: 'apikeys.list', tag, access: 'admin', audit: false,
    summary: "the caller's tenant's API keys (prefixes only, never secrets)",
    query: pageQuery,
    responses: { '200': { description: 'a page of keys', content: page(apiKeyJson) } },
  },
  {
    method: 'POST', path: '/api/v1/api-keys', operationId: 'apikeys.create', tag, access: 'admin', audit: true, idempotent: true,
    summary: 'create an API key for the caller’s tenant; the key is in the answer, once',
    requestBody: jsonBody(createApiKeyBody),
    responses: { '201': { description: 'created', content: json(`{ apiKey: ${apiKeyJson}, key: "ck_<prefix>_<secret>" }`) } },
  },
  {
    method: 'DELETE', path: '/api/v1/api-keys/{id}', operationId: 'apikeys.revoke', tag, access: 'admin', audit: true, durableAct: true,
    summary: 'revoke an API key (effective at the next request)',
    pathParams: idParam,
    responses: {
      '200': { description: 'the revoked key', content: json(apiKeyJson) },
      '404': { description: 'api-key-not-found (also for another tenant’s key)' },
      '409': { description: 'api-key-revoked: already revoked' },
    },
  },
  {
    method: 'GET', path: '/api/v1/audit', operationId: 'audit.list', tag, access: 'admin', audit: false,
    summary: "the caller's tenant's audit log, oldest first",
    query: auditQuery,
    responses: { '200': { description: 'a page of audit entries', content: page('{ id, at, actorKind, actorId, action, object, outcome, status, ip, requestId, details }') } },
  },
];
