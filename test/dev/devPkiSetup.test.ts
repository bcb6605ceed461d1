/**
 * The setup (scripts/dev-pki.ts, scripts/bootstrap.mjs) in a copy of the project under a temporary folder,
 * with its own SoftHSM token: runs killed half-way recover on the next run, files cut short are made
 * again, two runs at once do not double the keys, and a failing setup step shows why.
 *
 * A run is "killed" by an `openssl` in front of the real one on PATH, which SIGKILLs its caller when its
 * arguments match: exactly what a kill -9 of the setup at that step does.
 */
import { spawn, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_KEY_LABELS } from '../../scripts/devPkiPaths.ts';
import { PROJECT_ROOT } from '../../src/config.ts';

let tree: string;
const at = (...p: string[]) => path.join(tree, ...p);

beforeAll(() => {
  tree = mkdtempSync(path.join(os.tmpdir(), 'chungthuc-setup-'));
  for (const f of ['src', 'scripts', 'package.json', 'package-lock.json', 'tsconfig.json']) cpSync(path.join(PROJECT_ROOT, f), at(f), { recursive: true });
  symlinkSync(path.join(PROJECT_ROOT, 'node_modules'), at('node_modules'));
  mkdirSync(at('bin'));
  writeFileSync(
    at('bin', 'openssl'),
    ['#!/bin/sh', 'if [ -n "$KILL_AT" ]; then case " $* " in *"$KILL_AT"*) kill -9 $PPID; exit 137;; esac; fi', 'exec /usr/bin/openssl "$@"', ''].join('\n'),
  );
  chmodSync(at('bin', 'openssl'), 0o755);
});
afterAll(() => rmSync(tree, { recursive: true, force: true }));

interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
}

