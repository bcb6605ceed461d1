/**
 * The public verification pages (what the QR code on a certified copy opens), no login:
 * - GET  /v/{code}          result, three checks, details, signature summary, "check your file";
 *                           JSON with Accept: application/json
 * - POST /v/{code}/access   the access code printed on the copy unlocks the requester's name and a
 *                           short-lived link to the registered PDF (wrong codes are rate-limited)
 * - GET  /v/{code}/file?t=  the registered PDF, with a token from a successful access-code check
 * - GET|POST /v             manual code entry for people who cannot scan (rate-limited per client)
 * - GET  /assets/*          the pages' own CSS and JS, content-hashed, cached for a year
 * Vietnamese first, `?lang=en` for English. Lookups are logged without personal data (no names, no
 * client addresses); domain.md "Verification page".
 */
import { createReadStream } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { AppState } from '../../middleware.ts';
import { AppError } from '../../../errors.ts';
import type { Admission } from '../../admission.ts';
import { htmlPageHeaderList, htmlPageHeaders, pagedProblem } from '../../htmlPage.ts';
import { HttpError } from '../../problem.ts';
import { readBody } from '../../body.ts';
import { normalizePublicCode, type CopyRepository } from '../../../registry/index.ts';
import { validateDocument, type ValidationDeps } from '../../../services/validateDocument.ts';
import { receiveDocument } from '../../upload.ts';
import { loadConsoleAssets } from '../console/layout.ts';
import { renderReportProblem, renderReportResult } from '../console/reportPage.ts';
import { CopyAssessor, PUBLIC_JSON_HEADERS, publicCopyJson, sendPublicCopyJson } from './assessment.ts';
import { fileKeyPath } from '../../../services/certifyCopy.ts';
import { loadWebAssets } from './assets.ts';
import { FileTokens } from './accessToken.ts';
import { langOf, MESSAGES, type Lang } from './i18n.ts';
import { renderCopyPage, renderEntryPage, renderMessagePage, renderNotFoundPage, type AccessState } from './presenter.ts';
import { TokenBuckets, type BucketLimit, type TakeResult } from './rateLimit.ts';

export interface VerificationLimits {
  /** GET /v/{code} per client: generous, QR scans come one at a time. */
  lookup: BucketLimit;
  /** POST /v (typed codes) per client. */
  entry: BucketLimit;
  /** POST /v/{code}/access per client (every attempt costs an scrypt). */
  access: BucketLimit;
  /** POST /v/{code}/access per public code, whatever the client: stops distributed guessing. */
  accessPerCode: BucketLimit;
  /** POST /v/{code}/validation per client: full signature validation of an uploaded file is costly. */
  validation: BucketLimit;
}

export const DEFAULT_VERIFICATION_LIMITS: VerificationLimits = {
  lookup: { capacity: 60, refillPerSecond: 1 },
  entry: { capacity: 10, refillPerSecond: 1 / 6 },
  access: { capacity: 5, refillPerSecond: 1 / 30 },
  accessPerCode: { capacity: 20, refillPerSecond: 1 / 300 },
  validation: { capacity: 6, refillPerSecond: 1 / 10 },
};

export interface VerificationOptions {
  /** DATA_DIR: uploads are received under it. */
  dataDir: string;
  /** The copy store register file keys are relative to (default `<dataDir>/copies`). */
  copyStoreDir?: string;
  /** Validates the stored copy's signatures for the issuer and integrity checks; without it they are ERROR. */
  validation?: ValidationDeps;
  limits?: Partial<VerificationLimits>;
  /** HMAC key of the file links (>= 32 bytes); one per process when absent. */
  fileTokenKey?: Uint8Array;
  fileTokenTtlSeconds?: number;
  /** Largest file accepted by the public validation button. */
  uploadBytes?: number;
  /** Anonymous validations in flight at once, shared with POST /report. */
  publicValidations?: Admission;
  /** The lookup bucket per client, shared with GET /api/v1/public/copies/{code} (createApp); default: its own, from `limits.lookup`. */
  lookupBuckets?: TokenBuckets;
}

/** Content-Security-Policy of the pages: our own files only, no framing (clickjacking), no plugins. */
const CSP = "default-src 'self'; base-uri 'none'; object-src 'none'; form-action 'self'; frame-ancestors 'none'";
const FORM_BYTES = 4096;

// No referrer: the page's URL holds the public code.
const pageHeaders = (ctx: Context): void => htmlPageHeaders(ctx, CSP, 'no-referrer');
const PAGE_HEADERS = htmlPageHeaderList(CSP, 'no-referrer');

