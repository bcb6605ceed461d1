/** Builds the Koa application from already-constructed dependencies (no I/O here). */
import Koa from 'koa';
import type { Logger } from 'pino';
import { bodyLimit, errorEdge, requestContext, type AppState } from './middleware.ts';
import { healthRouter, type ReadinessCheck } from './routes/health/router.ts';

export interface AppDeps {
  logger: Logger;
  limits: { jsonBytes: number; uploadBytes: number };
  readiness: readonly ReadinessCheck[];
}

/** Routes that accept documents (PDFs, scans) get the upload limit instead of the JSON one. */
const UPLOAD_PATHS: readonly RegExp[] = [/^\/api\/v1\/signatures(\/|$)/, /^\/api\/v1\/validations(\/|$)/, /^\/tsa$/];

export function createApp(deps: AppDeps): Koa<AppState> {
  const app = new Koa<AppState>({ proxy: false });
  // Errors are answered by errorEdge; Koa's default handler would only log them again.
  app.silent = true;
  app.use(requestContext(deps.logger));
  app.use(errorEdge());
  app.use(bodyLimit(deps.limits, UPLOAD_PATHS));
  const health = healthRouter(deps.readiness);
  app.use(health.routes());
  app.use(health.allowedMethods({ throw: true }));
  return app;
}
