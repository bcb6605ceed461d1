/**
 * POST /api/v1/signatures — PDF in, signed PDF out.
 *   multipart/form-data: part `file` (the PDF), optional part `image` (PNG/JPEG for a visible
 *     signature), parameters as a `parameters` JSON field and/or individual fields;
 *   application/pdf: the PDF as the body, parameters in the query string.
 * The result streams back as application/pdf; temporary files vanish with the response.
 */
import path from 'node:path';
import Router from '@koa/router';
import type { Context } from 'koa';
import { callerOf } from '../../access/authenticate.ts';
import type { AppState } from '../../middleware.ts';
import { HttpError } from '../../problem.ts';
import { receiveDocument, type UploadedFile } from '../../upload.ts';
import { parseExtendParams, parseSignatureParams } from './schema.ts';
import { extendDocument } from '../../../services/extendDocument.ts';
import { signDocument, type SigningDeps } from '../../../services/signDocument.ts';
import { readFile } from 'node:fs/promises';
import { fingerprint, idempotencyKeyOf, idempotent, sha256File, type FileResponse, type IdempotencyDeps } from '../../idempotency.ts';

export interface SignaturesRouteDeps {
  signing: SigningDeps;
  dataDir: string;
  uploadBytes: number;
  idempotency: IdempotencyDeps;
  /** Whether a tenant may sign with an HSM key label (tenant isolation of keys). */
  maySignWith: (tenantId: string, label: string) => boolean;
}

function imageKind(file: UploadedFile, bytes: Uint8Array): 'png' | 'jpeg' {
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return 'jpeg';
  throw new HttpError('image-unsupported', `the ${file.field} part must be a PNG or JPEG image`, { status: 415 });
}

function pdfResponse(file: string, length: number, originalName: string, suffix: string, headers: Record<string, string>): FileResponse {
  const base = path.basename(originalName || 'document.pdf').replace(/\.pdf$/i, '').replace(/[^\p{L}\p{N}._ -]+/gu, '_') || 'document';
  return {
    status: 200,
    file,
    length,
    headers: {
      'Content-Type': 'application/pdf',
      'Content-Disposition': `attachment; filename="${suffix}.pdf"; filename*=UTF-8''${encodeURIComponent(base)}-${suffix}.pdf`,
      ...headers,
    },
  };
}

/** What identifies an upload for Idempotency-Key: the parsed parameters and the digests of the parts. */
async function uploadHash(params: unknown, pdf: UploadedFile, image: UploadedFile | undefined): Promise<string> {
  return fingerprint({ params, pdf: await sha256File(pdf.path), image: image ? await sha256File(image.path) : null });
}

/**
 * With API_AUTH=off (development) anonymous callers may sign; a signed-in officer or an API key is
 * still held to its scope (officers' roles do not grant "sign").
 */
function signerScope(ctx: Context & { state: AppState }): void {
  if (ctx.state.principal && ctx.state.principal.kind !== 'public') callerOf(ctx, 'sign');
}

export function signaturesRouter(deps: SignaturesRouteDeps): Router<AppState> {
  const router = new Router<AppState>({ prefix: '/api/v1', sensitive: true });
  router.post('/signatures', async (ctx) => {
    signerScope(ctx);
    const key = idempotencyKeyOf(ctx);
    const { dir, pdf, image: imageFile, rawParams } = await receiveDocument(ctx, deps);
    const params = parseSignatureParams(rawParams);
    ctx.state.audit = { details: { key: params.key, level: params.level, file: pdf.filename, bytes: pdf.size } };
    // A calling system signs only with its own tenant's keys (its seal, its officers).
    const principal = ctx.state.principal;
    if (principal?.kind === 'api-key' && !deps.maySignWith(principal.tenantId, params.key)) {
      throw new HttpError('signing-key-not-allowed', `the HSM key "${params.key}" is not assigned to this API key's tenant`, { status: 403 });
    }
    await idempotent(ctx, deps.idempotency, key, () => uploadHash(params, pdf, imageFile), async () => {
      let image: { bytes: Uint8Array; kind: 'png' | 'jpeg' } | undefined;
      if (imageFile) {
        if (imageFile.size > 2_000_000) throw new HttpError('image-too-large', 'the image part is limited to 2 MB', { status: 413 });
        const bytes = new Uint8Array(await readFile(imageFile.path));
        image = { bytes, kind: imageKind(imageFile, bytes) };
      }
      const outPath = path.join(dir, 'signed.pdf');
      const result = await signDocument(deps.signing, { path: pdf.path }, { path: outPath }, {
        ...params,
        image,
        lock: params.lockAction ? { action: params.lockAction, fields: params.lockFields } : undefined,
        certify: params.certify as 1 | 2 | 3 | undefined,
      });
      ctx.state.audit = { ...ctx.state.audit, object: `signature:${result.fieldName}` };
      return pdfResponse(outPath, result.length, pdf.filename, 'signed', {
        'X-Signature-Field': encodeURIComponent(result.fieldName),
        'X-Signature-Level': result.level,
      });
    });
  });
  router.post('/signatures/extend', async (ctx) => {
    signerScope(ctx);
    const key = idempotencyKeyOf(ctx);
    const { dir, pdf, rawParams } = await receiveDocument(ctx, deps);
    const params = parseExtendParams(rawParams);
    ctx.state.audit = { details: { level: params.level, file: pdf.filename, bytes: pdf.size } };
    await idempotent(ctx, deps.idempotency, key, () => uploadHash(params, pdf, undefined), async () => {
      const outPath = path.join(dir, 'extended.pdf');
      const result = await extendDocument(deps.signing, { path: pdf.path }, { path: outPath }, params.level);
      return pdfResponse(outPath, result.length, pdf.filename, 'extended', {
        'X-Signature-Level': result.level,
        'X-Extension-Added': result.added.join(','),
        'X-Revoked-Certificates': String(result.revoked.length),
      });
    });
  });
  return router;
}
