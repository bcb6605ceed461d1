/**
 * Inputs of the certified-copy, refusal and public-lookup routes (zod). Multipart fields arrive as
 * strings: numbers are coerced, empty optional fields count as absent. Unknown fields are refused,
 * so a misspelt field name is an error rather than silently missing data.
 */
import { z } from 'zod';
import { REFUSAL_GROUNDS } from '../../../registry/index.ts';
import { HttpError } from '../../problem.ts';

const blankAsAbsent = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const text = (max: number) => z.string().trim().min(1).max(max);
const optional = (max: number) => z.preprocess(blankAsAbsent, text(max).optional());
/** A calendar date (2025-13-01 and 2025-02-30 are refused: 400, never a RangeError). */
const ymd = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'YYYY-MM-DD')
  .refine((s) => {
    const d = new Date(`${s}T00:00:00Z`);
    return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
  }, 'not a calendar date');

export const certifyFieldsSchema = z
  .object({
    documentType: text(200).describe('kind of document, e.g. "Giấy khai sinh" (shown publicly)'),
    documentName: optional(300).describe('name of the document (defaults to documentType; not shown publicly)'),
    originalIssuer: text(300).describe("the original's issuing authority"),
    requesterName: text(200).describe("requester's name (never shown publicly)"),
    originalPages: z.coerce.number().int().min(1).max(10_000).describe('pages of the original (the fee counts these)'),
    copies: z.preprocess(blankAsAbsent, z.coerce.number().int().min(1).max(1000).default(1)).describe('number of copies certified'),
    caseCode: optional(64).describe('one-stop (một cửa) case code'),
    receivingSite: optional(200).describe('where the request was received'),
    notes: optional(2000),
    level: z.preprocess(blankAsAbsent, z.enum(['B-LT', 'B-LTA']).optional()).describe("PAdES level (the tenant's default when absent)"),
    certifier: z.preprocess(blankAsAbsent, z.string().trim().toLowerCase().regex(/^[a-z0-9._-]{3,64}$/).optional()).describe(
      'username of the certifying officer (API-key callers only; an officer certifies as themselves)',
    ),
  })
  .strict();
export type CertifyFields = z.infer<typeof certifyFieldsSchema>;

/** The preview needs only the files; these optional fields make the sample stamp closer to the real one. */
export const previewFieldsSchema = z
  .object({
    originalPages: z.preprocess(blankAsAbsent, z.coerce.number().int().min(1).max(10_000).optional()),
    certifier: certifyFieldsSchema.shape.certifier,
  })
  .strip();

export const COPY_STATUSES = ['valid', 'annulled', 'void', 'reserved'] as const;

export const listQuerySchema = z
  .object({
    number: z.coerce.number().int().min(1).max(1e9).optional(),
    code: z.string().trim().min(1).max(64).optional().describe('public code printed on the copy'),
    from: ymd.optional().describe('registered on or after this day (Việt Nam time)'),
    to: ymd.optional().describe('registered on or before this day (Việt Nam time)'),
    status: z.enum(COPY_STATUSES).optional(),
    caseCode: z.string().trim().min(1).max(64).optional(),
    year: z.coerce.number().int().min(1900).max(9999).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.string().min(1).max(200).optional(),
  })
  .strict();

export const annulSchema = z
  .object({
    decisionNumber: text(100),
    decisionDate: ymd,
    reason: text(2000),
  })
  .strict();

export const refusalSchema = z
  .object({
    ground: z.enum(REFUSAL_GROUNDS),
    reason: optional(2000),
    documentType: text(200),
    requesterName: optional(200),
    caseCode: optional(64),
  })
  .strict()
  .refine((r) => r.ground !== 'other' || r.reason !== undefined, { message: "a reason is required when the ground is 'other'", path: ['reason'] });

export const refusalListSchema = z
  .object({
    from: ymd.optional(),
    to: ymd.optional(),
    ground: z.enum(REFUSAL_GROUNDS).optional(),
    caseCode: z.string().trim().min(1).max(64).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.string().min(1).max(200).optional(),
  })
  .strict();

export const idParam = z.object({ id: z.string().min(1).max(64).describe('register entry id') });

/** Parses `raw` or answers 400 `invalid-parameters` listing every offending field. */
export function parseInput<S extends z.ZodType>(schema: S, raw: unknown): z.infer<S> {
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  const errors = r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  throw new HttpError('invalid-parameters', errors.map((e) => `${e.path || 'input'}: ${e.message}`).join('; '), { status: 400, details: { errors } });
}

/** Start of a Việt Nam calendar day (UTC+07:00, no daylight saving) as an instant. */
function vietnamDayStart(ymdText: string, plusDays = 0): Date {
  return new Date(Date.parse(`${ymdText}T00:00:00+07:00`) + plusDays * 86_400_000);
}

/** Inclusive `from`/`to` calendar days (Việt Nam time) → [from 00:00, day after `to` 00:00). */
export function dayBounds(q: { from?: string | undefined; to?: string | undefined }): { from?: Date; to?: Date } {
  return {
    ...(q.from === undefined ? {} : { from: vietnamDayStart(q.from) }),
    ...(q.to === undefined ? {} : { to: vietnamDayStart(q.to, 1) }),
  };
}
