/**
 * Composition root: builds every dependency once, wires them, and owns their lifecycle. Nothing
 * else constructs HSM sessions, databases or servers.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { pino, type Logger } from 'pino';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { startDevPkiServices, type DevPkiServices } from './dev/pkiServices.ts';
import { AppError, InputError } from './errors.ts';
import { FailureThrottle } from './http/access/FailureThrottle.ts';
import { createApp, type ChungthucApp, type MountedRoute } from './http/app.ts';
import { ServiceMetrics, listenMetrics, type MetricsServer } from './http/metrics.ts';
import { buildOpenApiDocument } from './http/openapi.ts';
import { listen, type RunningServer } from './http/server.ts';
import { STRICT_POLICY, parsePolicy, policyToJson, type ValidationPolicy } from './pades/validation/index.ts';
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
import { sharedScanReader } from './stamp/scanReader.ts';
import { sharedTiffDecoder } from './stamp/tiffDecoder.ts';
import { SqliteSerialSource, TimeStampAuthority, httpTimestampSource } from './tsa/index.ts';

export interface Service {
  readonly config: Config;
  readonly url: string;
  readonly db: OpenedDatabase;
  /** The routes the HTTP app mounted (method + router path). */
  readonly routes: readonly MountedRoute[];
  /** The HTTP app the server runs (its Koa callback and its fast path), e.g. to serve it on another socket. */
  readonly app: ChungthucApp;
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
 * Token errors a retry cannot mend and would make worse: every login with a rejected PIN counts toward
 * the token's lockout, so the service never tries one again by itself (README "A production PKCS#11 module").
 */
const NOT_RETRIED: ReadonlySet<string> = new Set(['hsm-pin-incorrect', 'hsm-pin-locked']);

/** After SHUTDOWN_TIMEOUT_MS has cut the connections: the longest the HSM sessions may take to close. */
export const HSM_CLOSE_GRACE_MS = 5000;

/**
 * Keeps one connection to the token. If the HSM is unreachable at start (network HSM down, token not
 * inserted) the service still starts, /readyz says why, and the connection is retried with backoff.
 * A rejected or locked PIN is not retried (NOT_RETRIED): at start it stops the service from starting.
 */
class HsmConnection {
  private token: Pkcs11Token | undefined;
  private lastError: unknown;
  private opening: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private delayMs = 1000;
  /** Set when the token refused the PIN: no more attempts. */
  refused: AppError | undefined;

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
        if (err instanceof AppError && NOT_RETRIED.has(err.code)) {
          this.refused = err;
          // At start the service stops with this error; later (a token that came back) it is told here.
          if (this.retryTimer !== undefined) this.log.error({ err, token: this.config.tokenLabel }, 'HSM token refused the PIN: not retried (fix PKCS11_PIN or PKCS11_PIN_FILE and restart)');
          return;
        }
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

  /**
   * Waits for the operations running on the token's sessions (Pkcs11Token.close), at most `waitMs`: an
   * operation that hangs in the HSM must not keep the process from stopping.
   */
  async close(waitMs = Number.POSITIVE_INFINITY): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    const done = (async () => {
      await this.opening;
      await this.token?.close();
      this.token = undefined;
    })();
    if (!Number.isFinite(waitMs)) return done;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), waitMs);
      timer.unref();
    });
    try {
      if ((await Promise.race([done, late])) === 'late') {
        throw new AppError('hsm-close-timeout', `the HSM sessions did not close within ${waitMs} ms (an operation is still running in the HSM)`);
      }
    } finally {
      clearTimeout(timer);
    }
  }
}

/** One line saying what is wrong with a file or its content (errno codes, zod issues, JSON syntax). */
function problemOf(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'a directory, not a file';
  const issues = (err as { issues?: unknown } | undefined)?.issues;
  if (Array.isArray(issues)) {
    return (issues as Array<{ path?: PropertyKey[]; message?: string }>).map((i) => `${(i.path ?? []).map(String).join('.') || '(top)'}: ${i.message ?? 'invalid'}`).join('; ');
  }
  return err instanceof Error ? err.message : String(err);
}

/** Certificates of a configured file or folder; a failure names the variable. */
function configuredCertificates(variable: string, fileOrDir: string): X509Certificate[] {
  try {
    return loadCertificates(fileOrDir);
  } catch (cause) {
    throw new ConfigError(`invalid configuration: ${variable}: ${problemOf(cause)}`, { cause });
  }
}

/** A validation policy JSON file, checked; what is wrong with it in one line. */
export function readPolicyFile(file: string): ValidationPolicy {
  try {
    return parsePolicy(readFileSync(file, 'utf8'));
  } catch (cause) {
    // The message is the whole story (a zod error's own message is a JSON dump).
    throw new InputError('policy-invalid', `${file}: ${problemOf(cause)}`);
  }
}

/** CA certificates that complete signers' chains: the CA bundle plus the trust anchors. */
export function buildCaPool(config: Pick<Config, 'caCerts' | 'trustDir'>): CertificatePool {
  return new CertificatePool([...configuredCertificates('CA_CERTS', config.caCerts), ...configuredCertificates('TRUST_DIR', config.trustDir)]);
}

