/**
 * POST /api/v1/signatures — PDF in, signed PDF out.
 *   multipart/form-data: part `file` (the PDF), optional part `image` (PNG/JPEG for a visible
 *     signature), parameters as a `parameters` JSON field and/or individual fields;
 *   application/pdf: the PDF as the body, parameters in the query string.
 * The result streams back as application/pdf; temporary files vanish with the response.
 */
import { createReadStream } from 'node:fs';
import path from 'node:path';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { AppState } from '../../middleware.ts';
import { HttpError } from '../../problem.ts';
import { receiveDocument, type UploadedFile } from '../../upload.ts';
import { parseExtendParams, parseSignatureParams } from './schema.ts';
import { extendDocument } from '../../../services/extendDocument.ts';
import { signDocument, type SigningDeps } from '../../../services/signDocument.ts';
import { readFile } from 'node:fs/promises';

export interface SignaturesRouteDeps {
  signing: SigningDeps;
  dataDir: string;
  uploadBytes: number;
}

function imageKind(file: UploadedFile, bytes: Uint8Array): 'png' | 'jpeg' {
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return 'jpeg';
  throw new HttpError('image-unsupported', `the ${file.field} part must be a PNG or JPEG image`, { status: 415 });
}

function sendPdf(ctx: Context, file: string, length: number, originalName: string, suffix: string): void {
  const base = path.basename(originalName || 'document.pdf').replace(/\.pdf$/i, '').replace(/[^\p{L}\p{N}._ -]+/gu, '_') || 'document';
  ctx.status = 200;
  ctx.type = 'application/pdf';
  ctx.length = length;
  ctx.set('Content-Disposition', `attachment; filename="${suffix}.pdf"; filename*=UTF-8''${encodeURIComponent(base)}-${suffix}.pdf`);
  ctx.body = createReadStream(file);
}

export function signaturesRouter(deps: SignaturesRouteDeps): Router<AppState> {
  const router = new Router<AppState>({ prefix: '/api/v1' });
  router.post('/signatures', async (ctx) => {
    const { dir, pdf, image: imageFile, rawParams } = await receiveDocument(ctx, deps);
    const params = parseSignatureParams(rawParams);
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
    ctx.set('X-Signature-Field', encodeURIComponent(result.fieldName));
    ctx.set('X-Signature-Level', result.level);
    sendPdf(ctx, outPath, result.length, pdf.filename, 'signed');
  });
  router.post('/signatures/extend', async (ctx) => {
    const { dir, pdf, rawParams } = await receiveDocument(ctx, deps);
    const { level } = parseExtendParams(rawParams);
    const outPath = path.join(dir, 'extended.pdf');
    const result = await extendDocument(deps.signing, { path: pdf.path }, { path: outPath }, level);
    ctx.set('X-Signature-Level', result.level);
    ctx.set('X-Extension-Added', result.added.join(','));
    sendPdf(ctx, outPath, result.length, pdf.filename, 'extended');
  });
  return router;
}
