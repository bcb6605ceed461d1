/**
 * Parameters of POST /api/v1/signatures, from a multipart `parameters` JSON field, individual
 * multipart fields, or the query string of a raw application/pdf body. Strings are coerced.
 */
import { z } from 'zod';
import { HttpError } from '../../problem.ts';

const rect = z.preprocess(
  (v) => (typeof v === 'string' ? v.split(/[\s,]+/).filter(Boolean).map(Number) : v),
  z.tuple([z.number(), z.number(), z.number(), z.number()]).refine(([a, b, c, d]) => c > a && d > b, 'rect must be [llx, lly, urx, ury] with urx > llx and ury > lly'),
);

const fieldList = z.preprocess((v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v), z.array(z.string().min(1).max(200)).max(500));

export const signatureParamsSchema = z
  .object({
    key: z.string().min(1).max(128).default('seal'),
    level: z.enum(['B-B', 'B-T', 'B-LT', 'B-LTA']).default('B-B'),
    digestAlgorithm: z.enum(['SHA-256', 'SHA-384', 'SHA-512']).default('SHA-256'),
    scheme: z.enum(['RSASSA-PKCS1-v1_5', 'RSASSA-PSS', 'ECDSA']).optional(),
    subFilter: z.enum(['ETSI.CAdES.detached', 'adbe.pkcs7.detached']).default('ETSI.CAdES.detached'),
    reason: z.string().max(500).optional(),
    location: z.string().max(200).optional(),
    contactInfo: z.string().max(200).optional(),
    certify: z.coerce.number().int().min(1).max(3).optional(),
    fieldName: z.string().min(1).max(200).optional(),
    page: z.coerce.number().int().min(1).max(100_000).optional(),
    rect: rect.optional(),
    lockAction: z.enum(['All', 'Include', 'Exclude']).optional(),
    lockFields: fieldList.optional(),
  })
  .strict();

export type SignatureParams = z.infer<typeof signatureParamsSchema>;

export const extendParamsSchema = z.object({ level: z.enum(['B-T', 'B-LT', 'B-LTA']).default('B-LTA') }).strict();

export function parseSignatureParams(raw: Record<string, unknown>): SignatureParams {
  return parseWith(signatureParamsSchema, raw);
}

export function parseExtendParams(raw: Record<string, unknown>): z.infer<typeof extendParamsSchema> {
  return parseWith(extendParamsSchema, raw);
}

function parseWith<S extends z.ZodType>(schema: S, raw: Record<string, unknown>): z.infer<S> {
  const r = schema.safeParse(raw);
  if (!r.success) {
    throw new HttpError('invalid-parameters', r.error.issues.map((i) => `${i.path.join('.') || 'parameters'}: ${i.message}`).join('; '), {
      status: 400,
      details: { errors: r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) },
    });
  }
  return r.data;
}

