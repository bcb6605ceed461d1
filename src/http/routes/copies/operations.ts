/** Catalogue entries of certified copies, refusals and the public lookup API (issue #7); src/http/operations.ts includes them. */
import { z } from 'zod';
import { binary, inputJsonSchema, json, jsonBody, multipart, pdf, type Content, type Operation } from '../../operationParts.ts';
import { annulSchema, certifyFieldsSchema, idParam, listQuerySchema, refusalListSchema, refusalSchema } from './schema.ts';

const tag = 'certified copies';
const scanFile = { ...binary, description: 'a scan (PDF, JPEG, PNG or TIFF); several parts in page order' };

function scanUpload(fields: z.ZodObject | undefined): { required: true; content: Content } {
  const props = fields ? inputJsonSchema(fields) : {};
  return { required: true, content: multipart(['file', ...(props.required ?? [])], { file: { type: 'array', items: scanFile }, ...props.properties }) };
}

export const COPY_OPERATIONS: readonly Operation[] = [
  {
    method: 'POST', path: '/api/v1/certified-copies', operationId: 'copies.certify', tag, access: 'certify', audit: true, durableAct: true, idempotent: true,
    summary: 'certify an electronic copy from scans: stamp, QR code, certifier and seal signatures, register entry',
    description:
      'An officer certifies as themselves (their title, name and personal key); an API-key caller names the officer in `certifier`. The seal key, seal image, default level and stamp template are the tenant\'s (`chungthuc tenant configure`). The copy is answered only once its register entry exists; on failure the number is voided and nothing else is kept. `accessCode` is printed on the copy (unless the tenant\'s stamp template leaves it out) and given in this answer only.',
    requestBody: scanUpload(certifyFieldsSchema),
    responses: {
      '201': { description: 'certified', content: json('{ copy: RegisterEntry, accessCode, verificationUrl, pdfUrl }') },
      '413': { description: 'too many files, pages or bytes (too-many-files, scan-too-many-pages, body-too-large, scan-too-large)' },
      '409': { description: 'officer-has-no-signing-key, seal-key-not-allowed' },
      '422': { description: 'unreadable scan, certifier-required, certifier-not-found' },
    },
  },
  {
    method: 'POST', path: '/api/v1/certified-copies/preview', operationId: 'copies.preview', tag, access: 'certify', audit: false,
    summary: 'page images of the normalised scan with a sample stamp (nothing is registered or signed)',
    requestBody: scanUpload(z.object({ originalPages: z.number().int().optional(), certifier: z.string().optional() })),
    responses: { '200': { description: 'the preview', content: json('{ pageCount, pages: [{ page, width, height, image: data URL }], stamp: { page, rect } }') } },
  },
  {
    method: 'GET', path: '/api/v1/certified-copies', operationId: 'copies.list', tag, access: 'read-registry', audit: false,
    summary: "the tenant's register, newest first (no search by requester name)",
    query: listQuerySchema,
    responses: { '200': { description: 'one page', content: json('{ items: RegisterEntry[], nextCursor }') } },
  },
  {
    method: 'GET', path: '/api/v1/certified-copies/{id}', operationId: 'copies.get', tag, access: 'read-registry', audit: false,
    summary: 'one register entry', pathParams: idParam,
    responses: { '200': { description: 'the entry', content: json('RegisterEntry') }, '404': { description: 'no such entry in this tenant' } },
  },
  {
    method: 'GET', path: '/api/v1/certified-copies/{id}/pdf', operationId: 'copies.pdf', tag, access: 'read-registry', audit: true,
    summary: 'the certified PDF as registered', pathParams: idParam,
    responses: { '200': { description: 'the PDF', content: pdf }, '404': { description: 'no such entry in this tenant' }, '409': { description: 'void or reserved number' } },
  },
  {
    method: 'POST', path: '/api/v1/certified-copies/{id}/annul', operationId: 'copies.annul', tag, access: 'annul', audit: true, durableAct: true,
    summary: 'annul a certified copy by decision (nothing is deleted; the public page shows it)', pathParams: idParam,
    requestBody: jsonBody(annulSchema),
    responses: { '200': { description: 'the annulled entry', content: json('RegisterEntry') }, '409': { description: 'copy-already-annulled, copy-not-issued' } },
  },
  {
    method: 'POST', path: '/api/v1/refusals', operationId: 'refusals.create', tag, access: 'certify', audit: true, durableAct: true, idempotent: true,
    summary: 'record a refusal to certify, with its ground (append-only)',
    requestBody: jsonBody(refusalSchema),
    responses: { '201': { description: 'recorded', content: json('Refusal') } },
  },
  {
    method: 'GET', path: '/api/v1/refusals', operationId: 'refusals.list', tag, access: 'read-registry', audit: false,
    summary: "the tenant's refusals, newest first", query: refusalListSchema,
    responses: { '200': { description: 'one page', content: json('{ items: Refusal[], nextCursor }') } },
  },
  {
    method: 'GET', path: '/api/v1/public/copies/{code}', operationId: 'copies.publicLookup', tag: 'public verification', access: 'public', audit: true,
    summary: 'what the QR code page shows, as JSON (rate-limited per client)',
    pathParams: z.object({ code: z.string().min(8).max(64).describe('public code printed on the copy') }),
    responses: { '200': { description: 'public view with checks', content: json('PublicCopyView + checks + signatures') }, '404': { description: 'no such copy' }, '429': { description: 'rate-limited' } },
  },
];
