/**
 * The officer console (issue #8) and the public report page:
 * - GET  /console                → the signed-in officer's first section, else the login page
 * - GET  /console/login          login form (console.js posts JSON to POST /api/v1/session)
 * - GET  /console/{certify,today,search,admin}
 *                                server-rendered shells; console.js fills them from the JSON APIs
 *                                with the session cookie and the X-CSRF-Token header
 * - GET  /report, POST /report   anyone can check a signed PDF: the validation report as a page
 * - GET  /assets/console.*       this page family's own CSS and JS (content-hashed)
 *
 * Access: the catalogue marks the shells `public` because they hold no data; this router itself
 * sends a visitor without an officer session to the login page (303) and answers 403 to an officer
 * whose role lacks the section's scope. The data stays behind the scoped, tenant-scoped APIs, so a
 * shell shown by mistake would still show nothing.
 *
 * POST /report is public on purpose: citizens and receiving offices have no API key, and the
 * verification page (/v/{code}) already offers the same validation per copy. It is rate-limited per
 * client (token bucket) because validation costs CPU and network (OCSP/CRL), the file is deleted
 * with the response, and nothing of it is logged but the verdict.
 */
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import type { AppState } from '../../middleware.ts';
import { AppError } from '../../../errors.ts';
import type { Admission } from '../../admission.ts';
import { pagedProblem } from '../../htmlPage.ts';
import { HttpError } from '../../problem.ts';
import { receiveDocument } from '../../upload.ts';
import { validateDocument, type ValidationDeps } from '../../../services/validateDocument.ts';
import type { ApiScope } from '../../../registry/index.ts';
import { langOf, type Lang } from '../verification/i18n.ts';
import { TokenBuckets, type BucketLimit } from '../verification/rateLimit.ts';
import { CONSOLE_MESSAGES } from './i18n.ts';
import { consolePageHeaders, layout, loadConsoleAssets, withLang, esc, type SignedIn } from './layout.ts';
import { renderAccountPage, renderAdminPage, renderCertifyPage, renderLoginPage, renderSearchPage, renderTodayPage } from './pages.ts';
import { renderReportForm, renderReportMessage, renderReportProblem, renderReportResult } from './reportPage.ts';

export interface ConsoleOptions {
  dataDir: string;
  uploadBytes: number;
  /** Without it POST /report answers 503. */
  validation?: ValidationDeps;
  /** POST /report per client address. */
  reportLimit?: BucketLimit;
  /** Anonymous validations in flight at once, shared with the verification pages' button. */
  publicValidations?: Admission;
}

export const DEFAULT_REPORT_LIMIT: BucketLimit = { capacity: 6, refillPerSecond: 1 / 10 };

const pageHeaders = consolePageHeaders;

/** The page path with the query minus `lang`, so the language switch keeps the rest. */
function pathOf(ctx: Context): string {
  const q = new URLSearchParams(ctx.querystring);
  q.delete('lang');
  const s = q.toString();
  return s ? `${ctx.path}?${s}` : ctx.path;
}

/** Only same-site console paths are followed after login (no open redirect). */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/console(\/[a-z]+)?$/.test(next) ? next : '/console';
}

type Section = 'certify' | 'today' | 'search' | 'admin' | 'account';
/** The scope a section needs; null: any signed-in officer (their own account). */
const SECTION_SCOPE: Record<Section, ApiScope | null> = { certify: 'certify', today: 'read-registry', search: 'read-registry', admin: 'admin', account: null };

function signedIn(ctx: Context & { state: AppState }): SignedIn | null {
  const p = ctx.state.principal;
  return p?.kind === 'officer' ? { username: p.username, role: p.role, scopes: p.scopes } : null;
}

/** Where an officer lands: administration for admins, else the first section their role may use. */
function home(who: SignedIn): Section {
  return (['admin', 'certify', 'today'] as const).find((s) => who.scopes.includes(SECTION_SCOPE[s]!)) ?? 'search';
}

