/**
 * POST /api/v1/signatures — PDF in, signed PDF out.
 *   multipart/form-data: part `file` (the PDF), optional part `image` (PNG/JPEG for a visible
 *     signature), parameters as a `parameters` JSON field and/or individual fields;
 *   application/pdf: the PDF as the body, parameters in the query string.
 * The result streams back as application/pdf; temporary files vanish with the response.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { AppState } from '../../middleware.ts';
import { HttpError } from '../../problem.ts';
import { receiveMultipart, receiveRaw, requestTempDir, type UploadedFile } from '../../upload.ts';
import { collectParams, parseExtendParams, parseSignatureParams } from './schema.ts';
import { extendDocument } from '../../../services/extendDocument.ts';
import { signDocument, type SigningDeps } from '../../../services/signDocument.ts';
import { readFile } from 'node:fs/promises';

export interface SignaturesRouteDeps {
  signing: SigningDeps;
  dataDir: string;
  uploadBytes: number;
}

async function assertPdf(file: UploadedFile): Promise<void> {
  const fh = await open(file.path, 'r');
  try {
    const head = Buffer.alloc(1024);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    // ISO 32000 §7.5.2: the header may follow up to 1 KB of junk in practice; require it in the first KB.
    if (!head.subarray(0, bytesRead).includes('%PDF-')) {
      throw new HttpError('not-a-pdf', `the uploaded ${file.field} is not a PDF (no %PDF- header)`, { status: 415 });
    }
  } finally {
    await fh.close();
  }
}

function imageKind(file: UploadedFile, bytes: Uint8Array): 'png' | 'jpeg' {
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return 'jpeg';
  throw new HttpError('image-unsupported', `the ${file.field} part must be a PNG or JPEG image`, { status: 415 });
}

interface ReceivedDocument {
  dir: string;
  pdf: UploadedFile;
  image: UploadedFile | undefined;
  rawParams: Record<string, unknown>;
}

/** The upload shapes shared by the signing routes: multipart (file, image, fields) or a raw PDF body + query. */
async function receiveDocument(ctx: Context, deps: SignaturesRouteDeps): Promise<ReceivedDocument> {
  const dir = await requestTempDir(ctx, deps.dataDir);
  let pdf: UploadedFile | undefined;
  let image: UploadedFile | undefined;
  let rawParams: Record<string, unknown>;
  if (ctx.is('multipart/form-data')) {
    const form = await receiveMultipart(ctx, dir, { bytes: deps.uploadBytes, files: 2, fields: 30, fieldBytes: 16_384 });
    pdf = form.files.find((f) => f.field === 'file');
    image = form.files.find((f) => f.field === 'image');
    rawParams = collectParams(form.fields);
  } else if (ctx.is('application/pdf')) {
    pdf = await receiveRaw(ctx, dir, deps.uploadBytes, 'document.pdf');
    rawParams = collectParams(Object.fromEntries(Object.entries(ctx.query).filter((e): e is [string, string] => typeof e[1] === 'string')));
  } else {
    throw new HttpError('unsupported-media-type', 'send multipart/form-data with a "file" part, or an application/pdf body', { status: 415 });
  }
  if (!pdf || pdf.size === 0) throw new HttpError('file-missing', 'no PDF in the request (multipart part "file")', { status: 400 });
  await assertPdf(pdf);
  return { dir, pdf, image, rawParams };
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