/** scripts/dev-pki.ts of the copy; `killAt`: SIGKILLed when openssl is called with these arguments. */
function devPki(killAt = '', extra: Record<string, string> = {}): Promise<Ran> {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${at('bin')}:${process.env.PATH ?? ''}`, KILL_AT: killAt, ...extra };
  delete env.SOFTHSM2_CONF; // the copy's own, which the script sets
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/dev-pki.ts'], { cwd: tree, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, out })));
}

const cert = (name: string) => new X509Certificate(readFileSync(at('certs', name)));

/** What does not hang together in the copy's PKI (empty when all of it does). */
function inconsistencies(): string[] {
  const problems: string[] = [];
  const root = cert('root-ca.pem');
  const issuing = cert('issuing-ca.pem');
  if (!issuing.verify(root.publicKey)) problems.push('issuing-ca');
  for (const name of ['ocsp', ...DEV_KEY_LABELS]) {
    let ok = false;
    try {
      ok = cert(`${name}.pem`).verify(issuing.publicKey);
    } catch {
      /* unreadable */
    }
    if (!ok) problems.push(name);
  }
  for (const [crl, ca] of [
    ['root-ca.crl.pem', 'root-ca.pem'],
    ['issuing-ca.crl.pem', 'issuing-ca.pem'],
  ] as const) {
    const r = spawnSync('openssl', ['crl', '-in', at('certs', crl), '-CAfile', at('certs', ca), '-noout'], { encoding: 'utf8' });
    if (!/verify OK/.test(r.stderr)) problems.push(crl);
  }
  const nss = spawnSync('certutil', ['-L', '-d', `sql:${at('certs', 'nssdb')}`, '-n', 'Chungthuc Dev Root CA', '-a'], { encoding: 'utf8' });
  if (nss.status !== 0 || new X509Certificate(nss.stdout).fingerprint256 !== root.fingerprint256) problems.push('nssdb');
  return problems;
}

/** Private key objects in the copy's token, by label. */
function privateKeys(): string[] {
  const r = spawnSync(
    'pkcs11-tool',
    ['--module', '/usr/lib/softhsm/libsofthsm2.so', '--token-label', 'chungthuc-dev', '--login', '--pin', readFileSync(at('hsm', 'pin'), 'utf8').trim(), '--list-objects', '--type', 'privkey'],
    { encoding: 'utf8', env: { ...process.env, SOFTHSM2_CONF: at('hsm', 'softhsm2.conf') } },
  );
  expect(r.status).toBe(0);
  return [...r.stdout.matchAll(/label:\s+(\S+)/g)].map((m) => m[1]!).sort();
}

describe('the dev PKI setup', () => {
  it('makes everything on a first run, and a second run changes nothing', async () => {
    const first = await devPki();
    expect(first.code, first.out).toBe(0);
    expect(inconsistencies()).toEqual([]);
    const second = await devPki();
    expect(second.code).toBe(0);
    expect(second.out).toContain('dev PKI up to date');
  }, 60_000);

  it('recovers from a run killed after the CAs were made again: nothing issued by the old ones is kept', async () => {
    rmSync(at('certs', 'private', 'root-ca.key')); // a lost CA key: the run makes both CAs again…
    const killed = await devPki('-extensions ext_ocsp'); // …and is killed before anything under them
    expect(killed.signal).toBe('SIGKILL');
    const next = await devPki();
    expect(next.code, next.out).toBe(0);
    // Was: every end-entity certificate, the OCSP certificate, the root CRL and the NSS db still the old
    // CA's, and later runs said "up to date".
    expect(inconsistencies()).toEqual([]);
    expect((await devPki()).out).toContain('dev PKI up to date');
  }, 60_000);

  it('recovers from a run killed between a revocation and the CRL: the CRL lists what the CA revoked', async () => {
    rmSync(at('certs', 'officer-revoked.pem'));
    const killed = await devPki('-name issuing_ca -batch -gencrl');
    expect(killed.signal).toBe('SIGKILL');
    expect((await devPki()).code).toBe(0);
    const listed = spawnSync('openssl', ['crl', '-in', at('certs', 'issuing-ca.crl.pem'), '-noout', '-text'], { encoding: 'utf8' }).stdout.match(/Serial Number:/g) ?? [];
    const revoked = readFileSync(at('certs', 'db', 'issuing', 'index.txt'), 'utf8').split('\n').filter((l) => l.startsWith('R\t'));
    expect(listed.length).toBe(revoked.length);
    expect(revoked.length).toBeGreaterThan(0);
  }, 60_000);

  it('makes again a certificate, CRL or key cut short, and does not fail for good on it', async () => {
    for (const f of ['officer1.pem', 'ocsp.pem', 'issuing-ca.crl.pem', 'private/issuing-ca.key']) {
      writeFileSync(at('certs', f), readFileSync(at('certs', f)).subarray(0, 300));
    }
    // Was: "dev-pki failed: not a PEM file", at every run.
    const r = await devPki();
    expect(r.code, r.out).toBe(0);
    expect(inconsistencies()).toEqual([]);
  }, 60_000);

  it('keeps the PIN files and CA keys private to the owner even when they were not', async () => {
    chmodSync(at('hsm', 'pin'), 0o644);
    chmodSync(at('certs', 'private', 'root-ca.key'), 0o644);
    chmodSync(at('certs', 'private'), 0o755);
    expect((await devPki()).code).toBe(0);
    expect(statSync(at('hsm', 'pin')).mode & 0o777).toBe(0o600);
    expect(statSync(at('certs', 'private', 'root-ca.key')).mode & 0o777).toBe(0o600);
    expect(statSync(at('certs', 'private')).mode & 0o777).toBe(0o700);
  }, 60_000);

  it('bakes a changed DEV_PKI_OCSP_URL into the certificates at the next run, and refuses one openssl.cnf would choke on', async () => {
    const moved = await devPki('', { DEV_PKI_OCSP_URL: 'http://127.0.0.1:18971' });
    expect(moved.code, moved.out).toBe(0);
    // Was: "dev PKI up to date", the certificates still pointing at the old responder.
    expect(cert('officer1.pem').infoAccess).toContain('OCSP - URI:http://127.0.0.1:18971');
    const bad = await devPki('', { DEV_PKI_OCSP_URL: 'http://127.0.0.1:1\nbasicConstraints = CA:true' });
    expect(bad.code).toBe(1);
    expect(bad.out).toContain('DEV_PKI_OCSP_URL: expected an http:// or https:// URL');
    expect(readFileSync(at('certs', 'openssl.cnf'), 'utf8')).not.toContain('CA:true\n, caIssuers');
    expect((await devPki()).code).toBe(0); // back to the default
    expect(cert('officer1.pem').infoAccess).toContain('OCSP - URI:http://127.0.0.1:18961');
    expect(inconsistencies()).toEqual([]);
  }, 60_000);

  it('two runs at once on a fresh checkout leave one key pair per label (they take turns)', async () => {
    for (const d of ['certs', 'hsm']) rmSync(at(d), { recursive: true, force: true });
    const [a, b] = await Promise.all([devPki(), devPki()]);
    expect([a.code, b.code], a.out + b.out).toEqual([0, 0]);
    // Was: both generated keys, and the token held two or three key pairs under some labels.
    expect(privateKeys()).toEqual([...DEV_KEY_LABELS].sort());
    expect(inconsistencies()).toEqual([]);
  }, 90_000);
});

describe('bootstrap', () => {
  it('shows why a step failed (the fixture generator ran with its output thrown away)', () => {
    writeFileSync(at('scripts', 'gen-fixtures.ts'), "throw new Error('the fixture generator broke here');\n");
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.SOFTHSM2_CONF;
    const r = spawnSync(process.execPath, ['scripts/bootstrap.mjs'], { cwd: tree, env, encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('[setup] setup failed:');
    expect(r.stderr).toContain('the fixture generator broke here');
  }, 60_000);
});
