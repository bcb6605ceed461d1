/**
 * One validated configuration object, read from environment variables with defaults that run on a
 * fresh checkout (the dev HSM token under hsm/, the dev PKI under certs/, data under data/).
 * Every variable is documented in README.md § Configuration.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { AppError } from './errors.ts';

/** Repository root (parent of src/). */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export class ConfigError extends AppError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('config-invalid', message, { status: 500, ...options });
  }
}

/**
 * A whole number in decimal digits: `z.coerce.number()` took "" for 0 (`RATE_LIMIT_KEY_BURST=` turned the
 * limit off, `PORT=` picked any free port), and "0x1F90", "1e3" or " 80 " as numbers.
 */
const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .optional()
    .transform((s, ctx) => {
      if (s === undefined) return def;
      if (!/^\d+$/.test(s)) {
        ctx.addIssue({ code: 'custom', message: `expected a whole number, got "${s}"` });
        return z.NEVER;
      }
      const n = Number(s);
      if (n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `expected a number from ${min} to ${max}, got ${s}` });
        return z.NEVER;
      }
      return n;
    });

/** An absolute http: or https: URL (z.string().url() also took "localhost:8080", "ftp://…" and "javascript:…"). */
const httpUrl = () =>
  z.string().refine(
    (s) => {
      try {
        const u = new URL(s);
        return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
      } catch {
        return false;
      }
    },
    // The value is not repeated: a URL may carry credentials (https://user:password@host/).
    { error: 'expected an absolute http:// or https:// URL' },
  );

const schema = z.object({
  PORT: int(8080, 0, 65535),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATA_DIR: z.string().min(1).default('data'),
  COPY_STORE_DIR: z.string().min(1).optional(),
  PUBLIC_BASE_URL: httpUrl().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PKCS11_MODULE: z.string().min(1).default('/usr/lib/softhsm/libsofthsm2.so'),
  PKCS11_TOKEN_LABEL: z.string().min(1).default('chungthuc-dev'),
  PKCS11_PIN: z.string().min(1).optional(),
  PKCS11_PIN_FILE: z.string().min(1).default('hsm/pin'),
  PKCS11_POOL_SIZE: int(4, 1, 64),
  SOFTHSM2_CONF: z.string().min(1).default('hsm/softhsm2.conf'),
  CERTS_DIR: z.string().min(1).default('certs'),
  TRUST_DIR: z.string().min(1).optional(),
  CA_CERTS: z.string().min(1).optional(),
  TSA_URL: httpUrl().optional(),
  TSA_USERNAME: z.string().optional(),
  TSA_PASSWORD: z.string().optional(),
  TSA_BEARER_TOKEN: z.string().optional(),
  TSA_KEY_LABEL: z.string().min(1).default('tsa'),
  TSA_POLICY_OID: z.string().regex(/^[0-2](\.\d+)+$/).default('1.3.6.1.4.1.99999.1.1'),
  TSA_ACCURACY_MS: int(1000, 1, 60_000),
  OCSP_URL: httpUrl().optional(),
  REVOCATION_TIMEOUT_MS: int(5000, 100, 120_000),
  VALIDATION_POLICY: z.string().min(1).optional(),
  VALIDATION_TIMEOUT_MS: int(20_000, 100, 600_000),
  VALIDATION_WORKERS: int(1, 0, 32),
  DEV_PKI_SERVICES: z.enum(['auto', 'off']).default('auto'),
  BODY_LIMIT_BYTES: int(1_048_576, 1024),
  UPLOAD_LIMIT_BYTES: int(268_435_456, 1024),
  SCAN_LIMIT_BYTES: int(104_857_600, 1024),
  REQUEST_TIMEOUT_MS: int(120_000, 1000),
  SHUTDOWN_TIMEOUT_MS: int(15_000, 100),
  API_AUTH: z.enum(['required', 'off']).optional(),
  API_AUTH_FAILURE_BURST: int(10, 1, 1_000_000),
  API_AUTH_FAILURE_PER_MINUTE: int(6, 1, 1_000_000),
  IDEMPOTENCY_TTL_HOURS: int(24, 1, 24 * 30),
  METRICS_PORT: int(9464, 0, 65535),
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  DEMO: z.enum(['on', 'off']).optional(),
  SESSION_IDLE_MINUTES: int(30, 1, 24 * 60),
  SESSION_MAX_HOURS: int(12, 1, 24 * 7),
  LOGIN_MAX_FAILURES: int(5, 1, 1000),
  LOGIN_LOCK_MINUTES: int(15, 1, 24 * 60),
  RATE_LIMIT_KEY_BURST: int(300, 0, 1_000_000),
  RATE_LIMIT_KEY_PER_SECOND: int(100, 1, 1_000_000),
  RATE_LIMIT_IP_BURST: int(600, 0, 1_000_000),
  RATE_LIMIT_IP_PER_SECOND: int(200, 1, 1_000_000),
  RATE_LIMIT_LOOKUP_BURST: int(60, 1, 1_000_000),
  RATE_LIMIT_LOOKUP_PER_MINUTE: int(60, 1, 60_000_000),
  TRUST_PROXY: z.string().default(''),
});

