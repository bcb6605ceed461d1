/**
 * POST /api/v1/validations — PDF in, validation report out: JSON (default) or, with
 * `?format=html` or `Accept: text/html`, a page for people: the public report page's result
 * (`?lang=en` for English), under its CSP.
 */
import Router from '@koa/router';
import type { AppState } from '../../middleware.ts';
import { HttpError } from '../../problem.ts';
import { receiveDocument } from '../../upload.ts';
import { validateDocument, type ValidationDeps } from '../../../services/validateDocument.ts';
import { consolePageHeaders, loadConsoleAssets } from '../console/layout.ts';
import { renderReportResult } from '../console/reportPage.ts';
import { langOf } from '../verification/i18n.ts';
import { validationParamsSchema } from './schema.ts';

export function validationsRouter(deps: { validation: ValidationDeps; dataDir: string; uploadBytes: number }): Router<AppState> {
  const router = new Router<AppState>({ prefix: '/api/v1', sensitive: true });
  const assets = loadConsoleAssets();
  router.post('/validations', async (ctx) => {
    const { pdf, rawParams } = await receiveDocument(ctx, deps);
    const parsed = validationParamsSchema.safeParse({ format: rawParams.format });
    if (!parsed.success) throw new HttpError('invalid-parameters', 'format must be json or html', { status: 400 });
    const format = parsed.data.format ?? (ctx.accepts('json', 'html') === 'html' ? 'html' : 'json');
    ctx.state.audit = { details: { file: pdf.filename, bytes: pdf.size } };
    const report = await validateDocument(deps.validation, { path: pdf.path });
    report.source = pdf.filename;
    if (format === 'html') {
      consolePageHeaders(ctx);
      ctx.body = renderReportResult({ lang: langOf(ctx.query.lang), assets, path: '/report' }, report);
    } else {
      ctx.body = report;
    }
  });
  return router;
}
