/** Migration 7 at the repository level: tenant settings (defaults, changes, checks) and append-only refusals. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RefusalRepository, TenantSettingsRepository } from '../../src/registry/index.ts';
import { tempRegistry, type TempRegistry } from './fixtures/tempRegistry.ts';

let r: TempRegistry;
beforeEach(() => {
  r = tempRegistry();
});
afterEach(() => r.dispose());

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
};

describe('TenantSettingsRepository', () => {
  it('gives the defaults to an unconfigured tenant and applies partial changes over the current settings', () => {
    const s = new TenantSettingsRepository(r.opened.db, () => r.clock);
    expect(s.get(r.tenant.id)).toMatchObject({ sealKeyLabel: 'seal', sealImage: null, defaultLevel: 'B-LT', stampTemplate: null, updatedAt: null });
    s.configure(r.tenant.id, { sealImage: { bytes: PNG, kind: 'png' }, defaultLevel: 'B-LTA' }, 'cli:test');
    const after = s.configure(r.tenant.id, { stampTemplate: '{"footer":"Số {number}, trang {page}/{pageCount}"}' }, 'cli:test');
    expect(after).toMatchObject({ sealKeyLabel: 'seal', defaultLevel: 'B-LTA', updatedBy: 'cli:test', updatedAt: r.clock });
    expect(after.sealImage?.kind).toBe('png');
    expect([...after.sealImage!.bytes]).toEqual([...PNG]);
    const cleared = s.configure(r.tenant.id, { sealImage: null, stampTemplate: null }, 'cli:test');
    expect([cleared.sealImage, cleared.stampTemplate, cleared.defaultLevel]).toEqual([null, null, 'B-LTA']);
  });

  it('refuses an image that is not what it claims, a template that is not JSON, an unknown tenant', () => {
    const s = new TenantSettingsRepository(r.opened.db);
    expect(codeOf(() => s.configure(r.tenant.id, { sealImage: { bytes: PNG, kind: 'jpeg' } }, 'x'))).toBe('registry-invalid-input');
    expect(codeOf(() => s.configure(r.tenant.id, { stampTemplate: '{not json' }, 'x'))).toBe('registry-invalid-input');
    expect(codeOf(() => s.configure('no-such-tenant', { defaultLevel: 'B-LTA' }, 'x'))).toBe('tenant-not-found');
    expect(s.get(r.tenant.id).updatedAt).toBeNull();
  });
});

describe('RefusalRepository', () => {
  it("requires a reason for 'other', lists newest first per tenant, and refuses UPDATE and DELETE", () => {
    const refusals = new RefusalRepository(r.opened.db, () => r.clock);
    expect(codeOf(() => refusals.record({ tenantId: r.tenant.id, ground: 'other', documentType: 'Giấy tờ', actor: 'officer:a' }))).toBe('registry-invalid-input');
    const first = refusals.record({ tenantId: r.tenant.id, ground: 'illegible', documentType: 'Học bạ', actor: 'officer:a' });
    r.clock = new Date(r.clock.getTime() + 1000);
    const second = refusals.record({ tenantId: r.tenant.id, ground: 'other', reason: 'Bản chính bị ẩm mốc', documentType: 'Bằng', actor: 'officer:a' });
    expect(refusals.list(r.tenant.id).items.map((x) => x.id)).toEqual([second.id, first.id]);
    const other = r.tenants.create({ code: 'khac', name: 'UBND xã Khác' });
    expect(refusals.list(other.id).items).toEqual([]);
    expect(refusals.get(other.id, first.id)).toBeNull();
    expect(() => r.opened.db.prepare("UPDATE refusals SET reason = 'sửa' WHERE id = ?").run(first.id)).toThrow(/append-only/);
    expect(() => r.opened.db.prepare('DELETE FROM refusals').run()).toThrow(/append-only/);
    expect(() => r.opened.db.prepare("INSERT INTO refusals (id, tenant_id, ground, document_type, actor, at) VALUES ('x', ?, 'nonsense', 'd', 'a', 't')").run(r.tenant.id)).toThrow(/CHECK/);
  });
});