export function consoleRouter(opts: ConsoleOptions): Router<AppState> {
  const router = new Router<AppState>({ sensitive: true });
  const assets = loadConsoleAssets();
  const reportBuckets = new TokenBuckets(opts.reportLimit ?? DEFAULT_REPORT_LIMIT);
  const frame = (ctx: Context, lang: Lang) => ({ lang, assets, path: pathOf(ctx) });

  // Mounted before the verification router: files that are not ours go on to its asset handler.
  router.get('/assets/:file', async (ctx, next: Next) => {
    const asset = assets.byUrl(ctx.path);
    if (!asset) return next();
    ctx.set('Cache-Control', 'public, max-age=31536000, immutable');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.type = asset.type;
    ctx.body = asset.body;
  });

  router.get('/console', (ctx) => {
    const lang = langOf(ctx.query.lang);
    const who = signedIn(ctx);
    ctx.status = 303;
    ctx.redirect(withLang(who ? `/console/${home(who)}` : '/console/login', lang));
  });

  router.get('/console/login', (ctx) => {
    const lang = langOf(ctx.query.lang);
    const who = signedIn(ctx);
    if (who) {
      ctx.status = 303;
      ctx.redirect(withLang(safeNext(ctx.query.next), lang));
      return;
    }
    pageHeaders(ctx);
    ctx.body = renderLoginPage(frame(ctx, lang), safeNext(ctx.query.next));
  });

  const renderers: Record<Section, (f: ReturnType<typeof frame> & { who: SignedIn }) => string> = {
    certify: renderCertifyPage,
    today: renderTodayPage,
    search: renderSearchPage,
    admin: renderAdminPage,
    account: renderAccountPage,
  };
  for (const section of Object.keys(renderers) as Section[]) {
    router.get(`/console/${section}`, (ctx) => {
      const lang = langOf(ctx.query.lang);
      const who = signedIn(ctx);
      if (!who) {
        ctx.status = 303;
        ctx.redirect(withLang(`/console/login?next=${encodeURIComponent(`/console/${section}`)}`, lang));
        return;
      }
      pageHeaders(ctx);
      const needs = SECTION_SCOPE[section];
      if (needs !== null && !who.scopes.includes(needs)) {
        const m = CONSOLE_MESSAGES[lang];
        ctx.status = 403;
        ctx.body = layout(
          { ...frame(ctx, lang), who, page: section, title: m.nav[section] },
          `<h1>${esc(m.nav[section])}</h1><p class="error" role="alert">${esc(lang === 'vi' ? `Vai trò "${m.roles[who.role]}" không có quyền "${needs}".` : `The "${m.roles[who.role]}" role lacks the "${needs}" scope.`)}</p>`,
        );
        return;
      }
      ctx.body = renderers[section]({ ...frame(ctx, lang), who });
    });
  }

  router.get('/report', (ctx) => {
    pageHeaders(ctx);
    ctx.body = renderReportForm(frame(ctx, langOf(ctx.query.lang)));
  });

  router.post('/report', async (ctx) => {
    const lang = langOf(ctx.query.lang);
    const m = CONSOLE_MESSAGES[lang];
    const people = ctx.accepts('html', 'json') === 'html';
    const taken = reportBuckets.take(ctx.ip);
    if (!taken.ok) {
      ctx.state.log.info({ rateLimited: 'report' }, 'public report rate-limited');
      ctx.set('Retry-After', String(taken.retryAfterSeconds));
      if (!people) throw new HttpError('rate-limited', `too many requests; retry in ${taken.retryAfterSeconds} s`, { status: 429, retryable: true, details: { retryAfterSeconds: taken.retryAfterSeconds } });
      pageHeaders(ctx);
      ctx.status = 429;
      ctx.body = renderReportMessage(frame(ctx, lang), m.tooManyHeading, m.tooMany(taken.retryAfterSeconds));
      return;
    }
    let leave: (() => void) | undefined;
    try {
      if (!opts.validation) throw new HttpError('validation-unavailable', 'signature validation is not configured here', { status: 503 });
      // Before the upload is received: a full house takes no more files.
      leave = opts.publicValidations?.enter(ctx.ip);
      const { pdf } = await receiveDocument(ctx, opts);
      const report = await validateDocument(opts.validation, { path: pdf.path });
      report.source = pdf.filename;
      ctx.state.log.info({ report: 'public', indication: report.documentIndication }, 'public report');
      if (!people) {
        ctx.set('Cache-Control', 'no-store');
        ctx.body = report;
        return;
      }
      pageHeaders(ctx);
      ctx.body = renderReportResult(frame(ctx, lang), report);
    } catch (err) {
      // People get the reason, in the page's language, on a page with the form again; programs get problem+json.
      if (!people || !(err instanceof AppError)) throw err;
      pagedProblem(ctx, err);
      pageHeaders(ctx);
      ctx.body = renderReportProblem(frame(ctx, lang), err);
    } finally {
      leave?.();
    }
  });

  return router;
}
