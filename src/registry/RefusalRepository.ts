/**
 * Refusals to certify (domain.md "What cannot be certified"): the officer records the ground, the
 * document and who asked; the record is append-only (migration 7 triggers). Listed per tenant,
 * newest first, keyset-paginated; never searchable across tenants.
 */
import { randomUUID } from 'node:crypto';
import { durably, type Sqlite } from './Database.ts';
import { RegistryError } from './errors.ts';
import { REFUSAL_GROUNDS } from './schema/copiesApi.ts';
import type { Page } from './types.ts';
import { instant, optionalText, positiveInt, text } from './validateEntry.ts';

export { REFUSAL_GROUNDS };
export type RefusalGround = (typeof REFUSAL_GROUNDS)[number];

export interface NewRefusal {
  readonly tenantId: string;
  readonly ground: RefusalGround;
  /** Required for the ground 'other'. */
  readonly reason?: string | null | undefined;
  readonly documentType: string;
  readonly requesterName?: string | null | undefined;
  readonly caseCode?: string | null | undefined;
  /** Who refused, e.g. `officer:an.nguyen` or `api-key:<id>`. */
  readonly actor: string;
  readonly officerId?: string | null | undefined;
  readonly at?: Date;
}

export interface Refusal {
  readonly id: string;
  readonly tenantId: string;
  readonly ground: RefusalGround;
  readonly reason: string | null;
  readonly documentType: string;
  readonly requesterName: string | null;
  readonly caseCode: string | null;
  readonly actor: string;
  readonly officerId: string | null;
  readonly at: Date;
}

export interface RefusalQuery {
  readonly from?: Date;
  readonly to?: Date;
  readonly ground?: RefusalGround;
  readonly caseCode?: string;
  /** 1..500, default 50. */
  readonly limit?: number;
  readonly cursor?: string;
}

interface RefusalRow {
  id: string;
  tenant_id: string;
  ground: RefusalGround;
  reason: string | null;
  document_type: string;
  requester_name: string | null;
  case_code: string | null;
  actor: string;
  officer_id: string | null;
  at: string;
}

const toRefusal = (r: RefusalRow): Refusal => ({
  id: r.id,
  tenantId: r.tenant_id,
  ground: r.ground,
  reason: r.reason,
  documentType: r.document_type,
  requesterName: r.requester_name,
  caseCode: r.case_code,
  actor: r.actor,
  officerId: r.officer_id,
  at: new Date(r.at),
});

const invalid = (field: string, message: string) => new RegistryError('registry-invalid-input', `${field}: ${message}`, { status: 422, details: { field } });

export class RefusalRepository {
  constructor(
    private readonly db: Sqlite,
    private readonly now: () => Date = () => new Date(),
  ) {}

  record(input: NewRefusal): Refusal {
    if (!(REFUSAL_GROUNDS as readonly string[]).includes(input.ground)) throw invalid('ground', `one of ${REFUSAL_GROUNDS.join(', ')}`);
    const reason = optionalText('reason', input.reason, 2000);
    if (input.ground === 'other' && reason === null) throw invalid('reason', "required when the ground is 'other'");
    const row: RefusalRow = {
      id: randomUUID(),
      tenant_id: text('tenantId', input.tenantId, 200),
      ground: input.ground,
      reason,
      document_type: text('documentType', input.documentType, 200),
      requester_name: optionalText('requesterName', input.requesterName, 200),
      case_code: optionalText('caseCode', input.caseCode, 64),
      actor: text('actor', input.actor, 200),
      officer_id: input.officerId ?? null,
      at: (input.at === undefined ? this.now() : instant('at', input.at)).toISOString(),
    };
    // On disk when it returns (`durably`): the requester is told of the refusal at once.
    durably(this.db, () =>
      this.db
        .prepare(
          `INSERT INTO refusals (id, tenant_id, ground, reason, document_type, requester_name, case_code, actor, officer_id, at)
           VALUES (@id, @tenant_id, @ground, @reason, @document_type, @requester_name, @case_code, @actor, @officer_id, @at)`,
        )
        .run(row),
    );
    return toRefusal(row);
  }

  get(tenantId: string, id: string): Refusal | null {
    const r = this.db.prepare('SELECT * FROM refusals WHERE tenant_id = ? AND id = ?').get(tenantId, id) as RefusalRow | undefined;
    return r ? toRefusal(r) : null;
  }

  /** The tenant's refusals, newest first. The cursor is (at, id) of the last item returned. */
  list(tenantId: string, query: RefusalQuery = {}): Page<Refusal> {
    const limit = query.limit === undefined ? 50 : positiveInt('limit', query.limit);
    if (limit > 500) throw invalid('limit', 'at most 500');
    const where = ['tenant_id = @tenantId'];
    const params: Record<string, string | number> = { tenantId, limit: limit + 1 };
    if (query.from !== undefined) (where.push('at >= @from'), (params.from = instant('from', query.from).toISOString()));
    if (query.to !== undefined) (where.push('at < @to'), (params.to = instant('to', query.to).toISOString()));
    if (query.ground !== undefined) (where.push('ground = @ground'), (params.ground = query.ground));
    if (query.caseCode !== undefined) (where.push('case_code = @caseCode'), (params.caseCode = query.caseCode));
    if (query.cursor !== undefined) {
      const m = /^([0-9T:.Z-]{20,30})\|([0-9a-f-]{36})$/.exec(Buffer.from(query.cursor, 'base64url').toString('latin1'));
      if (!m) throw new RegistryError('registry-invalid-cursor', 'the cursor is not one this service returned', { status: 422 });
      where.push('(at < @ca OR (at = @ca AND id < @ci))');
      params.ca = m[1]!;
      params.ci = m[2]!;
    }
    const rows = this.db.prepare(`SELECT * FROM refusals WHERE ${where.join(' AND ')} ORDER BY at DESC, id DESC LIMIT @limit`).all(params) as RefusalRow[];
    const more = rows.length > limit;
    const items = rows.slice(0, limit).map(toRefusal);
    const last = items[items.length - 1];
    return { items, nextCursor: more && last ? Buffer.from(`${last.at.toISOString()}|${last.id}`, 'latin1').toString('base64url') : null };
  }
}
