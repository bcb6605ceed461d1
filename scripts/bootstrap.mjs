#!/usr/bin/env node
// One-command setup, run by `npm start` and `npm test` before anything else. Plain Node (no npm
// dependencies: it installs them). Idempotent: every step checks what exists and reuses it.
//   1. Debian packages the service and the tests need (apt-get when root, else print the command)
//   2. npm dependencies (npm ci when node_modules is missing or older than package-lock.json)
//   3. the SoftHSM2 token, the keys inside it and the dev PKI (scripts/dev-pki.ts)
// The database is created and migrated by the service itself at start.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const forTest = process.argv.includes('--for-test');
const log = (msg) => process.stderr.write(`[setup] ${msg}\n`);

// Debian package → why we need it. Keep in sync with README § Requirements.
const RUNTIME_PACKAGES = {
  softhsm2: 'PKCS#11 token for development and CI',
  opensc: 'pkcs11-tool, to inspect tokens',
  openssl: 'dev PKI, OCSP responder, CRLs',
  'poppler-utils': 'pdfsig/pdftoppm/pdftotext (proof and page previews)',
  qpdf: 'structure checks',
  'zbar-tools': 'QR decoding (zbarimg)',
  'libnss3-tools': 'certutil: NSS trust db for pdfsig',
  'fonts-dejavu-core': 'DejaVu Sans: Vietnamese glyphs for stamps and signature appearances',
  'build-essential': 'native npm modules (pkcs11js, better-sqlite3)',
};
const TEST_PACKAGES = {
  chromium: 'headless browser tests (playwright-core drives /usr/bin/chromium)',
};

/** Runs a step; `quiet`: its output is kept, and shown only (its last lines) when it fails. */
function run(cmd, args, { quiet = false, ...opts } = {}) {
  const r = spawnSync(cmd, args, { stdio: quiet ? ['ignore', 'pipe', 'pipe'] : 'inherit', cwd: root, encoding: 'utf8', ...opts });
  if (r.error) throw new Error(`${cmd} could not run: ${r.error.message}`);
  if (r.status !== 0) {
    const tail = quiet ? `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-12).join('\n') : '';
    const how = r.status === null ? `was killed (${r.signal})` : `exited with ${r.status}`;
    throw new Error(`${cmd} ${args.join(' ')} ${how}${tail ? `:\n${tail}` : ''}`);
  }
}

function missingDebianPackages(names) {
  return names.filter((name) => {
    const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' });
    return r.status !== 0 || !r.stdout.includes('install ok installed');
  });
}

function ensureDebianPackages() {
  if (spawnSync('dpkg-query', ['--version']).error) {
    log('this setup installs Debian packages with apt-get, and dpkg-query is not here: run it on Debian (or install by hand the packages listed in scripts/bootstrap.mjs)');
    process.exit(1);
  }
  const wanted = Object.keys({ ...RUNTIME_PACKAGES, ...(forTest ? TEST_PACKAGES : {}) });
  const missing = missingDebianPackages(wanted);
  if (missing.length === 0) return;
  const cmd = `apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y ${missing.join(' ')}`;
  if (process.getuid?.() !== 0) {
    log(`missing Debian packages: ${missing.join(', ')}. Install them as root, then run again:\n\n  sudo sh -c '${cmd}'\n`);
    process.exit(1);
  }
  log(`installing Debian packages: ${missing.join(', ')}`);
  run('sh', ['-c', cmd], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

function ensureNpmDependencies() {
  const lock = path.join(root, 'package-lock.json');
  const stamp = path.join(root, 'node_modules', '.chungthuc-installed');
  const want = createHash('sha256').update(readFileSync(lock)).digest('hex');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return;
  log('installing npm dependencies (npm ci)');
  run('npm', ['ci', '--no-audit', '--no-fund']);
  mkdirSync(path.dirname(stamp), { recursive: true });
  writeFileSync(stamp, want);
}

function ensureDevPki() {
  run(process.execPath, ['--import', 'tsx', path.join('scripts', 'dev-pki.ts')]);
  // Small sample PDFs for a first try (fixtures/generated/, git-ignored; under a second).
  run(process.execPath, ['--import', 'tsx', path.join('scripts', 'gen-fixtures.ts')], { quiet: true });
}

const [major] = process.versions.node.split('.').map(Number);
if (major < 20) {
  log(`Node.js 20 or newer is required (found ${process.versions.node})`);
  process.exit(1);
}
try {
  ensureDebianPackages();
  ensureNpmDependencies();
  ensureDevPki();
} catch (err) {
  log(`setup failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