/** The variables the schema reads (README § Configuration documents each; DEV_PKI_AGENCY and the DEV_PKI_*_URL are the setup's). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(schema.shape);

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  /** Where certified PDFs are kept (`<tenant>/<year>/<code>.pdf`); COPY_STORE_DIR, default DATA_DIR/copies (a mounted volume, an NFS share). */
  copyStoreDir: string;
  /** Largest scan (all its files together) a certification takes; SCAN_LIMIT_BYTES, 100 MiB. */
  scanLimitBytes: number;
  /** Base of public links (QR codes); defaults to http://HOST:PORT. */
  publicBaseUrl: string | undefined;
  logLevel: z.infer<typeof schema>['LOG_LEVEL'];
  pkcs11: {
    module: string;
    tokenLabel: string;
    /** Read once at start; never logged. */
    pin: string;
    poolSize: number;
  };
  certsDir: string;
  trustDir: string;
  /** CA certificates (file or folder) used to complete signers' chains in the CMS. */
  caCerts: string;
  tsa: {
    /** External RFC 3161 TSA; absent = the built-in TSA (HSM key `keyLabel`). */
    url: string | undefined;
    auth: { basic: { user: string; password: string } } | { bearer: string } | undefined;
    keyLabel: string;
    policyOid: string;
    accuracyMs: number;
  };
  revocation: { ocspUrl: string | undefined; timeoutMs: number };
  /** `auto`: serve the dev PKI's OCSP and CRL endpoints when the dev PKI is in use (development). */
  devPkiServices: 'auto' | 'off';
  /** JSON file with a validation policy (absent: the strict built-in policy). */
  validationPolicyFile: string | undefined;
  /** Longest one validation works before what is left is reported not analysed (VALIDATION_TIMEOUT_MS, 20 s). */
  validationTimeoutMs: number;
  /** Worker threads validating off the service's event loop (VALIDATION_WORKERS, 1; 0: in the event loop). */
  validationWorkers: number;
  limits: { jsonBytes: number; uploadBytes: number; requestTimeoutMs: number };
  shutdownTimeoutMs: number;
  api: {
    /**
     * `required`: every non-public route needs `Authorization: Bearer <API key>`. `off` (DEV ONLY):
     * no authentication is demanded. Defaults to `off` only with the dev PKI (CERTS_DIR unset or
     * `certs`), `required` otherwise; the service logs a warning at start when it is off.
     */
    auth: 'required' | 'off';
    /** Failed authentications per client IP: bucket size and refill (RFC 6585 §4 429 when empty). */
    failureBurst: number;
    failuresPerMinute: number;
    idempotencyTtlMs: number;
    /** Token buckets per API key / officer and per client IP on /api/; burst 0 turns one off. */
    rateLimit: { keyBurst: number; keyPerSecond: number; ipBurst: number; ipPerSecond: number };
    /** The public lookup's bucket per client address, shared by GET /v/{code} and GET /api/v1/public/copies/{code}. */
    lookupLimit: { capacity: number; refillPerSecond: number };
    /**
     * Reverse proxies whose X-Forwarded-For is believed (TRUST_PROXY): `loopback`, CIDR blocks, or
     * both, comma-separated; empty = none (the socket's peer is the client).
     */
    trustProxy: readonly string[];
  };
  /** Officer sessions and the password lockout. */
  sessions: { idleMs: number; absoluteMs: number; maxFailures: number; lockMs: number };
  /** Prometheus /metrics on its own listener; port 0 disables it. */
  metrics: { port: number; host: string };
  /**
   * `npm start` seeds the demo office (tenant DEMO, three accounts, printed once). DEMO defaults to on
   * only with the dev PKI (CERTS_DIR unset or `certs`); DEMO=on with any other PKI is refused.
   */
  demo: boolean;
}

