/**
 * Admin commands for API access: `apikey create|list|revoke` and `audit list`. Every admin action
 * writes an audit row (actor kind `cli`, the OS user).
 */
import path from 'node:path';
import { loadConfig } from '../config.ts';
import { InputError } from '../errors.ts';
import { ApiKeyRepository, AuditLog, TenantRepository, openDatabase, parseScopes, type ApiKey, type Tenant } from '../registry/index.ts';
import type { Command } from './command.ts';

const cliUser = (): string => process.env.USER ?? process.env.USERNAME ?? 'local';

function withDb<T>(fn: (db: ReturnType<typeof openDatabase>) => T): T {
  const db = openDatabase(path.join(loadConfig().dataDir, 'chungthuc.sqlite'));
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

function tenantByCode(db: ReturnType<typeof openDatabase>, code: unknown): Tenant {
  if (typeof code !== 'string' || code === '') throw new InputError('invalid-parameters', '--tenant CODE is required');
  const t = new TenantRepository(db.db).getByCode(code);
  if (!t) throw new InputError('tenant-not-found', `no tenant with code ${code}`);
  return t;
}

const keyView = (k: ApiKey) => ({
  id: k.id,
  name: k.name,
  prefix: k.prefix,
  scopes: k.scopes,
  allowedCidrs: k.allowedCidrs,
  createdAt: k.createdAt.toISOString(),
  createdBy: k.createdBy,
  revokedAt: k.revokedAt?.toISOString() ?? null,
  lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
});

export const apikeyCreate: Command = {
  path: ['apikey', 'create'],
  summary: 'create an API key for a calling system (the key is printed once; only its hash is kept)',
  usage: '--tenant CODE --name NAME --scopes sign,validate [--cidr 10.0.0.0/8]…',
  options: {
    tenant: [{ type: 'string' }, 'tenant code'],
    name: [{ type: 'string' }, 'what the key is for, e.g. "one-stop system"'],
    scopes: [{ type: 'string' }, 'comma-separated: sign, validate, certify, read-registry, admin'],
    cidr: [{ type: 'string', multiple: true }, 'allowed client address block (repeatable; default any)'],
    json: [{ type: 'boolean' }, 'print JSON (with the key) instead of text'],
  },
  async run(values, _p, io) {
    const { key, token } = withDb((db) => {
      const tenant = tenantByCode(db, values.tenant);
      const created = new ApiKeyRepository(db.db).create({
        tenantId: tenant.id,
        name: typeof values.name === 'string' ? values.name : '',
        scopes: parseScopes(typeof values.scopes === 'string' ? values.scopes.split(',') : []),
        allowedCidrs: Array.isArray(values.cidr) ? (values.cidr as string[]) : undefined,
        createdBy: `cli:${cliUser()}`,
      });
      new AuditLog(db.db).append({
        actorKind: 'cli', actorId: cliUser(), tenantId: tenant.id, action: 'apikey.create', object: `apikey:${created.key.id}`, outcome: 'success',
        details: { name: created.key.name, prefix: created.key.prefix, scopes: created.key.scopes, allowedCidrs: created.key.allowedCidrs },
      });
      return created;
    });
    if (values.json === true) io.out(JSON.stringify({ ...keyView(key), key: token }, null, 2) + '\n');
    else io.out([`API key ${key.id} (${key.name}) scopes=${key.scopes.join(',')}${key.allowedCidrs ? ` from ${key.allowedCidrs.join(',')}` : ''}`, `  ${token}`, '  Store it now: it is not shown again.', ''].join('\n'));
    return 0;
  },
};

export const apikeyList: Command = {
  path: ['apikey', 'list'],
  summary: "list a tenant's API keys (prefixes only, never secrets)",
  usage: '--tenant CODE [--json]',
  options: { tenant: [{ type: 'string' }, 'tenant code'], json: [{ type: 'boolean' }, 'print JSON'] },
  async run(values, _p, io) {
    const keys = withDb((db) => new ApiKeyRepository(db.db).list(tenantByCode(db, values.tenant).id));
    if (values.json === true) io.out(JSON.stringify(keys.map(keyView), null, 2) + '\n');
    else {
      for (const k of keys) {
        const state = k.revokedAt ? `revoked ${k.revokedAt.toISOString()}` : 'active';
        io.out(`${k.id}  ck_${k.prefix}_…  ${k.scopes.join(',').padEnd(20)} ${state.padEnd(32)} ${k.name}\n`);
      }
    }
    return 0;
  },
};

export const apikeyRevoke: Command = {
  path: ['apikey', 'revoke'],
  summary: 'revoke an API key (effective at the next request)',
  usage: 'ID',
  options: {},
  async run(_values, positionals, io) {
    const id = positionals[0];
    if (positionals.length !== 1 || !id) {
      io.err('chungthuc apikey revoke: give exactly one key id\n');
      return 2;
    }
    const key = withDb((db) => {
      const k = new ApiKeyRepository(db.db).revoke(id, `cli:${cliUser()}`);
      new AuditLog(db.db).append({ actorKind: 'cli', actorId: cliUser(), tenantId: k.tenantId, action: 'apikey.revoke', object: `apikey:${k.id}`, outcome: 'success', details: { prefix: k.prefix } });
      return k;
    });
    io.out(`API key ${key.id} (ck_${key.prefix}_…) revoked\n`);
    return 0;
  },
};

export const auditList: Command = {
  path: ['audit', 'list'],
  summary: 'print the audit log (oldest first)',
  usage: '[--since 2026-01-01T00:00:00Z] [--tenant CODE] [--limit N] [--json]',
  options: {
    since: [{ type: 'string' }, 'only entries at or after this ISO 8601 instant'],
    tenant: [{ type: 'string' }, 'only entries of this tenant'],
    limit: [{ type: 'string' }, 'at most N entries (default 1000)'],
    json: [{ type: 'boolean' }, 'print JSON lines'],
  },
  async run(values, _p, io) {
    const since = typeof values.since === 'string' ? new Date(values.since) : undefined;
    if (since && Number.isNaN(since.getTime())) throw new InputError('invalid-parameters', '--since must be an ISO 8601 instant');
    const limit = values.limit === undefined ? undefined : Number(values.limit);
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new InputError('invalid-parameters', '--limit must be a positive integer');
    const rows = withDb((db) => new AuditLog(db.db).list({ since, limit, tenantId: values.tenant === undefined ? undefined : tenantByCode(db, values.tenant).id }));
    for (const r of rows) {
      if (values.json === true) io.out(JSON.stringify({ ...r, at: r.at.toISOString() }) + '\n');
      else io.out(`${r.at.toISOString()}  ${`${r.actorKind}:${r.actorId ?? '-'}`.padEnd(46)} ${r.action.padEnd(22)} ${r.outcome.padEnd(8)} ${String(r.status ?? '').padEnd(4)} ${r.ip ?? '-'}  ${r.object ?? ''}\n`);
    }
    return 0;
  },
};
