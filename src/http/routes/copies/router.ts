/**
 * Certified copies over HTTP (issue #7), every route tenant-scoped to the caller:
 *   POST /api/v1/certified-copies            scans (multipart `file` parts, in page order) + fields →
 *                                            stamped, doubly signed copy and its register entry (201)
 *   POST /api/v1/certified-copies/preview    page images of the normalised scan with a sample stamp
 *   GET  /api/v1/certified-copies            the register, filtered and paginated
 *   GET  /api/v1/certified-copies/{id}       one entry;  …/{id}/pdf  the certified PDF
 *   POST /api/v1/certified-copies/{id}/annul annulment by decision
 *   POST|GET /api/v1/refusals                refusals to certify, with their ground
 *   GET  /api/v1/public/copies/{code}        public, rate-limited: what the QR page shows, as JSON
 * Uploads are streamed to a per-request folder under DATA_DIR/tmp, removed when the response ends.
 * The certified copy is answered only after its register entry is written (certifyCopy); on any
 * failure the number is voided and no file is left.
 */
import { createReadStream } from 'node:fs';
import { mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import Router from '@koa/router';
import type { Context } from 'koa';
import { checkScanBytes, parseStampTemplate, type StampTemplate } from '../../../stamp/index.ts';
import { type CopyRepository, type Page, type RefusalRepository, type TenantRepository, type TenantSettings, type TenantSettingsRepository } from '../../../registry/index.ts';
import { certifyCopy, fileKeyPath, type CertifyDeps } from '../../../services/certifyCopy.ts';
import { previewCopy } from '../../../services/previewCopy.ts';
import type { ValidationDeps } from '../../../services/validateDocument.ts';
import { readJson } from '../../body.ts';
import { fingerprint, idempotencyKeyOf, idempotent, idempotentJson, sha256File, type IdempotencyDeps } from '../../idempotency.ts';
import type { AppState } from '../../middleware.ts';
import { collectParams } from '../../params.ts';
import { HttpError } from '../../problem.ts';
import { receiveMultipart, requestTempDir, type UploadedFile } from '../../upload.ts';
import { CopyAssessor, sendPublicCopyJson } from '../verification/assessment.ts';
import type { TokenBuckets } from '../verification/rateLimit.ts';
import { callerOf } from '../../access/authenticate.ts';
import { actorOf, certifyingOfficer, resolveCertifier, tenantOf, type OfficerDirectory } from './certifier.ts';
import { entryJson, refusalJson } from './presenter.ts';
import {
  annulSchema,
  certifyFieldsSchema,
  idParam,
  listQuerySchema,
  parseInput,
  previewFieldsSchema,
  refusalListSchema,
  refusalSchema,
  dayBounds,
} from './schema.ts';

export interface CopyRouteLimits {
  /** `file` parts per request. */
  maxFiles: number;
  /** Pages rendered by a preview (plus the last one, which carries the stamp). */
  previewPages: number;
}

export const DEFAULT_COPY_ROUTE_LIMITS: CopyRouteLimits = { maxFiles: 50, previewPages: 20 };

export interface CopiesRouteDeps {
  /** signing, copies, storeDir (COPY_STORE_DIR), publicBaseUrl, fees, scan limits. */
  certify: CertifyDeps;
  tenants: TenantRepository;
  settings: TenantSettingsRepository;
  refusals: RefusalRepository;
  officers: OfficerDirectory;
  dataDir: string;
  /** Body limit of the upload routes (bytes, all parts together). */
  uploadBytes: number;
  jsonBytes: number;
  idempotency: IdempotencyDeps;
  /** For the public lookup's integrity and issuer checks (as on /v/{code}). */
  validation?: ValidationDeps | undefined;
  limits?: Partial<CopyRouteLimits>;
  /** The public lookup's bucket per client, shared with GET /v/{code} (createApp). */
  publicBuckets: TokenBuckets;
}

type Ctx = Context & { state: AppState };

const FIELD_LIMITS = { fields: 30, fieldBytes: 16_384 };
const SAMPLE_CERTIFIER = { title: 'Người thực hiện chứng thực', name: 'Họ và tên người ký' };

/** Receives the multipart scan upload: one or more `file` parts, fields as text. */
async function receiveScans(ctx: Ctx, deps: CopiesRouteDeps, maxFiles: number): Promise<{ dir: string; files: UploadedFile[]; raw: Record<string, unknown> }> {
  if (!ctx.is('multipart/form-data')) {
    throw new HttpError('unsupported-media-type', 'send multipart/form-data with one or more "file" parts (the scan, in page order) and the fields', { status: 415 });
  }
  const dir = await requestTempDir(ctx, deps.dataDir);
  const form = await receiveMultipart(ctx, dir, { bytes: deps.uploadBytes, files: maxFiles, ...FIELD_LIMITS });
  const stray = form.files.find((f) => f.field !== 'file');
  if (stray) throw new HttpError('unexpected-part', `unexpected file part "${stray.field}"; scans go in parts named "file"`, { status: 400 });
  if (form.files.length === 0) throw new HttpError('file-missing', 'no scan in the request (multipart parts named "file")', { status: 400 });
  const empty = form.files.find((f) => f.size === 0);
  if (empty) throw new HttpError('file-empty', `the part "${empty.filename}" is empty`, { status: 400 });
  // Refused from the sizes on disk, before the scan is read into memory.
  checkScanBytes(form.files.reduce((n, f) => n + f.size, 0), deps.certify.scanLimits);
  return { dir, files: form.files, raw: collectParams(form.fields) };
}

/**
 * Aborted when the client goes away before its answer is sent (the response closes unfinished): the
 * scan's decoding jobs still queued for the TIFF workers or the scan reader are dropped, and no further
 * page is sent. Taken before the upload is read, so a client gone at any point after is seen.
 */
function clientGone(ctx: Ctx): AbortSignal {
  const gone = new AbortController();
  ctx.res.once('close', () => {
    if (!ctx.res.writableFinished) gone.abort();
  });
  // Gone already (while the middleware before the route ran): its 'close' has been and gone.
  if (ctx.req.socket.destroyed) gone.abort();
  return gone.signal;
}

async function readScans(files: readonly UploadedFile[]) {
  return Promise.all(files.map(async (f) => ({ bytes: new Uint8Array(await readFile(f.path)), mimeType: f.mimeType, name: f.filename })));
}

/** `{ items, nextCursor }`, as every list of the API answers. */
function sendPage<T, J>(ctx: Ctx, page: Page<T>, toJson: (item: T) => J): void {
  ctx.set('Cache-Control', 'no-store');
  ctx.body = { items: page.items.map(toJson), nextCursor: page.nextCursor };
}

/** The tenant's stored template, parsed (it was checked when stored; a bad one is a server fault). */
function templateOf(settings: TenantSettings): StampTemplate | undefined {
  return settings.stampTemplate === null ? undefined : parseStampTemplate(settings.stampTemplate);
}

export function copiesRouter(deps: CopiesRouteDeps): Router<AppState> {
  const router = new Router<AppState>({ prefix: '/api/v1', sensitive: true });
  const limits = { ...DEFAULT_COPY_ROUTE_LIMITS, ...deps.limits };
  const copies: CopyRepository = deps.certify.copies;
  const publicBuckets = deps.publicBuckets;
  const assessor = new CopyAssessor(deps.certify.storeDir, deps.validation);
  const maySignWith = (tenantId: string, label: string) => deps.tenants.maySignWith(tenantId, label);

  // The operation's scope is checked here too: with API_AUTH=off the access middleware demands
  // nothing, but a register is never read or changed without a caller holding the scope.
  const tenant = (ctx: Ctx) => {
    const needs = ctx.state.operation?.access;
    // Fail closed: a request that matched no catalogued operation gets no register.
    if (needs === undefined) throw new HttpError('not-found', `no resource at ${ctx.method} ${ctx.path}`, { status: 404 });
    callerOf(ctx, needs === 'public' || needs === 'authenticated' ? undefined : needs);
    const t = deps.tenants.get(tenantOf(ctx.state.principal));
    if (!t) throw new HttpError('unauthenticated', "the caller's tenant no longer exists", { status: 401 });
    return t;
  };

  router.post('/certified-copies/preview', async (ctx) => {
    const t = tenant(ctx);
    const signal = clientGone(ctx);
    const { dir, files, raw } = await receiveScans(ctx, deps, limits.maxFiles);
    const fields = parseInput(previewFieldsSchema, raw);
    const p = ctx.state.principal;
    const who = p?.kind === 'officer' || fields.certifier !== undefined ? certifyingOfficer(deps.officers, p, fields.certifier) : undefined;
    const preview = await previewCopy(
      {
        files: await readScans(files),
        agency: t.name,
        registerSuffix: t.registerSuffix,
        certifier: who ? { title: who.title, name: who.displayName } : SAMPLE_CERTIFIER,
        template: templateOf(deps.settings.get(t.id)),
        originalPages: fields.originalPages,
        publicBaseUrl: deps.certify.publicBaseUrl,
      },
      { workDir: await mkdir(path.join(dir, 'preview'), { recursive: true }).then(() => path.join(dir, 'preview')), scanLimits: deps.certify.scanLimits, maxRenderedPages: limits.previewPages, signal },
    );
    ctx.set('Cache-Control', 'no-store');
    ctx.body = {
      pageCount: preview.pageCount,
      pages: preview.pages.map((pg) => ({ page: pg.page, width: pg.width, height: pg.height, image: `data:image/png;base64,${Buffer.from(pg.png).toString('base64')}` })),
      stamp: preview.stamp,
    };
  });

  router.post('/certified-copies', async (ctx) => {
    const key = idempotencyKeyOf(ctx);
    const t = tenant(ctx);
    const signal = clientGone(ctx);
    const { files, raw } = await receiveScans(ctx, deps, limits.maxFiles);
    const fields = parseInput(certifyFieldsSchema, raw);
    const certifier = resolveCertifier(deps.officers, maySignWith, ctx.state.principal, fields.certifier);
    const settings = deps.settings.get(t.id);
    if (!maySignWith(t.id, settings.sealKeyLabel)) {
      throw new HttpError('seal-key-not-allowed', `the seal key "${settings.sealKeyLabel}" is not assigned to this tenant (chungthuc tenant allow-key / tenant configure)`, { status: 409 });
    }
    const level = fields.level ?? settings.defaultLevel;
    ctx.state.audit = { details: { certifier: certifier.officer.username, files: files.length, bytes: files.reduce((n, f) => n + f.size, 0), level, documentType: fields.documentType } };
    const requestHash = async () =>
      fingerprint({ tenant: t.id, caller: actorOf(ctx.state.principal), fields, files: await Promise.all(files.map((f) => sha256File(f.path))) });
    await idempotent(ctx, deps.idempotency, key, requestHash, async (committed) => {
      const r = await certifyCopy(deps.certify, {
        tenant: t,
        files: await readScans(files),
        documentType: fields.documentType,
        documentName: fields.documentName,
        originalIssuer: fields.originalIssuer,
        requesterName: fields.requesterName,
        originalPages: fields.originalPages,
        copies: fields.copies,
        caseCode: fields.caseCode,
        receivingSite: fields.receivingSite,
        notes: fields.notes,
        certifier: { keyLabel: certifier.keyLabel, title: certifier.officer.title, name: certifier.officer.displayName },
        seal: { keyLabel: settings.sealKeyLabel, image: settings.sealImage ?? undefined },
        level,
        template: templateOf(settings),
        actor: certifier.actor,
        signal,
      });
      // The copy is registered: from here a failure must not let a retry certify it again.
      committed();
      ctx.state.audit = { ...ctx.state.audit, object: `copy:${r.record.id}`, details: { ...ctx.state.audit?.details, number: r.record.number, year: r.record.year } };
      // Kept in memory: nothing left to fail between the register entry and the answer.
      const body = Buffer.from(JSON.stringify({ copy: entryJson(r.record), accessCode: r.accessCode, verificationUrl: r.verificationUrl, pdfUrl: `/api/v1/certified-copies/${r.record.id}/pdf` }));
      return {
        status: 201,
        body,
        length: body.length,
        headers: { 'Content-Type': 'application/json; charset=utf-8', Location: `/api/v1/certified-copies/${r.record.id}`, 'Cache-Control': 'no-store' },
      };
    });
  });

  router.get('/certified-copies', (ctx) => {
    const t = tenant(ctx);
    const q = parseInput(listQuerySchema, ctx.query);
    const page = copies.listCopies(t.id, {
      number: q.number,
      publicCode: q.code,
      ...dayBounds(q),
      status: q.status === 'void' ? 'voided' : q.status,
      caseCode: q.caseCode,
      year: q.year,
      limit: q.limit,
      cursor: q.cursor,
    });
    sendPage(ctx, page, entryJson);
  });

  const entryOf = (ctx: Ctx) => {
    const { id } = parseInput(idParam, ctx.params);
    const e = copies.getCopy(tenant(ctx).id, id);
    // Another tenant's entry is answered exactly like a missing one.
    if (!e) throw new HttpError('copy-not-found', `no certified copy ${id} in this tenant's register`, { status: 404 });
    ctx.state.audit = { ...ctx.state.audit, object: `copy:${e.id}` };
    return e;
  };

  router.get('/certified-copies/:id', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = entryJson(entryOf(ctx));
  });

  router.get('/certified-copies/:id/pdf', async (ctx) => {
    const e = entryOf(ctx);
    if (e.status !== 'valid' && e.status !== 'annulled') {
      throw new HttpError('copy-not-issued', `number ${e.number} is ${e.status === 'voided' ? 'void' : 'reserved'}: there is no certified PDF`, { status: 409 });
    }
    const file = fileKeyPath(deps.certify.storeDir, e.fileKey);
    const size = file ? await stat(file).then((s) => s.size, () => null) : null;
    if (!file || size === null) throw new HttpError('copy-file-missing', `the stored PDF of copy ${e.number} is missing`, { status: 500 });
    ctx.set('Cache-Control', 'private, no-store');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Content-Disposition', `attachment; filename="ban-sao-${e.number}-${e.year}.pdf"`);
    ctx.type = 'application/pdf';
    ctx.length = size;
    ctx.body = createReadStream(file);
  });

  router.post('/certified-copies/:id/annul', async (ctx) => {
    const { id } = parseInput(idParam, ctx.params);
    const t = tenant(ctx);
    const body = parseInput(annulSchema, await readJson(ctx, deps.jsonBytes));
    ctx.state.audit = { object: `copy:${id}`, details: { decisionNumber: body.decisionNumber, decisionDate: body.decisionDate } };
    const rec = copies.annulCopy(id, { ...body, actor: actorOf(ctx.state.principal), tenantId: t.id });
    ctx.body = entryJson(rec);
  });

  router.post('/refusals', async (ctx) => {
    const t = tenant(ctx);
    const body = parseInput(refusalSchema, await readJson(ctx, deps.jsonBytes));
    const p = ctx.state.principal;
    await idempotentJson(ctx, deps.idempotency, { tenant: t.id, ...body }, async () => {
      const r = deps.refusals.record({ tenantId: t.id, ...body, actor: actorOf(p), officerId: p?.kind === 'officer' ? p.officerId : null });
      ctx.state.audit = { object: `refusal:${r.id}`, details: { ground: r.ground } };
      return { status: 201, headers: { Location: `/api/v1/refusals?from=${r.at.toISOString().slice(0, 10)}` }, body: refusalJson(r) };
    });
  });

  router.get('/refusals', (ctx) => {
    const t = tenant(ctx);
    const q = parseInput(refusalListSchema, ctx.query);
    const page = deps.refusals.list(t.id, { ...dayBounds(q), ground: q.ground, caseCode: q.caseCode, limit: q.limit, cursor: q.cursor });
    sendPage(ctx, page, refusalJson);
  });

  // The QR page's data for programs: only what domain.md allows without the access code.
  router.get('/public/copies/:code', async (ctx) => {
    const taken = publicBuckets.take(ctx.ip);
    if (!taken.ok) {
      ctx.set('Retry-After', String(taken.retryAfterSeconds));
      throw new HttpError('rate-limited', `too many lookups; retry in ${taken.retryAfterSeconds} s`, { status: 429, retryable: true, details: { retryAfterSeconds: taken.retryAfterSeconds } });
    }
    const found = copies.findPublicJson(ctx.params.code ?? '');
    ctx.state.log.info({ lookup: 'public-api', found: found !== null, status: found?.status }, 'public verification lookup');
    if (!found) throw new HttpError('copy-not-found', 'no certified copy has this code', { status: 404 });
    sendPublicCopyJson(ctx, found.json, assessor.assessKnown(found, found.fileKey) ?? (await assessor.assess(found, found.fileKey)));
  });

  return router;
}
