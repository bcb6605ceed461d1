/** Input of the account routes (zod): what the router validates and the OpenAPI document shows. */
import { z } from 'zod';
import { API_SCOPES, OFFICER_ROLES, PASSWORD_MIN_LENGTH } from '../../../registry/index.ts';
import { HttpError } from '../../problem.ts';

export const changePasswordBody = z
  .object({
    currentPassword: z.string().min(1).max(256),
    newPassword: z.string().min(1).max(256).describe('at least 10 characters'),
  })
  .strict();

export const loginBody = z
  .object({
    username: z.string().min(1).max(200).describe('the officer username (case-insensitive)'),
    password: z.string().min(1).max(256),
  })
  .strict();

const username = z.string().regex(/^[A-Za-z0-9._-]{3,64}$/).describe('3–64 of a–z, 0–9, ".", "_", "-" (stored lower-case)');
const displayName = z.string().trim().min(1).max(200).describe('full name, printed on the stamp as the certifier');
const title = z.string().trim().min(1).max(200).describe('chức danh printed on the stamp, e.g. "Phó Chủ tịch UBND xã"');
const password = z.string().min(PASSWORD_MIN_LENGTH).max(256);
const keyLabel = z.string().min(1).max(128).describe("HSM label of the officer's personal key: one of the tenant's keys");

export const createOfficerBody = z
  .object({
    username,
    displayName,
    title,
    role: z.enum(OFFICER_ROLES),
    signingKeyLabel: keyLabel.nullable().optional(),
    password: password.optional().describe('initial password; omitted → one is generated and returned once'),
  })
  .strict();

export const updateOfficerBody = z
  .object({
    displayName: displayName.optional(),
    title: title.optional(),
    role: z.enum(OFFICER_ROLES).optional(),
    signingKeyLabel: keyLabel.nullable().optional().describe('null removes the personal key'),
    disabled: z.boolean().optional().describe('true disables the account (its sessions end at once); false enables it again'),
    password: password.optional().describe('set this new password (ends the officer’s sessions)'),
    resetPassword: z.literal(true).optional().describe('generate a new password, returned once (ends the officer’s sessions)'),
  })
  .strict()
  .refine((b) => !(b.password !== undefined && b.resetPassword), { message: 'give either password or resetPassword, not both' });

export const createApiKeyBody = z
  .object({
    name: z.string().trim().min(1).max(200).describe('what the key is for, e.g. "one-stop system"'),
    scopes: z.array(z.enum(API_SCOPES)).min(1).max(API_SCOPES.length),
    allowedCidrs: z.array(z.string().max(64)).max(50).optional().describe('client address blocks the key may be used from (default any)'),
  })
  .strict();

export const pageQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(200).default(50).describe('items per page (default 50, max 200)'),
    cursor: z.string().min(1).max(200).optional().describe('nextCursor of the previous page'),
  })
  .strict();

export const auditQuery = pageQuery
  .extend({ since: z.iso.datetime({ offset: true }).optional().describe('only entries at or after this ISO 8601 instant') })
  .strict();

export const idParam = z.object({ id: z.uuid() });

export function parse<S extends z.ZodType>(schema: S, raw: unknown): z.infer<S> {
  const r = schema.safeParse(raw);
  if (!r.success) {
    throw new HttpError('invalid-parameters', r.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '), {
      status: 400,
      details: { errors: r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) },
    });
  }
  return r.data;
}