function abs(p: string): string {
  return path.isAbsolute(p) ? p : path.join(PROJECT_ROOT, p);
}

/** Resolve the PIN from PKCS11_PIN or the secret file; the value itself never appears in errors. */
function readPin(env: { PKCS11_PIN?: string | undefined; PKCS11_PIN_FILE: string }): string {
  if (env.PKCS11_PIN !== undefined) return env.PKCS11_PIN;
  const file = abs(env.PKCS11_PIN_FILE);
  let pin: string;
  try {
    pin = readFileSync(file, 'utf8').trim();
  } catch (cause) {
    throw new ConfigError(`cannot read the HSM PIN file ${file} (set PKCS11_PIN or PKCS11_PIN_FILE)`, { cause });
  }
  // An empty PIN would be sent to the token as a wrong one (and count toward its lockout).
  if (pin === '') throw new ConfigError(`invalid configuration: PKCS11_PIN_FILE: ${file} is empty`);
  return pin;
}

/** TSA_USERNAME/TSA_PASSWORD or TSA_BEARER_TOKEN; a combination that would be half ignored is refused. */
function tsaAuth(e: { TSA_USERNAME?: string | undefined; TSA_PASSWORD?: string | undefined; TSA_BEARER_TOKEN?: string | undefined }): Config['tsa']['auth'] {
  if (e.TSA_BEARER_TOKEN !== undefined && (e.TSA_USERNAME !== undefined || e.TSA_PASSWORD !== undefined)) {
    throw new ConfigError('invalid configuration: TSA_BEARER_TOKEN: set it or TSA_USERNAME/TSA_PASSWORD, not both');
  }
  if (e.TSA_PASSWORD !== undefined && e.TSA_USERNAME === undefined) throw new ConfigError('invalid configuration: TSA_PASSWORD needs TSA_USERNAME');
  if (e.TSA_BEARER_TOKEN !== undefined) return { bearer: e.TSA_BEARER_TOKEN };
  return e.TSA_USERNAME === undefined ? undefined : { basic: { user: e.TSA_USERNAME, password: e.TSA_PASSWORD ?? '' } };
}

/** `loopback, 10.0.0.0/8` → ['loopback', '10.0.0.0/8']; anything else is a configuration error. */
function parseTrustProxy(value: string): string[] {
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const item of items) {
    if (item === 'loopback') continue;
    const [addr = '', bits, ...rest] = item.split('/');
    const max = isIP(addr) === 4 ? 32 : isIP(addr) === 6 ? 128 : 0;
    const n = bits === undefined ? max : Number(bits);
    if (max === 0 || rest.length > 0 || !Number.isInteger(n) || n < 0 || n > max) {
      throw new ConfigError(`invalid configuration: TRUST_PROXY: "${item}" is not "loopback", an address or a CIDR block`);
    }
  }
  return items;
}

