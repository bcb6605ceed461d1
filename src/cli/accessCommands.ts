/**
 * Admin commands for API access: `apikey create|list|revoke`, `officer create|list|disable|reset-password`
 * and `audit list`. Every admin action
 * writes an audit row (actor kind `cli`, the OS user).
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../errors.ts';
import {
  API_SCOPES,
  ApiKeyRepository,
  AuditLog,
  OfficerRepository,
  TenantRepository,
  checkPasswordPolicy,
  generatePassword,
  parseScopes,
  type OpenedDatabase,
  type Officer,
  type OfficerRole,
  type Tenant,
} from '../registry/index.ts';
import { apiKeyJson } from '../http/routes/accounts/presenter.ts';
import type { Command } from './command.ts';
import { checkKeyHolder } from '../services/keyHolder.ts';
import { withRegister, withRegisterAsync } from './register.ts';
import { tokenKeyHolder } from './signingContext.ts';

const cliUser = (): string => process.env.USER ?? process.env.USERNAME ?? 'local';

function tenantByCode(db: OpenedDatabase, code: unknown): Tenant {
  if (typeof code !== 'string' || code === '') throw new InputError('invalid-parameters', '--tenant CODE is required');
  const t = new TenantRepository(db.db).getByCode(code);
  if (!t) throw new InputError('tenant-not-found', `no tenant with code ${code}`);
  return t;
}

/**
 * Appends the audit row of an act already committed. A failure (the database busy past its timeout, a full
 * disk) is handed back instead of thrown: the act's secret — the API key, the generated password — must
 * still be printed before the command fails, or the key or account would exist with a secret nobody has.
 */
function auditAfter(append: () => void): unknown {
  try {
    append();
    return undefined;
  } catch (err) {
    return err;
  }
}

/** The same JSON as the admin API's (GET /api/v1/api-keys). */
const keyView = apiKeyJson;

export const apikeyCreate: Command = {
  path: ['apikey', 'create'],
  summary: 'create an API key for a calling system (the key is printed once; only its hash is kept)',
  usage: '--tenant CODE --name NAME --scopes sign,validate [--cidr 10.0.0.0/8]…',
  options: {
    tenant: [{ type: 'string' }, 'tenant code'],
    name: [{ type: 'string' }, 'what the key is for, e.g. "one-stop system"'],
    scopes: [{ type: 'string' }, `comma-separated: ${API_SCOPES.join(', ')}`],
    cidr: [{ type: 'string', multiple: true }, 'allowed client address block (repeatable; default any)'],
    json: [{ type: 'boolean' }, 'print JSON (with the key) instead of text'],
  },
  async run(values, _p, io) {
    const { key, token, auditFailure } = withRegister((db) => {
      const tenant = tenantByCode(db, values.tenant);
      const created = new ApiKeyRepository(db.db).create({
        tenantId: tenant.id,
        name: typeof values.name === 'string' ? values.name : '',
        scopes: parseScopes(typeof values.scopes === 'string' ? values.scopes.split(',') : []),
        allowedCidrs: Array.isArray(values.cidr) ? (values.cidr as string[]) : undefined,
        createdBy: `cli:${cliUser()}`,
      });
      const failure = auditAfter(() =>
        new AuditLog(db.db).append({
          actorKind: 'cli', actorId: cliUser(), tenantId: tenant.id, action: 'apikey.create', object: `apikey:${created.key.id}`, outcome: 'success',
          details: { name: created.key.name, prefix: created.key.prefix, scopes: created.key.scopes, allowedCidrs: created.key.allowedCidrs },
        }),
      );
      return { ...created, auditFailure: failure };
    });
    if (values.json === true) io.out(JSON.stringify({ ...keyView(key), key: token }, null, 2) + '\n');
    else io.out([`API key ${key.id} (${key.name}) scopes=${key.scopes.join(',')}${key.allowedCidrs ? ` from ${key.allowedCidrs.join(',')}` : ''}`, `  ${token}`, '  Store it now: it is not shown again.', ''].join('\n'));
    if (auditFailure !== undefined) throw auditFailure;
    return 0;
  },
};

