/** Test factories for API access: tenants and keys made through the real CLI against a running service's database. */
import { main } from '../../../src/cli/main.ts';
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