/**
 * Content negotiation of the pages, HTML first; the usual exact Accept values are answered without
 * parsing. `negotiate` is Koa's `ctx.accepts('html', 'json')` (or the same from the `accepts` module).
 */
export function wantsJsonAnswer(accept: string, negotiate: () => string | false): boolean {
  if (accept === 'application/json') return true;
  if (accept === '' || accept === '*/*' || accept === 'text/html') return false;
  return negotiate() === 'json';
}

/** GET /v/{code}'s answer for a found copy, as the fast path writes it (fastLookup.ts). */
export interface LookupAnswer {
  readonly copyStatus: 'valid' | 'annulled';
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

/** What the fast path of GET /v/{code} (fastLookup.ts) shares with the route, so both answer alike. */
export interface LookupRoute {
  /** The route's per-client bucket. */
  take(client: string): TakeResult;
  /** Leaves a request to the route, with the token already taken for it (never twice for one request). */
  handOver(req: IncomingMessage, taken: TakeResult): void;
  /**
   * The locked answer for a copy whose file's facts are in (no await), exactly as the route gives it;
   * undefined otherwise (unknown code, facts not in yet): the route answers then.
   */
  knownAnswer(code: string, lang: Lang, json: boolean): LookupAnswer | undefined;
}

async function readForm(ctx: Context): Promise<URLSearchParams> {
  if (!ctx.is('application/x-www-form-urlencoded')) {
    throw new HttpError('unsupported-media-type', 'send the form as application/x-www-form-urlencoded', { status: 415 });
  }
  return new URLSearchParams((await readBody(ctx, FORM_BYTES)).toString('utf8'));
}

export function verificationRouter(deps: { copies: CopyRepository }, opts: VerificationOptions = { dataDir: 'data' }): Router<AppState> & { readonly lookup: LookupRoute } {
  const router = new Router<AppState>({ sensitive: true });
  const assets = loadWebAssets();
  // The report page of the "full validation" button without script is the public report page's (its CSS, served by the console router).
  const reportAssets = loadConsoleAssets();
  const limits = { ...DEFAULT_VERIFICATION_LIMITS, ...opts.limits };
  const buckets = {
    lookup: opts.lookupBuckets ?? new TokenBuckets(limits.lookup),
    entry: new TokenBuckets(limits.entry),
    access: new TokenBuckets(limits.access),
    accessPerCode: new TokenBuckets(limits.accessPerCode),
    validation: new TokenBuckets(limits.validation),
  };
  const ttl = opts.fileTokenTtlSeconds ?? 600;
  const tokens = new FileTokens(opts.fileTokenKey, ttl);
  const storeDir = opts.copyStoreDir ?? path.join(opts.dataDir, 'copies');
  const assessor = new CopyAssessor(storeDir, opts.validation);

  const wantsJson = (ctx: Context): boolean => wantsJsonAnswer(ctx.get('accept'), () => ctx.accepts('html', 'json'));
  // Requests the fast path left to GET /v/{code}, with the bucket's answer it already had.
  const handedOver = new WeakMap<IncomingMessage, TakeResult>();

  /**
   * 429: problem+json for programs, a page for people (RFC 6585 §4, Retry-After). `page` is what the
   * page's language switch opens: a page a GET can show, never the POST-only route that was limited.
   */
  function tooMany(ctx: Context & { state: AppState }, lang: Lang, which: string, retryAfterSeconds: number, page: string): void {
    ctx.state.log.info({ rateLimited: which }, 'public verification rate-limited');
    if (wantsJson(ctx)) {
      ctx.set('Retry-After', String(retryAfterSeconds));
      throw new HttpError('rate-limited', `too many requests; retry in ${retryAfterSeconds} s`, { status: 429, retryable: true, details: { retryAfterSeconds } });
    }
    pageHeaders(ctx);
    ctx.status = 429;
    ctx.set('Retry-After', String(retryAfterSeconds));
    const m = MESSAGES[lang];
    ctx.body = renderMessagePage({ lang, assets, path: page }, m.tooManyHeading, m.tooMany(retryAfterSeconds));
  }

  async function showCopy(ctx: Context & { state: AppState }, code: string, lang: Lang, access: AccessState): Promise<void> {
    if (wantsJson(ctx)) {
      // Programs: the view's JSON as the register gives it, with the checks; not-found as GET /api/v1/public/copies/{code}.
      const found = deps.copies.findPublicJson(code);
      ctx.state.log.info({ lookup: 'public-code', found: found !== null, status: found?.status }, 'public verification lookup');
      if (!found) throw new HttpError('copy-not-found', 'no certified copy has this code', { status: 404 });
      if (access.kind === 'wrong') throw new HttpError('access-code-wrong', 'the access code does not match this copy', { status: 403 });
      sendPublicCopyJson(ctx, found.json, assessor.assessKnown(found, found.fileKey) ?? (await assessor.assess(found, found.fileKey)));
      // With the right access code, programs get what the page unlocks, as the page does.
      if (access.kind === 'unlocked') ctx.body = JSON.stringify({ ...(JSON.parse((ctx.body as Buffer).toString('utf8')) as object), access: access.unlocked });
      return;
    }
    const found = deps.copies.findPublic(code);
    const view = found?.view ?? null;
    ctx.state.log.info({ lookup: 'public-code', found: view !== null, status: view?.status }, 'public verification lookup');
    const frame = { lang, assets, path: `/v/${code}` };
    if (!view || !found) {
      pageHeaders(ctx);
      ctx.status = 404;
      ctx.body = renderNotFoundPage(frame);
      return;
    }
    const assessment = assessor.assessKnown(view, found.fileKey) ?? (await assessor.assess(view, found.fileKey));
    pageHeaders(ctx);
    if (access.kind === 'wrong') ctx.status = 403;
    // Bytes, not a string: a string body is UTF-8 encoded twice (Content-Length, then the write), which
    // for a Vietnamese page cost more than rendering it.
    ctx.body = renderCopyPage({ ...frame, path: `/v/${found.publicCode}` }, found.publicCode, view, assessment, access);
  }

  const lookup: LookupRoute = {
    take: (client) => buckets.lookup.take(client),
    handOver: (req, taken) => handedOver.set(req, taken),
    knownAnswer(code, lang, json) {
      if (json) {
        const found = deps.copies.findPublicJson(code);
        const a = found ? assessor.assessKnown(found, found.fileKey) : undefined;
        return found && a ? { copyStatus: found.status, headers: PUBLIC_JSON_HEADERS, body: publicCopyJson(found.json, a) } : undefined;
      }
      const found = deps.copies.findPublic(code);
      const a = found ? assessor.assessKnown(found.view, found.fileKey) : undefined;
      if (!found || !a) return undefined;
      const body = renderCopyPage({ lang, assets, path: `/v/${found.publicCode}` }, found.publicCode, found.view, a, { kind: 'locked' });
      return { copyStatus: found.view.status, headers: PAGE_HEADERS, body };
    },
  };

  router.get('/assets/:file', (ctx, next) => {
    const asset = assets.byUrl(ctx.path);
    if (!asset) return next(); // the console's assets, or the edge's 404
    ctx.set('Cache-Control', 'public, max-age=31536000, immutable');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.type = asset.type;
    ctx.body = asset.body;
  });

  router.get('/v', (ctx) => {
    pageHeaders(ctx);
    ctx.body = renderEntryPage({ lang: langOf(ctx.query.lang), assets, path: '/v' }, false);
  });

  router.post('/v', async (ctx) => {
    const lang = langOf(ctx.query.lang);
    const taken = buckets.entry.take(ctx.ip);
    if (!taken.ok) return tooMany(ctx, lang, 'entry', taken.retryAfterSeconds, '/v');
    const typed = (await readForm(ctx)).get('code') ?? '';
    // People copy codes with spaces or dashes between groups; the code itself is base32 (RFC 4648 §6).
    const code = normalizePublicCode(typed.replace(/[\s-]/g, ''));
    if (code === null) {
      ctx.state.log.info({ lookup: 'typed-code', wellFormed: false }, 'public verification lookup');
      pageHeaders(ctx);
      ctx.status = 400;
      ctx.body = renderEntryPage({ lang, assets, path: '/v' }, true, typed.slice(0, 80));
      return;
    }
    ctx.status = 303;
    ctx.redirect(lang === 'en' ? `/v/${code}?lang=en` : `/v/${code}`);
  });

  router.get('/v/:code', async (ctx) => {
    const lang = langOf(ctx.query.lang);
    const taken = handedOver.get(ctx.req) ?? buckets.lookup.take(ctx.ip);
    if (!taken.ok) return tooMany(ctx, lang, 'lookup', taken.retryAfterSeconds, `/v/${ctx.params.code ?? ''}`);
    await showCopy(ctx, ctx.params.code ?? '', lang, { kind: 'locked' });
  });

  router.post('/v/:code/access', async (ctx) => {
    const lang = langOf(ctx.query.lang);
    const code = normalizePublicCode(ctx.params.code ?? '');
    // Both buckets are checked before the (deliberately slow) scrypt comparison.
    for (const [which, key] of [['access', ctx.ip], ['access-per-code', code ?? '']] as const) {
      const b = which === 'access' ? buckets.access : buckets.accessPerCode;
      const taken = b.take(key);
      if (!taken.ok) return tooMany(ctx, lang, which, taken.retryAfterSeconds, `/v/${code ?? ctx.params.code ?? ''}`);
    }
    const given = ((await readForm(ctx)).get('access_code') ?? '').slice(0, 64);
    const ok = code !== null && given !== '' && deps.copies.verifyAccessCode(code, given);
    ctx.state.log.info({ lookup: 'access-code', ok }, 'public verification access');
    if (!ok || code === null) return showCopy(ctx, ctx.params.code ?? '', lang, { kind: 'wrong' });
    const record = deps.copies.getByPublicCode(code);
    if (!record) return showCopy(ctx, code, lang, { kind: 'wrong' });
    const t = tokens.issue(code);
    await showCopy(ctx, code, lang, {
      kind: 'unlocked',
      unlocked: {
        requesterName: record.requesterName,
        documentName: record.documentName,
        viewUrl: `/v/${code}/file?t=${encodeURIComponent(t)}`,
        downloadUrl: `/v/${code}/file?t=${encodeURIComponent(t)}&download=1`,
        ttlMinutes: Math.round(ttl / 60),
      },
    });
  });

  // The page's "full signature validation" button: public (citizens have no API key), rate-limited per
  // client, the same validation as POST /api/v1/validations; the file is deleted with the response.
  // Without the page's script (format=html from the form) the answer is the report page of /report, in
  // the page's language and under the same CSP, its language switch leading back to the copy's page;
  // a file refused is explained on a page too. Programs get JSON and problem+json.
  router.post('/v/:code/validation', async (ctx) => {
    const lang = langOf(ctx.query.lang);
    const page = `/v/${normalizePublicCode(ctx.params.code ?? '') ?? ctx.params.code ?? ''}`;
    const taken = buckets.validation.take(ctx.ip);
    if (!taken.ok) return tooMany(ctx, lang, 'validation', taken.retryAfterSeconds, page);
    const reportFrame = { lang, assets: reportAssets, path: page };
    let leave: (() => void) | undefined;
    try {
      if (!opts.validation) throw new HttpError('validation-unavailable', 'signature validation is not configured here', { status: 503 });
      // Before the upload is received: a full house takes no more files.
      leave = opts.publicValidations?.enter(ctx.ip);
      const { pdf, rawParams } = await receiveDocument(ctx, { dataDir: opts.dataDir, uploadBytes: opts.uploadBytes ?? 268_435_456 });
      const report = await validateDocument(opts.validation, { path: pdf.path });
      report.source = pdf.filename;
      ctx.state.log.info({ lookup: 'file-validation', indication: report.documentIndication }, 'public verification validation');
      if (rawParams.format === 'html' && !wantsJson(ctx)) {
        pageHeaders(ctx);
        ctx.body = renderReportResult(reportFrame, report);
        return;
      }
      ctx.set('Cache-Control', 'no-store');
      ctx.body = report;
    } catch (err) {
      // A browser's form submission (it asks for HTML) gets a page; anything else problem+json.
      if (!(err instanceof AppError) || wantsJson(ctx) || !/\btext\/html\b/.test(ctx.get('accept'))) throw err;
      pagedProblem(ctx, err);
      pageHeaders(ctx);
      ctx.body = renderReportProblem(reportFrame, err);
    } finally {
      leave?.();
    }
  });

  router.get('/v/:code/file', async (ctx) => {
    const lang = langOf(ctx.query.lang);
    const code = normalizePublicCode(ctx.params.code ?? '');
    const t = typeof ctx.query.t === 'string' ? ctx.query.t : '';
    const record = code !== null && tokens.verify(code, t) ? deps.copies.getByPublicCode(code) : null;
    const file = record ? fileKeyPath(storeDir, record.fileKey) : null;
    const size = file ? await stat(file).then((s) => s.size, () => null) : null;
    ctx.state.log.info({ lookup: 'copy-file', served: size !== null }, 'public verification file');
    if (!record || !file || size === null) {
      if (wantsJson(ctx)) throw new HttpError('file-link-invalid', 'the file link has expired or is not valid', { status: 403 });
      pageHeaders(ctx);
      ctx.status = 403;
      const m = MESSAGES[lang];
      ctx.body = renderMessagePage({ lang, assets, path: ctx.path }, m.accessHeading, m.fileLinkExpired);
      return;
    }
    const name = `ban-sao-${record.number}-${record.year}.pdf`;
    ctx.set('Cache-Control', 'private, no-store');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Content-Disposition', `${ctx.query.download === '1' ? 'attachment' : 'inline'}; filename="${name}"`);
    ctx.type = 'application/pdf';
    ctx.length = size;
    ctx.body = createReadStream(file);
  });

  return Object.assign(router, { lookup });
}
