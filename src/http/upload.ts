/**
 * Receiving documents: multipart/form-data (files streamed to temporary files, never buffered whole)
 * or a raw body (`application/pdf`). Every byte counts against the route's limit; temporary files are
 * removed when the response ends, whatever happened.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import busboy from 'busboy';
import type { Context } from 'koa';
import { HttpError } from './problem.ts';
import { collectParams } from './params.ts';
import { open } from 'node:fs/promises';

export interface UploadedFile {
  field: string;
  filename: string;
  mimeType: string;
  path: string;
  size: number;
}

export interface UploadLimits {
  bytes: number;
  files: number;
  fields: number;
  fieldBytes: number;
}

const tooLarge = (limit: number) =>
  new HttpError('body-too-large', `the upload exceeds the limit of ${limit} bytes`, { status: 413, details: { limit } });

/** The client went away before its body ended: nothing to answer, but the handler must end too. */
const aborted = () => new HttpError('upload-aborted', 'the client closed the connection before the upload ended', { status: 400 });

/** A scratch folder for one request, removed when the response is finished or aborted. */
export async function requestTempDir(ctx: Context, baseDir: string): Promise<string> {
  const dir = path.join(baseDir, 'tmp', randomUUID());
  await mkdir(dir, { recursive: true });
  const cleanup = () => void rm(dir, { recursive: true, force: true });
  ctx.res.once('close', cleanup);
  return dir;
}

/** Counts bytes through a stream and fails once the shared budget is exceeded. */
function budget(limit: number, used: { n: number }): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      used.n += chunk.length;
      if (used.n > limit) cb(tooLarge(limit));
      else cb(null, chunk);
    },
  });
}

export async function receiveRaw(ctx: Context, dir: string, limit: number, filename = 'upload.bin'): Promise<UploadedFile> {
  const file = path.join(dir, 'raw-' + randomUUID());
  const used = { n: 0 };
  try {
    await pipeline(ctx.req, budget(limit, used), createWriteStream(file));
  } catch (err) {
    if (err instanceof HttpError) ctx.set('Connection', 'close');
    if (!ctx.req.complete && (err as { code?: string }).code === 'ERR_STREAM_PREMATURE_CLOSE') throw aborted();
    throw err;
  }
  return { field: 'file', filename, mimeType: ctx.request.type || 'application/octet-stream', path: file, size: used.n };
}

export async function receiveMultipart(
  ctx: Context,
  dir: string,
  limits: UploadLimits,
): Promise<{ fields: Record<string, string>; files: UploadedFile[] }> {
  const fields: Record<string, string> = {};
  const files: UploadedFile[] = [];
  const used = { n: 0 };
  const writes: Promise<void>[] = [];
  let bb: busboy.Busboy;
  try {
    bb = busboy({
      headers: ctx.req.headers,
      // Browsers send UTF-8 file names ("hồ sơ.pdf"); busboy's default is latin1.
      defParamCharset: 'utf8',
      limits: { files: limits.files, fields: limits.fields, fieldSize: limits.fieldBytes, fileSize: limits.bytes + 1, parts: limits.files + limits.fields },
    });
  } catch (cause) {
    throw new HttpError('invalid-multipart', 'the multipart body cannot be parsed (missing boundary?)', { status: 400, cause });
  }
  const done = new Promise<void>((resolve, reject) => {
    const fail = (err: Error) => {
      ctx.req.unpipe(bb);
      ctx.req.resume();
      reject(err);
    };
    bb.on('field', (name, value, info) => {
      if (info.valueTruncated) return fail(new HttpError('field-too-large', `field "${name}" exceeds ${limits.fieldBytes} bytes`, { status: 413 }));
      fields[name] = value;
    });
    bb.on('file', (field, stream, info) => {
      const target = path.join(dir, `${files.length}-${randomUUID()}`);
      const entry: UploadedFile = { field, filename: info.filename ?? field, mimeType: info.mimeType, path: target, size: 0 };
      files.push(entry);
      // busboy cuts a file at `fileSize` and carries on; one byte over the budget is let through so
      // that the counter below fails the request instead of a truncated file being accepted.
      stream.on('limit', () => fail(tooLarge(limits.bytes)));
      const counter = budget(limits.bytes, used);
      counter.on('data', (c: Buffer) => (entry.size += c.length));
      writes.push(pipeline(stream, counter, createWriteStream(target)).catch((err: unknown) => {
        fail(err instanceof Error ? err : new Error(String(err)));
      }));
    });
    bb.on('filesLimit', () => fail(new HttpError('too-many-files', `at most ${limits.files} files per request`, { status: 413 })));
    bb.on('fieldsLimit', () => fail(new HttpError('too-many-fields', `at most ${limits.fields} fields per request`, { status: 413 })));
    bb.on('partsLimit', () => fail(new HttpError('too-many-parts', 'too many parts in the multipart body', { status: 413 })));
    bb.on('error', (err: unknown) => fail(new HttpError('invalid-multipart', 'the multipart body is malformed', { status: 400, cause: err })));
    bb.on('close', () => resolve());
    // busboy never ends a body whose client went away: without this the request would wait forever,
    // holding what it holds (an admission place, an idempotency key in progress).
    ctx.req.once('close', () => {
      if (ctx.req.complete) return;
      const err = aborted();
      fail(err);
      // Its file stream too, so the temporary file's write stream ends (else a descriptor per abort).
      bb.destroy(err);
    });
  });
  ctx.req.pipe(bb);
  await done;
  await Promise.all(writes);
  if (used.n > limits.bytes) throw tooLarge(limits.bytes);
  return { fields, files };
}

export async function assertPdf(file: UploadedFile): Promise<void> {
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

export interface ReceivedDocument {
  dir: string;
  pdf: UploadedFile;
  image: UploadedFile | undefined;
  rawParams: Record<string, unknown>;
}

/** The upload shapes shared by the signing routes: multipart (file, image, fields) or a raw PDF body + query. */
export async function receiveDocument(ctx: Context, deps: { dataDir: string; uploadBytes: number }): Promise<ReceivedDocument> {
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