/** The demo office exists only next to the dev PKI: never where real certificates sign. */
function demoSetting(value: 'on' | 'off' | undefined, devPki: boolean): boolean {
  if (value === 'on' && !devPki) throw new ConfigError('invalid configuration: DEMO=on needs the dev PKI (CERTS_DIR unset or "certs")');
  return (value ?? (devPki ? 'on' : 'off')) === 'on';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable (`PORT=`, as compose files and systemd units easily leave) counts as unset.
  const set = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(set);
  if (!parsed.success) {
    const msg = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid configuration: ${msg}`);
  }
  const e = parsed.data;
  // SoftHSM2 reads its configuration file from the environment at C_Initialize, relative to the
  // working directory: make it absolute (against the repository root, like every other path).
  const softhsmConf = process.env.SOFTHSM2_CONF;
  if (softhsmConf === undefined || softhsmConf === '') process.env.SOFTHSM2_CONF = abs(e.SOFTHSM2_CONF);
  else if (!path.isAbsolute(softhsmConf)) process.env.SOFTHSM2_CONF = abs(softhsmConf);
  const certsDir = abs(e.CERTS_DIR);
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir: abs(e.DATA_DIR),
    copyStoreDir: abs(e.COPY_STORE_DIR ?? path.join(e.DATA_DIR, 'copies')),
    scanLimitBytes: e.SCAN_LIMIT_BYTES,
    publicBaseUrl: e.PUBLIC_BASE_URL,
    logLevel: e.LOG_LEVEL,
    pkcs11: { module: e.PKCS11_MODULE, tokenLabel: e.PKCS11_TOKEN_LABEL, pin: readPin(e), poolSize: e.PKCS11_POOL_SIZE },
    certsDir,
    trustDir: e.TRUST_DIR === undefined ? path.join(certsDir, 'trust') : abs(e.TRUST_DIR),
    caCerts: e.CA_CERTS === undefined ? path.join(certsDir, 'chain.pem') : abs(e.CA_CERTS),
    tsa: {
      url: e.TSA_URL,
      auth: tsaAuth(e),
      keyLabel: e.TSA_KEY_LABEL,
      policyOid: e.TSA_POLICY_OID,
      accuracyMs: e.TSA_ACCURACY_MS,
    },
    revocation: { ocspUrl: e.OCSP_URL, timeoutMs: e.REVOCATION_TIMEOUT_MS },
    devPkiServices: e.CERTS_DIR === 'certs' ? e.DEV_PKI_SERVICES : 'off',
    validationPolicyFile: e.VALIDATION_POLICY === undefined ? undefined : abs(e.VALIDATION_POLICY),
    validationTimeoutMs: e.VALIDATION_TIMEOUT_MS,
    validationWorkers: e.VALIDATION_WORKERS,
    limits: { jsonBytes: e.BODY_LIMIT_BYTES, uploadBytes: e.UPLOAD_LIMIT_BYTES, requestTimeoutMs: e.REQUEST_TIMEOUT_MS },
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    api: {
      auth: e.API_AUTH ?? (e.CERTS_DIR === 'certs' ? 'off' : 'required'),
      failureBurst: e.API_AUTH_FAILURE_BURST,
      failuresPerMinute: e.API_AUTH_FAILURE_PER_MINUTE,
      idempotencyTtlMs: e.IDEMPOTENCY_TTL_HOURS * 3600_000,
      rateLimit: { keyBurst: e.RATE_LIMIT_KEY_BURST, keyPerSecond: e.RATE_LIMIT_KEY_PER_SECOND, ipBurst: e.RATE_LIMIT_IP_BURST, ipPerSecond: e.RATE_LIMIT_IP_PER_SECOND },
      lookupLimit: { capacity: e.RATE_LIMIT_LOOKUP_BURST, refillPerSecond: e.RATE_LIMIT_LOOKUP_PER_MINUTE / 60 },
      trustProxy: parseTrustProxy(e.TRUST_PROXY),
    },
    sessions: {
      idleMs: e.SESSION_IDLE_MINUTES * 60_000,
      absoluteMs: e.SESSION_MAX_HOURS * 3600_000,
      maxFailures: e.LOGIN_MAX_FAILURES,
      lockMs: e.LOGIN_LOCK_MINUTES * 60_000,
    },
    metrics: { port: e.METRICS_PORT, host: e.METRICS_HOST },
    demo: demoSetting(e.DEMO, e.CERTS_DIR === 'certs'),
  };
}
