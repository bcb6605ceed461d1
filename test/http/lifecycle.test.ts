/**
 * The service's life (src/main.ts): a start that cannot succeed ends at once with one line and exit 1;
 * a failed start stops what it had started; a signal during the start is a clean stop; a shutdown ends
 * even when an HSM operation hangs, and stops the scan decoders' work for requests it cut (the scan
 * reader's children are processes, which would outlive the service).
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, loadConfig } from '../../src/config.ts';
import { HSM_CLOSE_GRACE_MS, createLogger, launch } from '../../src/main.ts';
import { sharedScanReader } from '../../src/stamp/scanReader.ts';
import { sharedTiffDecoder } from '../../src/stamp/tiffDecoder.ts';
import { freePorts } from '../support/ocspResponder.ts';
import { startTestService } from '../support/service.ts';
import { writeMultiPageTiff } from '../stamp/helpers.ts';

const dirs: string[] = [];
const tmpDir = (): string => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'chungthuc-life-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * `node src/main.ts` with `env` over a fresh data directory, no dev PKI services and no metrics; `onOutput`
 * sees stdout as it comes. Killed (and failed) if it has not ended after `ms`.
 */
function runMain(env: Record<string, string>, ms = 30_000, onOutput?: (stdout: string, kill: (s: NodeJS.Signals) => void) => void): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, PORT: '0', DATA_DIR: tmpDir(), METRICS_PORT: '0', DEV_PKI_SERVICES: 'off', LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    onOutput?.(stdout, (s) => child.kill(s));
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`still running after ${ms} ms; stdout: ${stdout.slice(-400)} stderr: ${stderr.slice(-400)}`));
    }, ms);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

const accepts = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

