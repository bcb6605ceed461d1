/**
 * The catalogue of HTTP operations: one entry per mounted route, saying who may call it (public or
 * an API-key scope), whether it is audited and idempotent, and how it is documented. The access
 * middleware, the audit, the metrics' route label and the OpenAPI document all read this one table;
 * a test compares it with the routers' stacks so a route cannot be mounted undocumented (and, being
 * unlisted, it would be refused to anonymous callers: the access check fails closed).
 */
import { z } from 'zod';
import { html, json, pdf, uploadBody, type Operation } from './operationParts.ts';
import { ACCOUNT_OPERATIONS } from './routes/accounts/operations.ts';
import { CONSOLE_OPERATIONS } from './routes/console/operations.ts';
import { COPY_OPERATIONS } from './routes/copies/operations.ts';
import { extendParamsSchema, signatureParamsSchema } from './routes/signatures/schema.ts';
import { validationParamsSchema } from './routes/validations/schema.ts';

export type { Access, Operation } from './operationParts.ts';

const codeParam = z.object({ code: z.string().min(8).max(64).describe('public code printed on the copy (QR code)') });
const verificationTag = 'public verification';

export const OPERATIONS: readonly Operation[] = [
  {
    method: 'GET', path: '/healthz', operationId: 'health.live', tag: 'operations', access: 'public', audit: false,
    summary: 'liveness: answers while the process runs',
    responses: { '200': { description: 'alive', content: json('{ status: "ok" }') } },
  },
  {
    method: 'GET', path: '/readyz', operationId: 'health.ready', tag: 'operations', access: 'public', audit: false,
    summary: 'readiness: the HSM token and the database answer',
    responses: { '200': { description: 'ready', content: json('{ status: "ready", checks }') }, '503': { description: 'not ready (problem+json with checks)' } },
  },
  {
    method: 'GET', path: '/openapi.json', operationId: 'docs.openapi', tag: 'documentation', access: 'public', audit: false,
    summary: 'this OpenAPI 3.1 document',
    responses: { '200': { description: 'the document', content: json('OpenAPI 3.1 document') } },
  },
  {
    method: 'GET', path: '/api', operationId: 'docs.page', tag: 'documentation', access: 'public', audit: false,
    summary: 'the API reference as a web page',
    responses: { '200': { description: 'HTML page', content: html } },
  },
  {
    method: 'POST', path: '/api/v1/signatures', operationId: 'signatures.create', tag: 'signing', access: 'sign', audit: true, idempotent: true,
    summary: 'sign a PDF (PAdES B-B … B-LTA) with a key of the HSM',
    description: 'multipart/form-data (part `file`, optional `image`, parameters as fields or a `parameters` JSON field) or an application/pdf body with the parameters in the query string. The signed PDF comes back as the body; X-Signature-Field and X-Signature-Level describe the signature.',
    query: signatureParamsSchema,
    requestBody: uploadBody(signatureParamsSchema, true),
    responses: { '200': { description: 'the signed PDF', content: pdf } },
  },
  {
    method: 'POST', path: '/api/v1/signatures/extend', operationId: 'signatures.extend', tag: 'signing', access: 'sign', audit: true, idempotent: true,
    summary: 'extend the signatures of a PDF to B-T, B-LT or B-LTA (or renew the archive timestamp)',
    query: extendParamsSchema,
    requestBody: uploadBody(extendParamsSchema, false),
    responses: { '200': { description: 'the extended PDF', content: pdf } },
  },
  {
    method: 'POST', path: '/api/v1/validations', operationId: 'validations.create', tag: 'validation', access: 'validate', audit: true,
    summary: 'validate the signatures of a PDF (ETSI EN 319 102-1 report)',
    query: validationParamsSchema,
    requestBody: uploadBody(validationParamsSchema, false),
    responses: { '200': { description: 'the validation report', content: { ...json('validation report (indication, sub-indication and checks per signature)'), ...html } } },
  },
  {
    method: 'POST', path: '/tsa', operationId: 'tsa.timestamp', tag: 'signing', access: 'sign', audit: true,
    summary: 'the built-in RFC 3161 time-stamping authority',
    description: 'RFC 3161 §3.4: application/timestamp-query in, application/timestamp-reply out; client errors are answered inside the TimeStampResp.',
    requestBody: { required: true, content: { 'application/timestamp-query': { schema: { type: 'string', contentMediaType: 'application/timestamp-query' } } } },
    responses: { '200': { description: 'TimeStampResp', content: { 'application/timestamp-reply': { schema: { type: 'string', contentMediaType: 'application/timestamp-reply' } } } } },
  },
  {
    method: 'GET', path: '/assets/{file}', operationId: 'web.asset', tag: verificationTag, access: 'public', audit: false,
    summary: 'static assets of the public pages (styles, scripts, fonts)',
    pathParams: z.object({ file: z.string() }),
    responses: { '200': { description: 'the asset' } },
  },
  {
    method: 'GET', path: '/v', operationId: 'verification.entry', tag: verificationTag, access: 'public', audit: false,
    summary: 'the page where a code can be typed in',
    responses: { '200': { description: 'HTML page', content: html } },
  },
  {
    method: 'POST', path: '/v', operationId: 'verification.typedCode', tag: verificationTag, access: 'public', audit: true,
    summary: 'look up a typed code (form post; redirects to /v/{code})',
    requestBody: { required: true, content: { 'application/x-www-form-urlencoded': { schema: { type: 'object', properties: { code: { type: 'string' } } } } } },
    responses: { '303': { description: 'to the copy page' }, '400': { description: 'malformed code (HTML page)' } },
  },
  {
    method: 'GET', path: '/v/{code}', operationId: 'verification.lookup', tag: verificationTag, access: 'public', audit: true,
    summary: 'what the QR code opens: is this certified copy genuine and still valid?',
    pathParams: codeParam,
    responses: { '200': { description: 'the public view (HTML, or JSON with Accept: application/json)', content: { ...html, ...json('public view of the register entry') } }, '404': { description: 'no such copy' } },
  },
  {
    method: 'POST', path: '/v/{code}/access', operationId: 'verification.access', tag: verificationTag, access: 'public', audit: true,
    summary: 'unlock the protected fields and the file with the access code printed on the copy',
    pathParams: codeParam,
    requestBody: { required: true, content: { 'application/x-www-form-urlencoded': { schema: { type: 'object', properties: { access_code: { type: 'string' } } } } } },
    responses: { '200': { description: 'the unlocked page', content: html }, '403': { description: 'wrong access code' } },
  },
  {
    method: 'POST', path: '/v/{code}/validation', operationId: 'verification.validate', tag: verificationTag, access: 'public', audit: true,
    summary: 'full signature validation of the file a holder has (the page button; rate-limited per client)',
    pathParams: codeParam,
    requestBody: uploadBody(validationParamsSchema, false),
    responses: { '200': { description: 'validation report (JSON, or HTML with format=html)', content: { ...json('ValidationReport'), ...html } }, '429': { description: 'rate-limited' } },
  },
  {
    method: 'GET', path: '/v/{code}/file', operationId: 'verification.file', tag: verificationTag, access: 'public', audit: true,
    summary: 'the certified PDF, with a short-lived link from an unlocked page',
    pathParams: codeParam,
    responses: { '200': { description: 'the PDF', content: pdf }, '403': { description: 'link expired or invalid' } },
  },
  ...ACCOUNT_OPERATIONS,
  ...COPY_OPERATIONS,
  ...CONSOLE_OPERATIONS,
];

export interface OperationIndex {
  match(method: string, path: string): Operation | undefined;
}

/**
 * Matches a request against the catalogue (HEAD as GET, as the routers do). Case-sensitive, like
 * every router (`sensitive: true`): a path in other letters must not reach a handler uncatalogued,
 * i.e. without its scope check and audit row.
 */
export function operationIndex(ops: readonly Operation[] = OPERATIONS): OperationIndex {
  const compiled = ops.map((op) => ({
    op,
    re: new RegExp(`^${op.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^}]+\\?\}|\{[^}]+\}/g, '[^/]+')}/?$`),
  }));
  return {
    match(method, path) {
      const m = method === 'HEAD' ? 'GET' : method;
      return compiled.find((c) => c.op.method === m && c.re.test(path))?.op;
    },
  };
}
