/** Test factories for API access: tenants and keys made through the real CLI against a running service's database. */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { main } from '../../../src/cli/main.ts';
import { certificateHolder } from '../../../src/services/keyHolder.ts';
import { DEV_PATHS } from '../../support/hsm.ts';
import type { TestService } from '../../support/service.ts';

export async function cli(svc: TestService, argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const saved = process.env.DATA_DIR;
  process.env.DATA_DIR = svc.dataDir;
  try {
    const code = await main(argv, { out: (t) => out.push(t), err: (t) => err.push(t) });
    return { code, out: out.join(''), err: err.join('') };
  } finally {
    if (saved === undefined) delete process.env.DATA_DIR;
    else process.env.DATA_DIR = saved;
  }
}

export interface CreatedKey {
  id: string;
  key: string;
  prefix: string;
}

/** A tenant that may sign with the given HSM keys (default: the dev seal and officers). */
export async function createTenant(svc: TestService, code: string, keys: readonly string[] = ['seal', 'officer1', 'officer2']): Promise<void> {
  const r = await cli(svc, ['tenant', 'create', '--code', code, '--name', `UBND xã ${code}`]);
  if (r.code !== 0) throw new Error(r.err);
  for (const key of keys) {
    const k = await cli(svc, ['tenant', 'allow-key', '--tenant', code, '--key', key]);
    if (k.code !== 0) throw new Error(k.err);
  }
}

export async function createKey(svc: TestService, tenant: string, scopes: string, cidrs: string[] = []): Promise<CreatedKey> {
  const r = await cli(svc, ['apikey', 'create', '--tenant', tenant, '--name', `test ${scopes}`, '--scopes', scopes, ...cidrs.flatMap((c) => ['--cidr', c]), '--json']);
  if (r.code !== 0) throw new Error(r.err);
  return JSON.parse(r.out) as CreatedKey;
}

export const bearer = (k: { key: string } | string): Record<string, string> => ({ authorization: `Bearer ${typeof k === 'string' ? k : k.key}` });

export interface CreatedOfficer {
  id: string;
  username: string;
  password: string;
}

/** The name in the dev certificate of an HSM key (`certs/<label>.pem`): an officer holding that key must bear it. */
export function holderOf(keyLabel: string): string {
  return certificateHolder(new Uint8Array(new X509Certificate(readFileSync(path.join(DEV_PATHS.certsDir, `${keyLabel}.pem`))).raw))!;
}

/**
 * An officer made through the real CLI (`officer create`); the password is the generated one unless
 * given. Role defaults to `officer`; `key` is the personal HSM key label (one of the tenant's keys).
 */
export async function createOfficer(
  svc: TestService,
  tenant: string,
  username: string,
  opts: { role?: 'officer' | 'supervisor' | 'admin'; key?: string; name?: string; title?: string } = {},
): Promise<CreatedOfficer> {
  const r = await cli(svc, [
    'officer', 'create', '--tenant', tenant, '--username', username,
    '--name', opts.name ?? (opts.key ? holderOf(opts.key) : `Nguyễn Văn ${username}`), '--title', opts.title ?? 'Phó Chủ tịch UBND xã',
    '--role', opts.role ?? 'officer', ...(opts.key ? ['--key', opts.key] : []), '--json',
  ]);
  if (r.code !== 0) throw new Error(r.err);
  const o = JSON.parse(r.out) as { id: string; username: string; password: string };
  return { id: o.id, username: o.username, password: o.password };
}

export interface OfficerLogin {
  /** `ct_session=<secret>`, ready for a Cookie header. */
  cookie: string;
  csrfToken: string;
  /** The session JSON of POST /api/v1/session. */
  body: { officer: { id: string; username: string; role: string; scopes: string[]; tenant: { id: string; code: string; name: string } }; csrfToken: string; expiresAt: string };
}

/** Signs in through POST /api/v1/session; throws unless it answers 200 with the cookie. */
export async function loginOfficer(svc: { url: string }, username: string, password: string): Promise<OfficerLogin> {
  const res = await fetch(`${svc.url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`login of ${username} answered ${res.status}: ${text}`);
  const cookie = /^(ct_session=[^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1];
  if (!cookie) throw new Error('login set no ct_session cookie');
  const body = JSON.parse(text) as OfficerLogin['body'];
  return { cookie, csrfToken: body.csrfToken, body };
}

/** Headers of a request made in an officer's session (the CSRF header is what unsafe methods need). */
export const session = (l: OfficerLogin): Record<string, string> => ({ cookie: l.cookie, 'x-csrf-token': l.csrfToken });