describe('a start that cannot succeed', () => {
  it('ends at once with exit 1 and one line naming what to fix: no stack, no retry of a rejected PIN', async () => {
    const garbage = tmpDir();
    writeFileSync(path.join(garbage, 'chungthuc.sqlite'), 'this is not a database, it is a text file of some length');
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const busyPort = (busy.address() as net.AddressInfo).port;
    try {
      const cases: Array<[Record<string, string>, RegExp]> = [
        // Was: the service started and logged in with the wrong PIN again and again (1 s, 2 s, … 60 s),
        // which locks the PIN of a real HSM.
        [{ PKCS11_PIN: 'wrong-pin' }, /^logging in to token "chungthuc-dev": the token rejected the PIN \(CKR_PIN_INCORRECT\) \[hsm-pin-incorrect\]$/],
        // Was: started, retrying to load a library that is not there.
        [{ PKCS11_MODULE: '/nonexistent/libpkcs11.so' }, /^invalid configuration: PKCS11_MODULE: no PKCS#11 module at \/nonexistent\/libpkcs11\.so \[config-invalid\]$/],
        // Was: "cannot open the database …" without why.
        [{ DATA_DIR: garbage }, /^cannot open the database .*chungthuc\.sqlite: file is not a database \[db-open-failed\]$/],
        // Was: "listen EADDRINUSE: address already in use 127.0.0.1:…", naming no variable.
        [{ PORT: String(busyPort) }, new RegExp(`^cannot listen on 127\\.0\\.0\\.1:${busyPort} \\(HOST, PORT\\): the address is already in use \\[listen-failed\\]$`)],
        [{ METRICS_PORT: String(busyPort) }, /\(METRICS_HOST, METRICS_PORT\): the address is already in use/],
        // Was: "ENOENT: no such file or directory, open '…'", naming no variable.
        [{ VALIDATION_POLICY: '/nonexistent/policy.json' }, /^invalid configuration: VALIDATION_POLICY: \/nonexistent\/policy\.json: no such file \[config-invalid\]$/],
        [{ CA_CERTS: '/nonexistent/chain.pem' }, /^invalid configuration: CA_CERTS: no certificate file or folder at \/nonexistent\/chain\.pem \[config-invalid\]$/],
        [{ PORT: '80x' }, /^invalid configuration: PORT: expected a whole number, got "80x" \[config-invalid\]$/],
      ];
      const runs = await Promise.all(cases.map(([env]) => runMain(env, 25_000)));
      for (const [i, run] of runs.entries()) {
        const [env, expected] = cases[i]!;
        expect(run.code, JSON.stringify(env)).toBe(1);
        const lines = run.stderr.trim().split('\n');
        expect(lines, JSON.stringify(env)).toHaveLength(1);
        expect(lines[0]!.replace(/^chungthuc failed to start: /, ''), JSON.stringify(env)).toMatch(expected);
        expect(run.stdout).not.toContain('listening on');
      }
    } finally {
      busy.close();
    }
  }, 60_000);

  it('stops the dev PKI services it had started (openssl ocsp is a process group of its own)', async () => {
    const [ocsp, repo] = await freePorts(2);
    const ports = { ocsp: ocsp!, repo: repo! };
    const dataDir = tmpDir();
    writeFileSync(path.join(dataDir, 'chungthuc.sqlite'), 'not a database');
    const config = loadConfig({ ...process.env, PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'silent', METRICS_PORT: '0', DEV_PKI_SERVICES: 'auto', CERTS_DIR: 'certs' });
    await expect(launch(config, createLogger(config), ports)).rejects.toMatchObject({ code: 'db-open-failed' });
    // Time for a responder left behind to bind its port.
    await new Promise((r) => setTimeout(r, 700));
    expect(await accepts(ports.ocsp)).toBe(false);
    expect(await accepts(ports.repo)).toBe(false);
  });
});

describe('stopping', () => {
  it('a SIGTERM during the start stops the service cleanly once started (exit 0), instead of killing it half-way', async () => {
    let sent = false;
    const run = await runMain({ LOG_LEVEL: 'info' }, 30_000, (out, kill) => {
      // Logged right after the database is opened, well before the service listens.
      if (!sent && out.includes('"msg":"database migrated"')) {
        sent = true;
        kill('SIGTERM');
      }
    });
    expect(sent).toBe(true);
    expect([run.code, run.signal]).toEqual([0, null]);
    expect(run.stdout).toContain('"msg":"stopped"');
    // The banner still came: the demo office's passwords made during the start are shown once.
    expect(run.stdout).toContain('quantri.demo');
  }, 40_000);

  it('ends within SHUTDOWN_TIMEOUT_MS + the HSM grace when an HSM operation hangs, and closes the database', async () => {
    const svc = await startTestService({ SHUTDOWN_TIMEOUT_MS: '100' });
    // An operation that never returns from the HSM (a network HSM that stopped answering), holding a session.
    const token = svc.hsm() as unknown as { pool: { use(fn: () => Promise<never>): Promise<never> } };
    void token.pool.use(() => new Promise<never>(() => undefined)).catch(() => undefined);
    const t0 = Date.now();
    await expect(svc.close()).rejects.toMatchObject({ code: 'hsm-close-timeout' });
    expect(Date.now() - t0).toBeLessThan(100 + HSM_CLOSE_GRACE_MS + 2000);
    expect(svc.db.db.open).toBe(false);
    rmSync(svc.dataDir, { recursive: true, force: true });
  }, 30_000);

  it('stops the TIFF page a cut request was still decoding', async () => {
    const svc = await startTestService();
    const width = 4000;
    const height = 3000; // 12 Mpx of noise: seconds of deflate in the worker
    const tiff = writeMultiPageTiff([{ width, height, channels: 3, pixels: new Uint8Array(randomBytes(width * height * 3)), dpi: 300 }]);
    const file = await sharedTiffDecoder.read(tiff, 'big.tif');
    const outcome = sharedTiffDecoder.decodePage(file, 0, 'big.tif page 1').then(
      () => 'decoded',
      (err: unknown) => err,
    );
    await new Promise((r) => setTimeout(r, 50));
    await svc.stop();
    expect(await outcome).toMatchObject({ code: 'scan-decoder-failed', status: 503 });
  }, 30_000);

  it("stops the scan reader's child still reading a cut request's PDF (a process: it would outlive the service)", async () => {
    const svc = await startTestService();
    // Twenty objects of 250 000 empty arrays: seconds of pdf-lib parsing in the child.
    const bodies = ['<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [4 0 R] >> >>', '<< /Type /Pages /Kids [3 0 R] /Count 1 >>', '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>'];
    for (let i = 0; i < 20; i++) bodies.push(`[${'[]'.repeat(250_000)}]`);
    let pdf = '%PDF-1.7\n';
    const offsets = bodies.map((body, i) => {
      const at = pdf.length;
      pdf += `${i + 1} 0 obj\n${body}\nendobj\n`;
      return at;
    });
    const xref = pdf.length;
    pdf += `xref\n0 ${bodies.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
    pdf += `trailer\n<< /Size ${bodies.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
    const outcome = sharedScanReader.pdf(Buffer.from(pdf, 'latin1'), 'slow.pdf', { maxPages: 200, maxPixelsPerPage: 60_000_000 }, 0).then(
      () => 'read',
      (err: unknown) => err,
    );
    const children = () => spawnSync('pgrep', ['-P', String(process.pid), '-f', 'scanChild.mjs'], { encoding: 'utf8' }).stdout.trim();
    await new Promise((r) => setTimeout(r, 300));
    expect(children()).not.toBe('');
    await svc.stop();
    expect(await outcome).toMatchObject({ code: 'scan-decoder-failed', status: 503, message: 'slow.pdf: the scan reader was shut down' });
    expect(children()).toBe('');
  }, 30_000);
});
