/** Builds the Koa application from already-constructed dependencies (no I/O here). */
import Koa from 'koa';
import type { Logger } from 'pino';
import { Admission, DEFAULT_PUBLIC_VALIDATIONS } from './admission.ts';
import { bodyLimit, errorEdge, requestContext, type AppState } from './middleware.ts';
import { healthRouter, type ReadinessCheck } from './routes/health/router.ts';
import { signaturesRouter } from './routes/signatures/router.ts';
import type { SigningDeps } from '../services/signDocument.ts';
import { keyHolder } from '../services/keyHolder.ts';
import type { TimeStampAuthority } from '../tsa/index.ts';
import { tsaRouter } from './routes/tsa/router.ts';
import { validationsRouter } from './routes/validations/router.ts';
import { DEFAULT_VERIFICATION_LIMITS, verificationRouter } from './routes/verification/router.ts';
import { TokenBuckets, type BucketLimit } from './routes/verification/rateLimit.ts';
import { consoleRouter } from './routes/console/router.ts';
import { copiesRouter, type CopiesRouteDeps } from './routes/copies/router.ts';
import type { CopyRepository, TenantRepository } from '../registry/index.ts';
import type { ValidationDeps } from '../services/validateDocument.ts';
import type { ApiKeyRepository, AuditLog } from '../registry/index.ts';
import { authenticate } from './access/authenticate.ts';
import { rateLimit, type RateLimitOptions } from './access/rateLimit.ts';
import type { CookieOptions } from './access/sessionCookie.ts';
import { clientIp, clientResolver } from './access/trustProxy.ts';
import { lookupFastPath, type FastPath } from './routes/verification/fastLookup.ts';
import { accountsRouter } from './routes/accounts/router.ts';
import type { OfficerRepository } from '../registry/index.ts';
import type { OfficerSessions } from '../services/officerSessions.ts';
import { auditTrail } from './access/auditTrail.ts';
import type { FailureThrottle } from './access/FailureThrottle.ts';
import type { IdempotencyDeps } from './idempotency.ts';
import type { ServiceMetrics } from './metrics.ts';
import { OPERATIONS, operationIndex } from './operations.ts';
import { openApiRouter } from './routes/openapi/router.ts';
import type Router from '@koa/router';

export interface AppDeps {
  logger: Logger;
  /** `publicValidations`: anonymous validations of uploaded files at once (default DEFAULT_PUBLIC_VALIDATIONS). */
  limits: { jsonBytes: number; uploadBytes: number; publicValidations?: number };
  readiness: readonly ReadinessCheck[];
  signing: SigningDeps;
  getTsa: () => Promise<TimeStampAuthority>;
  validation: ValidationDeps;
  copies: CopyRepository;
  tenants: TenantRepository;
  dataDir: string;
  /** Where certified PDFs are kept (Config.copyStoreDir). */
  copyStoreDir: string;
  access: {
    /** `off` is for development only (see Config.api.auth). */
    mode: 'required' | 'off';
    apiKeys: ApiKeyRepository;
    throttle: FailureThrottle;
    audit: AuditLog;
    idempotency: IdempotencyDeps;
    /** Officer accounts and sessions (routes/accounts, the ct_session cookie). */
    officers: OfficerRepository;
    sessions: OfficerSessions;
    cookie: CookieOptions;
    rateLimit: RateLimitOptions;
    /** TRUST_PROXY entries: whose X-Forwarded-For gives the client address. */
    trustProxy: readonly string[];
    /** The public lookup's bucket per client (RATE_LIMIT_LOOKUP_*; default DEFAULT_VERIFICATION_LIMITS.lookup). */
    lookupLimit?: BucketLimit;
  };
  metrics?: ServiceMetrics | undefined;
  openApi: Record<string, unknown>;
  /** Certified copies over HTTP (routes/copies): certifying, register, refusals, tenant settings. */
  certifiedCopies: Pick<CopiesRouteDeps, 'certify' | 'settings' | 'refusals' | 'officers' | 'limits'>;
}

/** A mounted route, as the routers' stacks hold it (compared with the OpenAPI document in tests). */
export interface MountedRoute {
  method: string;
  path: string;
}

/**
 * `fastPath` answers the plain public lookups (GET /v/{code}) before Koa, or leaves them to it
 * (routes/verification/fastLookup.ts): the server calls it first (server.ts `listen`).
 */
