/**
 * Per-tenant settings of certified copies (migration 7): the agency seal key and image, the default
 * PAdES level, and the stamp template as JSON text. A tenant without a row has the defaults. The
 * template's meaning belongs to src/stamp/template.ts; the register only keeps valid JSON.
 */
import type { Sqlite } from './Database.ts';
import { RegistryError } from './errors.ts';
import { text } from './validateEntry.ts';

export type CopyLevel = 'B-LT' | 'B-LTA';

export interface SealImage {
  readonly bytes: Uint8Array;
  readonly kind: 'png' | 'jpeg';
}

export interface TenantSettings {
  readonly tenantId: string;
  /** HSM label of the agency seal key; 'seal' by default. */
  readonly sealKeyLabel: string;
  readonly sealImage: SealImage | null;
  readonly defaultLevel: CopyLevel;
  /** JSON text of the stamp template, or null for the built-in wording. */
  readonly stampTemplate: string | null;
  /** null while the tenant has never been configured. */
  readonly updatedAt: Date | null;
  readonly updatedBy: string | null;
}

/** Fields to change; `null` clears the image or the template. */
export interface TenantSettingsChanges {
  readonly sealKeyLabel?: string;
  readonly sealImage?: SealImage | null;
  readonly defaultLevel?: CopyLevel;
  readonly stampTemplate?: string | null;
}

interface SettingsRow {
  tenant_id: string;
  seal_key_label: string;
  seal_image: Buffer | null;
  seal_image_type: 'png' | 'jpeg' | null;
  default_level: CopyLevel;
  stamp_template: string | null;
  updated_at: string;
  updated_by: string;
}

export const DEFAULT_SEAL_KEY_LABEL = 'seal';
export const MAX_SEAL_IMAGE_BYTES = 2_000_000;

const invalid = (message: string) => new RegistryError('registry-invalid-input', message, { status: 422 });

/** PNG (8-byte signature) or JPEG (SOI marker) by their first bytes. */
export function sealImageKind(bytes: Uint8Array): 'png' | 'jpeg' | null {
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return null;
}

export class TenantSettingsRepository {
  constructor(
    private readonly db: Sqlite,
    private readonly now: () => Date = () => new Date(),
  ) {}

  get(tenantId: string): TenantSettings {
    const r = this.db.prepare('SELECT * FROM tenant_settings WHERE tenant_id = ?').get(tenantId) as SettingsRow | undefined;
    if (!r) {
      return { tenantId, sealKeyLabel: DEFAULT_SEAL_KEY_LABEL, sealImage: null, defaultLevel: 'B-LT', stampTemplate: null, updatedAt: null, updatedBy: null };
    }
    return {
      tenantId: r.tenant_id,
      sealKeyLabel: r.seal_key_label,
      sealImage: r.seal_image && r.seal_image_type ? { bytes: new Uint8Array(r.seal_image), kind: r.seal_image_type } : null,
      defaultLevel: r.default_level,
      stampTemplate: r.stamp_template,
      updatedAt: new Date(r.updated_at),
      updatedBy: r.updated_by,
    };
  }

  /** Applies `changes` over the current settings (or the defaults) in one statement. */
  configure(tenantId: string, changes: TenantSettingsChanges, actor: string): TenantSettings {
    // Read, changed, written under the write lock: a change made meanwhile by another process (the
    // command line, another instance) to other settings is not overwritten with what was read before it.
    return this.db.transaction(() => this.configureNow(tenantId, changes, actor)).immediate();
  }

  private configureNow(tenantId: string, changes: TenantSettingsChanges, actor: string): TenantSettings {
    const cur = this.get(tenantId);
    const label = changes.sealKeyLabel === undefined ? cur.sealKeyLabel : text('sealKeyLabel', changes.sealKeyLabel, 128);
    const image = changes.sealImage === undefined ? cur.sealImage : changes.sealImage;
    if (image) {
      if (image.bytes.length === 0 || image.bytes.length > MAX_SEAL_IMAGE_BYTES) throw invalid(`sealImage: 1..${MAX_SEAL_IMAGE_BYTES} bytes`);
      if (sealImageKind(image.bytes) !== image.kind) throw invalid('sealImage: not a PNG or JPEG image');
    }
    const level = changes.defaultLevel ?? cur.defaultLevel;
    if (level !== 'B-LT' && level !== 'B-LTA') throw invalid('defaultLevel: B-LT or B-LTA');
    const template = changes.stampTemplate === undefined ? cur.stampTemplate : changes.stampTemplate;
    if (template !== null) {
      try {
        JSON.parse(template);
      } catch (cause) {
        throw new RegistryError('registry-invalid-input', 'stampTemplate: not JSON', { status: 422, cause });
      }
    }
    try {
      this.db
        .prepare(
          `INSERT INTO tenant_settings (tenant_id, seal_key_label, seal_image, seal_image_type, default_level, stamp_template, updated_at, updated_by)
           VALUES (@tenant_id, @seal_key_label, @seal_image, @seal_image_type, @default_level, @stamp_template, @updated_at, @updated_by)
           ON CONFLICT (tenant_id) DO UPDATE SET seal_key_label = excluded.seal_key_label, seal_image = excluded.seal_image,
             seal_image_type = excluded.seal_image_type, default_level = excluded.default_level,
             stamp_template = excluded.stamp_template, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
        )
        .run({
          tenant_id: tenantId,
          seal_key_label: label,
          seal_image: image ? Buffer.from(image.bytes) : null,
          seal_image_type: image?.kind ?? null,
          default_level: level,
          stamp_template: template,
          updated_at: this.now().toISOString(),
          updated_by: text('actor', actor, 200),
        });
    } catch (cause) {
      if ((cause as { code?: string }).code === 'SQLITE_CONSTRAINT_FOREIGNKEY') throw new RegistryError('tenant-not-found', `no tenant ${tenantId}`, { status: 404, cause });
      throw cause;
    }
    return this.get(tenantId);
  }
}
