/**
 * Tenants: the certifying agencies (commune People's Committees, service centres) sharing one service.
 * Deliberately minimal — what the register needs (name printed as the certifying agency, register
 * suffix); accounts and keys are added by later migrations as extra tables/columns.
 */
import { randomUUID } from 'node:crypto';
import { prepared, type Sqlite } from './Database.ts';
import { RegistryError } from './errors.ts';
import type { NewTenant, Tenant } from './types.ts';
import { text } from './validateEntry.ts';

interface TenantRow {
  id: string;
  code: string;
  name: string;
  register_suffix: string;
  created_at: string;
}

const toTenant = (r: TenantRow): Tenant => ({
  id: r.id,
  code: r.code,
  name: r.name,
  registerSuffix: r.register_suffix,
  createdAt: new Date(r.created_at),
});

export const DEFAULT_REGISTER_SUFFIX = '-SCT/BS';

export class TenantRepository {
  constructor(
    private readonly db: Sqlite,
    private readonly now: () => Date = () => new Date(),
  ) {}

  create(input: NewTenant): Tenant {
    const row: TenantRow = {
      id: input.id === undefined ? randomUUID() : text('id', input.id, 200),
      code: text('code', input.code, 100),
      name: text('name', input.name, 500),
      register_suffix: text('registerSuffix', input.registerSuffix ?? DEFAULT_REGISTER_SUFFIX, 32),
      created_at: this.now().toISOString(),
    };
    try {
      this.db.prepare('INSERT INTO tenants (id, code, name, register_suffix, created_at) VALUES (@id, @code, @name, @register_suffix, @created_at)').run(row);
    } catch (cause) {
      if ((cause as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE' || (cause as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
        throw new RegistryError('tenant-exists', `a tenant with id ${row.id} or code ${row.code} exists`, { status: 409, cause });
      }
      throw cause;
    }
    return toTenant(row);
  }

  get(id: string): Tenant | null {
    const r = prepared(this.db, 'SELECT * FROM tenants WHERE id = ?').get(id) as TenantRow | undefined;
    return r ? toTenant(r) : null;
  }

  getByCode(code: string): Tenant | null {
    const r = this.db.prepare('SELECT * FROM tenants WHERE code = ?').get(code) as TenantRow | undefined;
    return r ? toTenant(r) : null;
  }

  /** Applies to volumes opened afterwards; open and closed volumes keep the suffix they were opened with. */
  setRegisterSuffix(id: string, suffix: string): Tenant {
    const s = text('registerSuffix', suffix, 32);
    if (this.db.prepare('UPDATE tenants SET register_suffix = ? WHERE id = ?').run(s, id).changes !== 1) {
      throw new RegistryError('tenant-not-found', `no tenant ${id}`, { status: 404 });
    }
    return this.get(id)!;
  }

  /** Lets the tenant's systems sign with the HSM key `label` (idempotent). */
  allowSigningKey(tenantId: string, label: string): void {
    if (!this.get(tenantId)) throw new RegistryError('tenant-not-found', `no tenant ${tenantId}`, { status: 404 });
    this.db
      .prepare('INSERT OR IGNORE INTO tenant_signing_keys (tenant_id, key_label, added_at) VALUES (?, ?, ?)')
      .run(tenantId, text('key label', label, 128), this.now().toISOString());
  }

  signingKeys(tenantId: string): string[] {
    return (this.db.prepare('SELECT key_label FROM tenant_signing_keys WHERE tenant_id = ? ORDER BY key_label').all(tenantId) as Array<{ key_label: string }>).map((r) => r.key_label);
  }

  maySignWith(tenantId: string, label: string): boolean {
    return prepared(this.db, 'SELECT 1 FROM tenant_signing_keys WHERE tenant_id = ? AND key_label = ?').get(tenantId, label) !== undefined;
  }
}
