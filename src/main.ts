/**
 * Composition root: builds every dependency once, wires them, and owns their lifecycle. Nothing
 * else constructs HSM sessions, databases or servers.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { pino, type Logger } from 'pino';
import { loadConfig, type Config } from './config.ts';
import { startDevPkiServices } from './dev/pkiServices.ts';
import { AppError } from './errors.ts';
import { FailureThrottle } from './http/access/FailureThrottle.ts';
import { createApp, type MountedRoute } from './http/app.ts';
import { ServiceMetrics, listenMetrics, type MetricsServer } from './http/metrics.ts';
import { buildOpenApiDocument } from './http/openapi.ts';
import { listen, type RunningServer } from './http/server.ts';
import { STRICT_POLICY, parsePolicy, policyToJson } from './pades/validation/index.ts';
import { ValidationPool } from './services/validationPool.ts';
import { CertificatePool, CrlFetcher, OcspClient, RevocationChecker, loadCertificates } from './pki/index.ts';
import {
  ApiKeyRepository,
  AuditLog,
  CopyRepository,
  IdempotencyRepository,
  OfficerRepository,
  SessionRepository,
  RefusalRepository,
  TenantSettingsRepository,
  openDatabase,
  registrySize,
  TenantRepository,
  type OpenedDatabase,
  type Sqlite,
} from './registry/index.ts';
import { sweepExpiredReservations } from './services/certifyCopy.ts';
import { demoBannerLines, seedDemoTenant } from './services/demoTenant.ts';
import { OfficerSessions } from './services/officerSessions.ts';
import type { SigningDeps } from './services/signDocument.ts';
import { lazyLocalTimestampSource, revocationProvider } from './services/trustServices.ts';
import type { ValidationDeps } from './services/validateDocument.ts';
import { openToken, type Pkcs11Token } from './signers/index.ts';
import type { Signer } from './signers/Signer.ts';
import { SqliteSerialSource, TimeStampAuthority, httpTimestampSource } from './tsa/index.ts';

export interface Service {
  readonly config: Config;
  readonly url: string;
  readonly db: OpenedDatabase;
  /** The routes the HTTP app mounted (method + router path). */
  readonly routes: readonly MountedRoute[];
  /** Where GET /metrics is served; undefined when METRICS_PORT=0. */
  readonly metricsUrl: string | undefined;
  /** The HSM token, once connected (the service starts and reports not-ready while it is absent). */
  hsm(): Pkcs11Token;
  close(): Promise<void>;
}

/** The service version (package.json), shown in the OpenAPI document. */
export const SERVICE_VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  return pino({
    level: config.logLevel,
    base: { svc: 'chungthuc' },
    // Defence in depth: secrets never reach the log even if an object carrying them is logged.
    redact: { paths: ['pin', '*.pin', 'pkcs11.pin', 'config.pkcs11.pin', 'req.headers.authorization', 'req.headers.cookie'], censor: '[redacted]' },
  });
}

/**
 * Keeps one connection to the token. If the HSM is unreachable at start (network HSM down, token not
 * inserted) the service still starts, /readyz says why, and the connection is retried with backoff.
 */
class HsmConnection {
  private token: Pkcs11Token | undefined;
  private lastError: unknown;
  private opening: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private delayMs = 1000;

  constructor(
    private readonly config: Config['pkcs11'],
    private readonly log: Logger,
  ) {}

  connect(): Promise<void> {
    this.opening ??= openToken({ ...this.config, logger: this.log })
      .then((t) => {
        if (this.closed) return t.close();
        this.token = t;
        this.lastError = undefined;
        this.log.info({ token: this.config.tokenLabel }, 'HSM token connected');
      })
      .catch((err: unknown) => {
        this.lastError = err;
        this.log.error({ err, token: this.config.tokenLabel, retryInMs: this.delayMs }, 'HSM token unavailable');
        if (!this.closed) {
          this.retryTimer = setTimeout(() => void this.connect(), this.delayMs);
          this.retryTimer.unref();
          this.delayMs = Math.min(this.delayMs * 2, 60_000);
        }
      })
      .finally(() => {
        this.opening = undefined;
      });
    return this.opening;
  }

