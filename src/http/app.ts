/** Builds the Koa application from already-constructed dependencies (no I/O here). */
import Koa from 'koa';
import type { Logger } from 'pino';
import { bodyLimit, errorEdge, requestContext, type AppState } from './middleware.ts';
import { healthRouter, type ReadinessCheck } from './routes/health/router.ts';
import { signaturesRouter } from './routes/signatures/router.ts';
import type { SigningDeps } from '../services/signDocument.ts';
import type { TimeStampAuthority } from '../tsa/index.ts';
import { tsaRouter } from './routes/tsa/router.ts';
import { validationsRouter } from './routes/validations/router.ts';
import { verificationRouter } from './routes/verification/router.ts';
import type { CopyRepository } from '../registry/index.ts';
import type { ValidationDeps } from '../services/validateDocument.ts';

export interface AppDeps {
  logger: Logger;
  limits: { jsonBytes: number; uploadBytes: number };
  readiness: readonly ReadinessCheck[];
  signing: SigningDeps;
  getTsa: () => Promise<TimeStampAuthority>;
  validation: ValidationDeps;
  copies: CopyRepository;
  dataDir: string;
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
  for (const router of [
    healthRouter(deps.readiness),
    signaturesRouter({ signing: deps.signing, dataDir: deps.dataDir, uploadBytes: deps.limits.uploadBytes }),
    tsaRouter({ getTsa: deps.getTsa }),
    validationsRouter({ validation: deps.validation, dataDir: deps.dataDir, uploadBytes: deps.limits.uploadBytes }),
    verificationRouter({ copies: deps.copies }, { dataDir: deps.dataDir, validation: deps.validation }),
  ]) {
    app.use(router.routes());
    app.use(router.allowedMethods({ throw: true }));
  }
  return app;
}