export const apikeyList: Command = {
  path: ['apikey', 'list'],
  summary: "list a tenant's API keys (prefixes only, never secrets)",
  usage: '--tenant CODE [--json]',
  options: { tenant: [{ type: 'string' }, 'tenant code'], json: [{ type: 'boolean' }, 'print JSON'] },
  async run(values, _p, io) {
    const keys = withRegister((db) => new ApiKeyRepository(db.db).list(tenantByCode(db, values.tenant).id));
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
  operands: true,
  options: {},
  async run(_values, positionals, io) {
    const id = positionals[0];
    if (positionals.length !== 1 || !id) {
      io.err('chungthuc apikey revoke: give exactly one key id\n');
      return 2;
    }
    const key = withRegister((db) => {
      const k = new ApiKeyRepository(db.db).revoke(id, `cli:${cliUser()}`);
      new AuditLog(db.db).append({ actorKind: 'cli', actorId: cliUser(), tenantId: k.tenantId, action: 'apikey.revoke', object: `apikey:${k.id}`, outcome: 'success', details: { prefix: k.prefix } }, { durable: true });
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
    const rows = withRegister((db) => new AuditLog(db.db).list({ since, limit, tenantId: values.tenant === undefined ? undefined : tenantByCode(db, values.tenant).id }));
    for (const r of rows) {
      if (values.json === true) io.out(JSON.stringify({ ...r, at: r.at.toISOString() }) + '\n');
      else io.out(`${r.at.toISOString()}  ${`${r.actorKind}:${r.actorId ?? '-'}`.padEnd(46)} ${r.action.padEnd(22)} ${r.outcome.padEnd(8)} ${String(r.status ?? '').padEnd(4)} ${r.ip ?? '-'}  ${r.object ?? ''}\n`);
    }
    return 0;
  },
};

const officerView = (o: Officer) => ({
  id: o.id,
  username: o.username,
  displayName: o.displayName,
  title: o.title,
  role: o.role,
  signingKeyLabel: o.signingKeyLabel,
  disabledAt: o.disabledAt?.toISOString() ?? null,
  lockedUntil: o.lockedUntil?.toISOString() ?? null,
  createdAt: o.createdAt.toISOString(),
});

/** `--password-file F` (first line), else a generated password that the command prints once. */
function passwordFrom(values: Record<string, unknown>): { password: string; generated: boolean } {
  if (typeof values['password-file'] === 'string') {
    const password = readFileSync(values['password-file'], 'utf8').split(/\r?\n/)[0] ?? '';
    return { password: checkPasswordPolicy(password), generated: false };
  }
  return { password: generatePassword(), generated: true };
}

function officerByUsername(db: OpenedDatabase, username: unknown): Officer {
  const o = typeof username === 'string' ? new OfficerRepository(db.db).getByUsername(username) : null;
  if (!o) throw new InputError('officer-not-found', `no officer with username ${String(username)}`);
  return o;
}

const ROLES = ['officer', 'supervisor', 'admin'];

/** The options an officer's account is described with (create, update). */
const OFFICER_FIELDS: Command['options'] = {
  name: [{ type: 'string' }, 'full name, printed on the stamp'],
  title: [{ type: 'string' }, 'chức danh printed on the stamp'],
  role: [{ type: 'string' }, ROLES.join(' | ')],
  key: [{ type: 'string' }, "the officer's personal HSM key label (one of the tenant's keys)"],
};

export const officerCreate: Command = {
  path: ['officer', 'create'],
  summary: 'create an officer account (prints a generated password once unless --password-file is given)',
  usage: '--tenant CODE --username U --name "Họ tên" --title "Chức danh" --role officer|supervisor|admin [--key LABEL] [--password-file F] [--json]',
  options: {
    tenant: [{ type: 'string' }, 'tenant code'],
    username: [{ type: 'string' }, 'login name: 3–64 of a-z 0-9 . _ - (case-insensitive)'],
    ...OFFICER_FIELDS,
    'password-file': [{ type: 'string' }, 'read the initial password from the first line of this file'],
    json: [{ type: 'boolean' }, 'print JSON'],
  },
  async run(values, _p, io) {
    const { password, generated } = passwordFrom(values);
    const role = typeof values.role === 'string' && ROLES.includes(values.role) ? (values.role as OfficerRole) : undefined;
    if (!role) throw new InputError('invalid-parameters', `--role must be one of ${ROLES.join(', ')}`);
    if (typeof values.key === 'string') await checkKeyHolder(tokenKeyHolder, values.key, String(values.name ?? ''));
    const { officer, auditFailure } = await withRegisterAsync(async (db) => {
      const tenant = tenantByCode(db, values.tenant);
      const o = await new OfficerRepository(db.db).create({
        tenantId: tenant.id,
        username: String(values.username ?? ''),
        displayName: String(values.name ?? ''),
        title: String(values.title ?? ''),
        role,
        signingKeyLabel: typeof values.key === 'string' ? values.key : null,
        password,
        createdBy: `cli:${cliUser()}`,
      });
      const failure = auditAfter(() =>
        new AuditLog(db.db).append({ actorKind: 'cli', actorId: cliUser(), tenantId: tenant.id, action: 'officer.create', object: `officer:${o.id}`, outcome: 'success', details: { username: o.username, role: o.role, signingKeyLabel: o.signingKeyLabel } }),
      );
      return { officer: o, auditFailure: failure };
    });
    if (values.json === true) io.out(JSON.stringify({ ...officerView(officer), ...(generated ? { password } : {}) }, null, 2) + '\n');
    else {
      io.out(`officer ${officer.username} (${officer.displayName}, ${officer.title}) role=${officer.role} id=${officer.id}\n`);
      if (generated) io.out(`  password: ${password}\n  Hand it over now: it is not shown again.\n`);
    }
    if (auditFailure !== undefined) throw auditFailure;
    return 0;
  },
};

export const officerList: Command = {
  path: ['officer', 'list'],
  summary: "list a tenant's officers",
  usage: '--tenant CODE [--json]',
  options: { tenant: [{ type: 'string' }, 'tenant code'], json: [{ type: 'boolean' }, 'print JSON'] },
  async run(values, _p, io) {
    const list = withRegister((db) => new OfficerRepository(db.db).list(tenantByCode(db, values.tenant).id));
    if (values.json === true) io.out(JSON.stringify(list.map(officerView), null, 2) + '\n');
    else {
      for (const o of list) {
        const state = o.disabledAt ? 'disabled' : o.lockedUntil && o.lockedUntil > new Date() ? 'locked' : 'active';
        io.out(`${o.username.padEnd(24)} ${o.role.padEnd(10)} ${state.padEnd(8)} ${(o.signingKeyLabel ?? '-').padEnd(12)} ${o.displayName} — ${o.title}\n`);
      }
    }
    return 0;
  },
};

export const officerUpdate: Command = {
  path: ['officer', 'update'],
  summary: "change an officer's name, title, role or personal key (a renewed certificate comes with a new key)",
  usage: 'USERNAME [--name "Họ tên"] [--title "Chức danh"] [--role R] [--key LABEL | --no-key] [--json]',
  operands: true,
  options: {
    ...OFFICER_FIELDS,
    'no-key': [{ type: 'boolean' }, 'remove the personal key'],
    json: [{ type: 'boolean' }, 'print JSON'],
  },
  async run(values, positionals, io) {
    if (positionals.length !== 1) {
      io.err('chungthuc officer update: give exactly one username\n');
      return 2;
    }
    if (typeof values.key === 'string' && values['no-key'] === true) throw new InputError('invalid-parameters', 'give --key or --no-key, not both');
    const role = values.role === undefined ? undefined : typeof values.role === 'string' && ROLES.includes(values.role) ? (values.role as OfficerRole) : null;
    if (role === null) throw new InputError('invalid-parameters', `--role must be one of ${ROLES.join(', ')}`);
    const current = withRegister((db) => officerByUsername(db, positionals[0]));
    const changes = {
      displayName: typeof values.name === 'string' ? values.name : undefined,
      title: typeof values.title === 'string' ? values.title : undefined,
      role,
      signingKeyLabel: values['no-key'] === true ? null : typeof values.key === 'string' ? values.key : undefined,
    };
    if (Object.values(changes).every((v) => v === undefined)) throw new InputError('invalid-parameters', 'nothing to change: give --name, --title, --role, --key or --no-key');
    const key = changes.signingKeyLabel === undefined ? current.signingKeyLabel : changes.signingKeyLabel;
    if (key && (changes.displayName !== undefined || changes.signingKeyLabel !== undefined)) await checkKeyHolder(tokenKeyHolder, key, changes.displayName ?? current.displayName);
    const o = withRegister((db) => {
      const officer = new OfficerRepository(db.db).update(current.id, changes);
      new AuditLog(db.db).append(
        { actorKind: 'cli', actorId: cliUser(), tenantId: officer.tenantId, action: 'officer.update', object: `officer:${officer.id}`, outcome: 'success', details: { username: officer.username, changed: Object.keys(changes).filter((k) => changes[k as keyof typeof changes] !== undefined) } },
        { durable: true },
      );
      return officer;
    });
    if (values.json === true) io.out(JSON.stringify(officerView(o), null, 2) + '\n');
    else io.out(`officer ${o.username} (${o.displayName}, ${o.title}) role=${o.role} key=${o.signingKeyLabel ?? '-'}\n`);
    return 0;
  },
};

export const officerDisable: Command = {
  path: ['officer', 'disable'],
  summary: "disable an officer account (its sessions end at once)",
  usage: 'USERNAME',
  operands: true,
  options: {},
  async run(_values, positionals, io) {
    if (positionals.length !== 1) {
      io.err('chungthuc officer disable: give exactly one username\n');
      return 2;
    }
    const o = withRegister((db) => {
      const officer = new OfficerRepository(db.db).disable(officerByUsername(db, positionals[0]).id);
      new AuditLog(db.db).append({ actorKind: 'cli', actorId: cliUser(), tenantId: officer.tenantId, action: 'officer.disable', object: `officer:${officer.id}`, outcome: 'success', details: { username: officer.username } }, { durable: true });
      return officer;
    });
    io.out(`officer ${o.username} disabled\n`);
    return 0;
  },
};

export const officerResetPassword: Command = {
  path: ['officer', 'reset-password'],
  summary: 'set a new password (generated and printed once unless --password-file); ends the officer’s sessions and lifts a lockout',
  usage: 'USERNAME [--password-file F]',
  operands: true,
  options: { 'password-file': [{ type: 'string' }, 'read the new password from the first line of this file'] },
  async run(values, positionals, io) {
    if (positionals.length !== 1) {
      io.err('chungthuc officer reset-password: give exactly one username\n');
      return 2;
    }
    const { password, generated } = passwordFrom(values);
    const { o, auditFailure } = await withRegisterAsync(async (db) => {
      const officer = await new OfficerRepository(db.db).setPassword(officerByUsername(db, positionals[0]).id, password);
      const failure = auditAfter(() =>
        new AuditLog(db.db).append({ actorKind: 'cli', actorId: cliUser(), tenantId: officer.tenantId, action: 'officer.reset-password', object: `officer:${officer.id}`, outcome: 'success', details: { username: officer.username } }, { durable: true }),
      );
      return { o: officer, auditFailure: failure };
    });
    io.out(`password of ${o.username} changed; their sessions have ended\n`);
    if (generated) io.out(`  password: ${password}\n  Hand it over now: it is not shown again.\n`);
    if (auditFailure !== undefined) throw auditFailure;
    return 0;
  },
};
