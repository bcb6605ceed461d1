/**
 * src/config.ts against README § Configuration: every documented variable is read, defaults are the
 * documented ones, and a bad value is refused in one message that names the variable.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, PROJECT_ROOT, loadConfig } from '../src/config.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'chungthuc-config-'));
const pinFile = path.join(tmp, 'pin');
writeFileSync(pinFile, '1234\n');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Only what a test gives, plus a PIN file that exists (no other variable of this machine). */
const load = (env: Record<string, string> = {}) => loadConfig({ PKCS11_PIN_FILE: pinFile, ...env });
const refused = (env: Record<string, string>) => {
  try {
    load(env);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
};

/** The rows of the README's configuration table: variable names (a row may name several) and the default cell. */
function readmeRows(): Array<{ names: string[]; def: string }> {
  const text = readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
  const table = text.slice(text.indexOf('## Configuration'), text.indexOf('### A production PKCS#11 module'));
  return table
    .split('\n')
    .filter((l) => l.startsWith('| `'))
    .map((l) => {
      const [names = '', def = ''] = l.split('|').slice(1).map((c) => c.trim());
      return { names: [...names.matchAll(/`([A-Z0-9_]+)`/g)].map((m) => m[1]!), def };
    });
}

describe('README § Configuration', () => {
  it('documents every variable the configuration reads, and the configuration reads every documented one', () => {
    const documented = readmeRows().flatMap((r) => r.names);
    const setupOnly = ['DEV_PKI_AGENCY', 'DEV_PKI_OCSP_URL', 'DEV_PKI_REPO_URL']; // read by scripts/devPkiPaths.ts
    expect([...CONFIG_VARIABLES].sort()).toEqual(documented.filter((v) => !setupOnly.includes(v)).sort());
  });

  it('has the documented defaults', () => {
    const c = load();
    const numbers: Record<string, number> = {
      PORT: c.port,
      PKCS11_POOL_SIZE: c.pkcs11.poolSize,
      TSA_ACCURACY_MS: c.tsa.accuracyMs,
      REVOCATION_TIMEOUT_MS: c.revocation.timeoutMs,
      VALIDATION_TIMEOUT_MS: c.validationTimeoutMs,
      VALIDATION_WORKERS: c.validationWorkers,
      BODY_LIMIT_BYTES: c.limits.jsonBytes,
      UPLOAD_LIMIT_BYTES: c.limits.uploadBytes,
      SCAN_LIMIT_BYTES: c.scanLimitBytes,
      REQUEST_TIMEOUT_MS: c.limits.requestTimeoutMs,
      SHUTDOWN_TIMEOUT_MS: c.shutdownTimeoutMs,
      API_AUTH_FAILURE_BURST: c.api.failureBurst,
      API_AUTH_FAILURE_PER_MINUTE: c.api.failuresPerMinute,
      SESSION_IDLE_MINUTES: c.sessions.idleMs / 60_000,
      SESSION_MAX_HOURS: c.sessions.absoluteMs / 3600_000,
      LOGIN_MAX_FAILURES: c.sessions.maxFailures,
      LOGIN_LOCK_MINUTES: c.sessions.lockMs / 60_000,
      IDEMPOTENCY_TTL_HOURS: c.api.idempotencyTtlMs / 3600_000,
      METRICS_PORT: c.metrics.port,
    };
    const rows = readmeRows();
    for (const [name, value] of Object.entries(numbers)) {
      const row = rows.find((r) => r.names.includes(name));
      expect(row?.def, name).toBe(`\`${value}\``);
    }
    const pairs = {
      RATE_LIMIT_KEY_BURST: [c.api.rateLimit.keyBurst, c.api.rateLimit.keyPerSecond],
      RATE_LIMIT_IP_BURST: [c.api.rateLimit.ipBurst, c.api.rateLimit.ipPerSecond],
      RATE_LIMIT_LOOKUP_BURST: [c.api.lookupLimit.capacity, c.api.lookupLimit.refillPerSecond * 60],
    };
    for (const [name, [burst, perSecond]] of Object.entries(pairs)) {
      expect(rows.find((r) => r.names.includes(name))?.def, name).toBe(`\`${burst}\`, \`${perSecond}\``);
    }
    expect(c).toMatchObject({
      host: '127.0.0.1',
      dataDir: path.join(PROJECT_ROOT, 'data'),
      copyStoreDir: path.join(PROJECT_ROOT, 'data', 'copies'),
      publicBaseUrl: undefined,
      logLevel: 'info',
      pkcs11: { module: '/usr/lib/softhsm/libsofthsm2.so', tokenLabel: 'chungthuc-dev' },
      certsDir: path.join(PROJECT_ROOT, 'certs'),
      trustDir: path.join(PROJECT_ROOT, 'certs', 'trust'),
      caCerts: path.join(PROJECT_ROOT, 'certs', 'chain.pem'),
      tsa: { url: undefined, auth: undefined, keyLabel: 'tsa', policyOid: '1.3.6.1.4.1.99999.1.1' },
      revocation: { ocspUrl: undefined },
      devPkiServices: 'auto',
      validationPolicyFile: undefined,
      api: { auth: 'off', trustProxy: [] },
      metrics: { host: '127.0.0.1' },
      demo: true,
    });
    expect(load({ DATA_DIR: '/srv/ct' }).copyStoreDir).toBe('/srv/ct/copies');
  });
});

describe('values', () => {
  it('takes an empty variable as unset (it was 0: PORT= any port, RATE_LIMIT_KEY_BURST= no limit at all)', () => {
    const c = load({ PORT: '', RATE_LIMIT_KEY_BURST: '', RATE_LIMIT_IP_BURST: '', METRICS_PORT: '', VALIDATION_WORKERS: '', PUBLIC_BASE_URL: '', PKCS11_PIN: '' });
    expect([c.port, c.api.rateLimit.keyBurst, c.api.rateLimit.ipBurst, c.metrics.port, c.validationWorkers]).toEqual([8080, 300, 600, 9464, 1]);
    expect(c.publicBaseUrl).toBeUndefined();
    expect(c.pkcs11.pin).toBe('1234'); // from the file
  });

  it('takes whole numbers in decimal digits only, and names the variable otherwise', () => {
    expect(load({ PORT: '0' }).port).toBe(0);
    expect(refused({ PORT: '0x1F90' })).toBe('invalid configuration: PORT: expected a whole number, got "0x1F90"');
    expect(refused({ PORT: '1e3' })).toContain('PORT: expected a whole number');
    expect(refused({ SHUTDOWN_TIMEOUT_MS: '5s' })).toContain('SHUTDOWN_TIMEOUT_MS: expected a whole number, got "5s"');
    expect(refused({ RATE_LIMIT_IP_BURST: ' 10' })).toContain('RATE_LIMIT_IP_BURST');
    expect(refused({ PORT: '70000' })).toBe('invalid configuration: PORT: expected a number from 0 to 65535, got 70000');
    expect(refused({ VALIDATION_WORKERS: '-1' })).toContain('VALIDATION_WORKERS');
  });

  it('takes absolute http(s) URLs only, without repeating the value (it may hold credentials)', () => {
    for (const name of ['PUBLIC_BASE_URL', 'TSA_URL', 'OCSP_URL']) {
      for (const bad of ['localhost:8080', 'javascript:alert(1)', 'ftp://tsa.example', 'https://user:secret@']) {
        const msg = refused({ [name]: bad });
        expect(msg).toBe(`invalid configuration: ${name}: expected an absolute http:// or https:// URL`);
      }
    }
    expect(load({ PUBLIC_BASE_URL: 'https://chungthuc.example.gov.vn/ct' }).publicBaseUrl).toBe('https://chungthuc.example.gov.vn/ct');
  });

  it('refuses TSA credentials that would be half ignored', () => {
    expect(refused({ TSA_PASSWORD: 'x' })).toContain('TSA_PASSWORD needs TSA_USERNAME');
    expect(refused({ TSA_BEARER_TOKEN: 't', TSA_USERNAME: 'u' })).toContain('TSA_BEARER_TOKEN');
    expect(load({ TSA_USERNAME: 'u' }).tsa.auth).toEqual({ basic: { user: 'u', password: '' } });
    expect(load({ TSA_BEARER_TOKEN: 't' }).tsa.auth).toEqual({ bearer: 't' });
  });

  it('refuses an empty PIN file (the token would count the empty PIN as a wrong one)', () => {
    const empty = path.join(tmp, 'empty-pin');
    writeFileSync(empty, '\n');
    expect(refused({ PKCS11_PIN_FILE: empty })).toBe(`invalid configuration: PKCS11_PIN_FILE: ${empty} is empty`);
    expect(refused({ PKCS11_PIN_FILE: path.join(tmp, 'none') })).toContain('cannot read the HSM PIN file');
  });

  it('resolves a relative SOFTHSM2_CONF against the repository root, as every other path', () => {
    const before = process.env.SOFTHSM2_CONF;
    try {
      process.env.SOFTHSM2_CONF = 'hsm/softhsm2.conf';
      load();
      expect(process.env.SOFTHSM2_CONF).toBe(path.join(PROJECT_ROOT, 'hsm', 'softhsm2.conf'));
    } finally {
      if (before === undefined) delete process.env.SOFTHSM2_CONF;
      else process.env.SOFTHSM2_CONF = before;
    }
  });
});