  get(): Pkcs11Token {
    if (this.token) return this.token;
    throw this.lastError instanceof AppError
      ? this.lastError
      : new AppError('hsm-unavailable', 'the HSM token is not connected yet', { status: 503, retryable: true });
  }

  async ping(): Promise<void> {
    await this.get().ping();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    await this.opening;
    await this.token?.close();
    this.token = undefined;
  }
}

/** CA certificates that complete signers' chains: the CA bundle plus the trust anchors. */
export function buildCaPool(config: Pick<Config, 'caCerts' | 'trustDir'>): CertificatePool {
  return new CertificatePool([...loadCertificates(config.caCerts), ...loadCertificates(config.trustDir)]);
}

/** Trust anchors and policy for validation; online revocation through `checker` when the policy allows. */
export function buildValidationDeps(config: Config, checker?: RevocationChecker): ValidationDeps {
  const policy = config.validationPolicyFile ? parsePolicy(readFileSync(config.validationPolicyFile, 'utf8')) : STRICT_POLICY;
  return { trustAnchors: loadCertificates(config.trustDir), policy, checker, timeoutMs: config.validationTimeoutMs };
}

export interface TrustServices {
  signing: SigningDeps;
  checker: RevocationChecker;
  /** The built-in TSA (created on first use: it needs the HSM key). */
  getTsa(): Promise<TimeStampAuthority>;
}

/**
 * Signing dependencies shared by the HTTP service and the CLI: signer lookup, CA pool, the
 * time-stamp source (external TSA_URL, else the built-in TSA) and OCSP/CRL revocation.
 */
export function buildTrustServices(config: Config, getSigner: (label: string) => Promise<Signer>, db: Sqlite, caPool = buildCaPool(config)): TrustServices {
  const checker = new RevocationChecker({
    ocsp: new OcspClient({ url: config.revocation.ocspUrl, timeoutMs: config.revocation.timeoutMs }),
    crl: new CrlFetcher({ timeoutMs: config.revocation.timeoutMs }),
  });
  let tsa: Promise<TimeStampAuthority> | undefined;
  const getTsa = (): Promise<TimeStampAuthority> => {
    tsa ??= (async () => {
      const signer = await getSigner(config.tsa.keyLabel);
      if (!signer.certificate) throw new AppError('tsa-misconfigured', `the TSA key "${config.tsa.keyLabel}" has no certificate in the token`);
      const leaf = new X509Certificate(signer.certificate);
      return new TimeStampAuthority({
        signer,
        certificate: signer.certificate,
        chain: caPool.buildChain(leaf).slice(1).map((c) => new Uint8Array(c.raw)),
        policyOid: config.tsa.policyOid,
        accuracy: config.tsa.accuracyMs >= 1000 ? { seconds: Math.round(config.tsa.accuracyMs / 1000) } : { millis: config.tsa.accuracyMs },
        serials: new SqliteSerialSource(db),
      });
    })();
    // A failure (HSM not yet connected) must not stick: the next call tries again.
    tsa.catch(() => {
      tsa = undefined;
    });
    return tsa;
  };
  const timestamps = config.tsa.url
    ? httpTimestampSource({ url: config.tsa.url, auth: config.tsa.auth, timeoutMs: config.revocation.timeoutMs })
    : lazyLocalTimestampSource(getTsa);
  return { checker, getTsa, signing: { getSigner, caPool, timestamps, revocation: revocationProvider(checker, caPool) } };
}

/** Officer accounts and sign-in (issue #6): the repositories and the session use case over one database. */
function buildOfficerSessions(config: Config, db: Sqlite) {
  const officers = new OfficerRepository(db);
  const sessionRepo = new SessionRepository(db, { idleMs: config.sessions.idleMs, absoluteMs: config.sessions.absoluteMs });
  const sessions = new OfficerSessions({
    officers,
    sessions: sessionRepo,
    tenants: new TenantRepository(db),
    lockout: { maxFailures: config.sessions.maxFailures, lockMs: config.sessions.lockMs },
  });
  return { officers, sessions, purge: () => sessionRepo.purgeEnded() };
}