/** Trust anchors and policy for validation; online revocation through `checker` when the policy allows. */
export function buildValidationDeps(config: Config, checker?: RevocationChecker): ValidationDeps {
  let policy = STRICT_POLICY;
  if (config.validationPolicyFile) {
    try {
      policy = readPolicyFile(config.validationPolicyFile);
    } catch (cause) {
      throw new ConfigError(`invalid configuration: VALIDATION_POLICY: ${problemOf(cause)}`, { cause });
    }
  }
  return { trustAnchors: configuredCertificates('TRUST_DIR', config.trustDir), policy, checker, timeoutMs: config.validationTimeoutMs };
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

/** A listen failure in one line naming the variables to change. */
function listenFailed(err: unknown, address: string, variables: string): AppError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const reason =
    code === 'EADDRINUSE'
      ? 'the address is already in use'
      : code === 'EACCES'
        ? 'permission denied (ports below 1024 need privileges)'
        : code === 'EADDRNOTAVAIL'
          ? 'this machine has no such address'
          : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
            ? 'unknown host name'
            : problemOf(err);
  // The reason is the message; the system's own ("listen EADDRINUSE …") would only repeat it.
  return new AppError('listen-failed', `cannot listen on ${address} (${variables}): ${reason}`, { details: { code } });
}

/** A PKCS#11 module path that is not there: no HSM can be reached until it is installed. */
function checkHsmModule(module: string): void {
  // A bare library name is the dynamic loader's to find; a path must exist.
  if (module.includes('/') && !existsSync(module)) throw new ConfigError(`invalid configuration: PKCS11_MODULE: no PKCS#11 module at ${module}`);
}

/**
 * An error in one line with the code of the first AppError, followed by its causes as long as the message
 * does not already say them ("cannot open the database …: file is not a database"): what the command line
 * and a failed start print, never a stack.
 */
export function describeError(err: unknown): string {
  const oneLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).replace(/\s*\n\s*/g, ' ').trim();
  let text = oneLine(err);
  let code = err instanceof AppError ? err.code : undefined;
  for (let e = (err as { cause?: unknown } | undefined)?.cause, depth = 0; e !== undefined && e !== null && depth < 3; e = (e as { cause?: unknown }).cause, depth++) {
    const message = oneLine(e);
    // A wrapper that quotes its cause has said what the cause and the cause's causes say.
    if (text.includes(message)) break;
    text += `: ${message}`;
    if (code === undefined && e instanceof AppError) code = e.code;
  }
  return `${text}${code === undefined ? '' : ` [${code}]`}`;
}

export async function startService(config: Config, logger: Logger = createLogger(config)): Promise<Service> {
  // What the configuration names is checked before anything is opened: a mistake is one line, nothing to undo.
  checkHsmModule(config.pkcs11.module);
  const caPool = buildCaPool(config);
  const validation = buildValidationDeps(config);
  const db = openDatabase(path.join(config.dataDir, 'chungthuc.sqlite'));
  const hsm = new HsmConnection(config.pkcs11, logger);
  const audit = new AuditLog(db.db, undefined, { onError: (err, lost) => logger.error({ err, lost }, 'audit batch write failed: page-view rows lost') });
  const timers: NodeJS.Timeout[] = [];
  let server: RunningServer | undefined;
  let metricsServer: MetricsServer | undefined;

  /**
   * Stops what was started, in this order, each step even when an earlier one failed: the listeners
   * (in-flight requests get `requestTimeoutMs`, then their connections are cut), the TIFF decoder and the
   * scan reader (what still runs then belongs to a cut request), the validation workers, the HSM sessions
   * (at most HSM_CLOSE_GRACE_MS: an operation hanging in the HSM must not hold the process), the audit
   * rows still queued, the database.
   */
  const shutdown = async (requestTimeoutMs: number): Promise<unknown[]> => {
    const failures: unknown[] = [];
    const step = async (what: string, fn: () => unknown): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        failures.push(err);
        logger.error({ err }, `shutdown: closing ${what} failed`);
      }
    };
    for (const t of timers) clearInterval(t);
    await step('the metrics listener', () => metricsServer?.close());
    await step('the HTTP server', () => server?.close(requestTimeoutMs));
    // The process's decoders (a later scan, of another service in this process, starts fresh ones). The
    // scan reader's children are processes: not stopped, one reading a large PDF would outlive us.
    await step('the TIFF decoder', () => sharedTiffDecoder.close());
    await step('the scan reader', () => sharedScanReader.close());
    await step('the validation workers', () => validation.pool?.close());
    await step('the HSM sessions', () => hsm.close(HSM_CLOSE_GRACE_MS));
    await step('the audit log', () => audit.flush());
    await step('the database', () => db.close());
    return failures;
  };

  let app: ReturnType<typeof createApp>;
  try {
    if (db.applied.length > 0) logger.info({ file: db.file, applied: db.applied }, 'database migrated');
    await hsm.connect();
    // A rejected PIN is not retried (each try counts toward the token's lockout): the service does not start.
    if (hsm.refused) throw hsm.refused;
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
    timers.push(purgeTimer);
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
    timers.push(sweepTimer);
    validation.checker = trust.checker;
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
    app = createApp({
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
        lookupLimit: config.api.lookupLimit,
      },
      metrics,
      openApi: buildOpenApiDocument({ version: SERVICE_VERSION, serverUrl: config.publicBaseUrl }),
      limits: config.limits,
      readiness: [
        { name: 'hsm', check: () => hsm.ping() },
        { name: 'database', check: () => db.ping() },
      ],
    });
    try {
      server = await listen(app, { port: config.port, host: config.host, requestTimeoutMs: config.limits.requestTimeoutMs });
    } catch (err) {
      throw listenFailed(err, `${config.host}:${config.port}`, 'HOST, PORT');
    }
    if (metrics) {
      try {
        metricsServer = await listenMetrics(metrics, config.metrics);
      } catch (err) {
        throw listenFailed(err, `${config.metrics.host}:${config.metrics.port}`, 'METRICS_HOST, METRICS_PORT');
      }
    }
  } catch (err) {
    await shutdown(0);
    throw err;
  }
  const listening = server;
  let closing: Promise<void> | undefined;
  return {
    config,
    url: listening.url,
    db,
    routes: app.routes,
    app,
    metricsUrl: metricsServer?.url,
    hsm: () => hsm.get(),
    close() {
      closing ??= shutdown(config.shutdownTimeoutMs).then((failures) => {
        if (failures.length > 0) throw failures[0];
      });
      return closing;
    },
  };
}