export type ChungthucApp = Koa<AppState> & { readonly routes: readonly MountedRoute[]; readonly fastPath: FastPath };

/** Routes that accept documents (PDFs, scans) get the upload limit instead of the JSON one. */
const UPLOAD_PATHS: readonly RegExp[] = [/^\/api\/v1\/signatures(\/|$)/, /^\/api\/v1\/validations(\/|$)/, /^\/tsa$/, /^\/v\/[^/]+\/validation$/, /^\/report$/, /^\/api\/v1\/certified-copies(\/preview)?$/];

export function createApp(deps: AppDeps): ChungthucApp {
  const app = new Koa<AppState>({ proxy: false });
  // Errors are answered by errorEdge; Koa's default handler would only log them again.
  app.silent = true;
  // First: everything after (logs, audit, access, rate limits) sees the real client address.
  app.use(clientIp(deps.access.trustProxy));
  app.use(requestContext(deps.logger));
  // Outside the error edge, so they see the final status of every answer.
  if (deps.metrics) app.use(deps.metrics.middleware());
  app.use(auditTrail(deps.access.audit));
  app.use(errorEdge());
  // Before any body is read: anonymous callers never get to upload.
  app.use(authenticate({ ...deps.access, operations: operationIndex() }));
  app.use(rateLimit(deps.access.rateLimit));
  app.use(bodyLimit(deps.limits, UPLOAD_PATHS));
  // Anonymous validations of uploaded files, both public routes together (see admission.ts).
  const publicValidations = new Admission(deps.limits.publicValidations ?? DEFAULT_PUBLIC_VALIDATIONS, 'validations of uploaded files');
  // One lookup bucket per client for the page and the public API: a client gets its lookups once.
  const lookupBuckets = new TokenBuckets(deps.access.lookupLimit ?? DEFAULT_VERIFICATION_LIMITS.lookup);
  const verification = verificationRouter(
    { copies: deps.copies },
    { dataDir: deps.dataDir, copyStoreDir: deps.copyStoreDir, validation: deps.validation, uploadBytes: deps.limits.uploadBytes, publicValidations, lookupBuckets },
  );
  const routers: Router<AppState>[] = [
    // The public pages first: every QR scan lands here, and each router before costs a match. Its
    // asset handler passes files it does not know on to the console's.
    verification,
    openApiRouter(deps.openApi),
    healthRouter(deps.readiness),
    consoleRouter({ dataDir: deps.dataDir, uploadBytes: deps.limits.uploadBytes, validation: deps.validation, publicValidations }),
    signaturesRouter({
      signing: deps.signing,
      dataDir: deps.dataDir,
      uploadBytes: deps.limits.uploadBytes,
      idempotency: deps.access.idempotency,
      maySignWith: (tenantId, label) => deps.tenants.maySignWith(tenantId, label),
    }),
    tsaRouter({ getTsa: deps.getTsa }),
    accountsRouter({
      sessions: deps.access.sessions,
      officers: deps.access.officers,
      apiKeys: deps.access.apiKeys,
      audit: deps.access.audit,
      throttle: deps.access.throttle,
      cookie: deps.access.cookie,
      idempotency: deps.access.idempotency,
      keyHolder: (label) => keyHolder(deps.signing.getSigner, label),
    }),
    copiesRouter({
      ...deps.certifiedCopies,
      publicBuckets: lookupBuckets,
      tenants: deps.tenants,
      dataDir: deps.dataDir,
      uploadBytes: deps.limits.uploadBytes,
      jsonBytes: deps.limits.jsonBytes,
      idempotency: deps.access.idempotency,
      validation: deps.validation,
    }),
    validationsRouter({ validation: deps.validation, dataDir: deps.dataDir, uploadBytes: deps.limits.uploadBytes }),
  ];
  for (const router of routers) {
    app.use(router.routes());
    app.use(router.allowedMethods({ throw: true }));
  }
  const routes = routers.flatMap((r) => r.stack.flatMap((layer) => layer.methods.filter((m) => m !== 'HEAD').map((method) => ({ method, path: String(layer.path) }))));
  const fastPath = lookupFastPath({
    route: verification.lookup,
    operation: OPERATIONS.find((op) => op.operationId === 'verification.lookup')!,
    clientOf: clientResolver(deps.access.trustProxy),
    logger: deps.logger,
    audit: deps.access.audit,
    metrics: deps.metrics,
  });
  return Object.assign(app, { routes, fastPath });
}