export async function startService(config: Config, logger: Logger = createLogger(config)): Promise<Service> {
  const caPool = buildCaPool(config);
  const db = openDatabase(path.join(config.dataDir, 'chungthuc.sqlite'));
  if (db.applied.length > 0) logger.info({ file: db.file, applied: db.applied }, 'database migrated');
  const hsm = new HsmConnection(config.pkcs11, logger);
  await hsm.connect();
  if (config.api.auth === 'off') {
    logger.warn(
      { apiAuth: 'off' },
      'API authentication is OFF (development default with the dev PKI in certs/): anyone who reaches the port may sign. Set API_AUTH=required for any real deployment.',
    );
  }

  const metrics = config.metrics.port === 0 ? undefined : new ServiceMetrics(() => registrySize(db.db));
  const getSigner = (label: string) => hsm.get().getSigner(label);
  const trust = buildTrustServices(config, metrics ? metrics.instrumentSigners(getSigner) : getSigner, db.db, caPool);
  const idempotency = { repo: new IdempotencyRepository(db.db), storeDir: path.join(config.dataDir, 'idempotency'), ttlMs: config.api.idempotencyTtlMs };
  const purgeIdempotency = () => {
    try {
      for (const f of idempotency.repo.purgeExpired()) rmSync(path.join(idempotency.storeDir, f), { force: true });
    } catch (err) {
      logger.error({ err }, 'purging expired idempotency keys failed');
    }
  };
  purgeIdempotency();
  const officerSessions = buildOfficerSessions(config, db.db);
  const purgeTimer = setInterval(() => {
    purgeIdempotency();
    try {
      officerSessions.purge();
    } catch (err) {
      logger.error({ err }, 'purging ended sessions failed');
    }
  }, 3600_000);
  purgeTimer.unref();
  const copies = new CopyRepository(db.db);
  // A certification that crashed or was abandoned leaves a reserved number: once expired it is voided,
  // with its reason, so the register shows no unexplained gap (domain.md: no gaps, no reuse).
  const sweepReservations = async () => {
    try {
      const voided = await sweepExpiredReservations(copies, config.copyStoreDir);
      if (voided.length > 0) logger.warn({ voided: voided.map((v) => ({ tenant: v.tenantId, year: v.year, number: v.number })) }, 'expired reservations voided');
    } catch (err) {
      logger.error({ err }, 'voiding expired reservations failed');
    }
  };
  await sweepReservations();
  const sweepTimer = setInterval(() => void sweepReservations(), 60_000);
  sweepTimer.unref();
  let server: RunningServer | undefined;
  const audit = new AuditLog(db.db, undefined, { onError: (err, lost) => logger.error({ err, lost }, 'audit batch write failed: page-view rows lost') });
  const validation = buildValidationDeps(config, trust.checker);
  // Validation of uploaded PDFs runs in worker threads: a hostile or large file costs a worker's time
  // (and at worst the worker), not the event loop every QR lookup and signature needs.
  if (config.validationWorkers > 0) {
    validation.pool = new ValidationPool({
      trustAnchors: validation.trustAnchors.map((c) => new Uint8Array(c.raw)),
      policyJson: policyToJson(validation.policy),
      timeoutMs: config.validationTimeoutMs,
      revocation: config.revocation,
      size: config.validationWorkers,
      // Parsing, signatures and online revocation come before the change analysis's own limit.
      hardLimitMs: config.validationTimeoutMs + 60_000,
      onWorkerLost: (reason) => logger.error({ reason }, 'validation worker replaced'),
    });
  }
  const app = createApp({
    logger,
    signing: trust.signing,
    validation,
    copies,
    tenants: new TenantRepository(db.db),
    certifiedCopies: {
      certify: {
        signing: trust.signing,
        copies,
        storeDir: config.copyStoreDir,
        scanLimits: { maxTotalBytes: config.scanLimitBytes },
        onStep: metrics ? (step, seconds) => metrics.observeCertifyStep(step, seconds) : undefined,
        // Read at each certification: with PORT=0 the address is known only once listening.
        get publicBaseUrl() {
          return config.publicBaseUrl ?? server?.url ?? `http://${config.host}:${config.port}`;
        },
      },
      settings: new TenantSettingsRepository(db.db),
      refusals: new RefusalRepository(db.db),
      officers: officerSessions.officers,
    },
    getTsa: trust.getTsa,
    dataDir: config.dataDir,
    copyStoreDir: config.copyStoreDir,
    access: {
      mode: config.api.auth,
      apiKeys: new ApiKeyRepository(db.db),
      throttle: new FailureThrottle({ burst: config.api.failureBurst, perMinute: config.api.failuresPerMinute }),
      audit,
      idempotency,
      officers: officerSessions.officers,
      sessions: officerSessions.sessions,
      cookie: { secure: config.publicBaseUrl?.startsWith('https:') ?? false },
      rateLimit: config.api.rateLimit,
      trustProxy: config.api.trustProxy,
    },
    metrics,
    openApi: buildOpenApiDocument({ version: SERVICE_VERSION, serverUrl: config.publicBaseUrl }),
    limits: config.limits,
    readiness: [
      { name: 'hsm', check: () => hsm.ping() },
      { name: 'database', check: () => db.ping() },
    ],
  });
  let metricsServer: MetricsServer | undefined;
  try {
    server = await listen(app, { port: config.port, host: config.host, requestTimeoutMs: config.limits.requestTimeoutMs });
    try {
      if (metrics) metricsServer = await listenMetrics(metrics, config.metrics);
    } catch (err) {
      await server.close(0);
      throw err;
    }
  } catch (err) {
    clearInterval(purgeTimer);
    clearInterval(sweepTimer);
    await validation.pool?.close();
    await hsm.close();
    db.close();
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    config,
    url: server.url,
    db,
    routes: app.routes,
    metricsUrl: metricsServer?.url,
    hsm: () => hsm.get(),
    close() {
      closing ??= (async () => {
        clearInterval(purgeTimer);
        clearInterval(sweepTimer);
        await metricsServer?.close();
        await server?.close(config.shutdownTimeoutMs);
        await validation.pool?.close();
        await hsm.close();
        audit.flush();
        db.close();
      })();
      return closing;
    },
  };
}