/** Beyond SHUTDOWN_TIMEOUT_MS, what the rest of a shutdown may take before the process exits anyway. */
export const SHUTDOWN_GRACE_MS = HSM_CLOSE_GRACE_MS + 5000;

export interface Launched {
  service: Service;
  /** The demo office's lines for the banner (its passwords, at the first start only). */
  banner: string[];
  /** Closes the service, then the dev PKI services. */
  stop(): Promise<void>;
}

/**
 * What `npm start` runs, in order: the dev PKI services (DEV_PKI_SERVICES=auto), the service, the demo
 * office. When a step fails, what was started is stopped before the error is thrown: the dev OCSP
 * responder is an `openssl ocsp` process group of its own, which would otherwise outlive us on its port.
 */
export async function launch(config: Config, logger: Logger, devPorts?: { ocsp: number; repo: number }): Promise<Launched> {
  const dev: DevPkiServices | undefined = config.devPkiServices === 'auto' ? await startDevPkiServices(config.certsDir, logger, devPorts) : undefined;
  let service: Service | undefined;
  const stop = async (): Promise<void> => {
    try {
      await service?.close();
    } finally {
      await dev?.stop();
    }
  };
  try {
    service = await startService(config, logger);
    // Development only (Config.demo): the demo office; its passwords go to stdout once, never to the log.
    const banner = config.demo ? demoBannerLines(await seedDemoTenant(service.db.db), config.publicBaseUrl ?? service.url) : [];
    return { service, banner, stop };
  } catch (err) {
    await stop().catch((e: unknown) => logger.error({ err: e }, 'stopping after a failed start failed'));
    throw err;
  }
}

/** `npm start`: run on embedded defaults, print where we listen and what to try first. */
export async function runFromCommandLine(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config);
  let launched: Launched | undefined;
  let stopping = false;
  let deadline: NodeJS.Timeout | undefined;
  // Whatever hangs, the process ends: connections are cut after SHUTDOWN_TIMEOUT_MS, the rest is bounded
  // too. Armed at the first signal, also when the start itself hangs (a signal then only waits for it).
  const armDeadline = (): void => {
    deadline ??= setTimeout(() => {
      logger.error({ afterMs: config.shutdownTimeoutMs + SHUTDOWN_GRACE_MS }, 'shutdown did not finish in time: exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs + SHUTDOWN_GRACE_MS).unref();
  };
  const stopAndExit = (): void => {
    armDeadline();
    (launched ? launched.stop() : Promise.resolve()).then(
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
  const onSignal = (signal: NodeJS.Signals): void => {
    // A second signal (e.g. from a wrapper forwarding its own) must not cut the cleanup short.
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, launched ? 'shutting down: finishing in-flight requests' : 'shutting down as soon as the start is over');
    if (launched) stopAndExit();
    else armDeadline();
  };
  // Listening before anything starts: a signal during the start (the HSM login, the demo office's password
  // hashing) must not end the process at once and leave the dev OCSP responder running on its port.
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  launched = await launch(config, logger);
  const { service } = launched;
  const base = config.publicBaseUrl ?? service.url;
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
      ...launched.banner,
      '',
    ].join('\n') + '\n',
  );
  // Asked to stop while starting: the banner was still printed, for the demo passwords made meanwhile.
  if (stopping) stopAndExit();
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runFromCommandLine().catch((err: unknown) => {
    process.stderr.write(`chungthuc failed to start: ${describeError(err)}\n`);
    process.exit(1);
  });
}