/** `npm start`: run on embedded defaults, print where we listen and what to try first. */
export async function runFromCommandLine(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config);
  const dev = config.devPkiServices === 'auto' ? await startDevPkiServices(config.certsDir, logger) : undefined;
  const service = await startService(config, logger);
  const base = config.publicBaseUrl ?? service.url;
  // Development only (Config.demo): the demo office; its passwords go to stdout once, never to the log.
  const demo = config.demo ? demoBannerLines(await seedDemoTenant(service.db.db), base) : [];
  process.stdout.write(
    [
      '',
      `chungthuc is listening on ${service.url}`,
      `  data:   ${config.dataDir}`,
      `  HSM:    ${config.pkcs11.module} (token "${config.pkcs11.tokenLabel}")`,
      'Try first:',
      `  curl ${base}/readyz`,
      `  curl -sS -H 'content-type: application/pdf' --data-binary @fixtures/generated/classic.pdf \\`,
      `       '${base}/api/v1/signatures?key=officer1&level=B-LT&reason=Th%E1%BB%AD' -o signed.pdf`,
      `  npx chungthuc verify signed.pdf`,
      `  npx chungthuc --help`,
      ...demo,
      '',
    ].join('\n') + '\n',
  );
  let stopping = false;
  const stop = (signal: string) => {
    // A second signal (e.g. from a wrapper forwarding its own) must not cut the cleanup short.
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    service
      .close()
      .then(() => dev?.stop())
      .then(
        () => {
          logger.info('stopped');
          process.exit(0);
        },
        (err: unknown) => {
          logger.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runFromCommandLine().catch((err: unknown) => {
    process.stderr.write(`chungthuc failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
