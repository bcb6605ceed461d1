/**
 * Start `openssl ocsp` as the dev OCSP responder (RFC 6960) over the issuing CA's `openssl ca` database,
 * signing with the delegated responder certificate (id-kp-OCSPSigning, id-pkix-ocsp-nocheck).
 */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import net from 'node:net';

import { DEV_OCSP_PORT, DEV_PATHS } from '../../scripts/devPkiPaths.ts';

export interface OcspResponder {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

/**
 * `n` distinct free loopback ports, for tests that must not collide with another server on a default
 * one. All n listeners are open at once before any closes: asked one after another, the kernel may hand
 * back the port it just freed (a port pair came out equal about 3 times in 10 000 here). A server the
 * test then starts on port 0 may still draw one of them: give every server of the test its port from here.
 */
export async function freePorts(n: number): Promise<number[]> {
  const servers = Array.from({ length: n }, () => net.createServer());
  try {
    return await Promise.all(
      servers.map(
        (srv) =>
          new Promise<number>((resolve, reject) => {
            srv.once('error', reject);
            srv.listen(0, '127.0.0.1', () => {
              const addr = srv.address();
              if (typeof addr === 'object' && addr) resolve(addr.port);
              else reject(new Error('no port'));
            });
          }),
      ),
    );
  } finally {
    await Promise.all(servers.map((srv) => new Promise<void>((resolve) => (srv.listening ? srv.close(() => resolve()) : resolve()))));
  }
}

/** One free loopback port (see freePorts). */
export async function freePort(): Promise<number> {
  return (await freePorts(1))[0]!;
}

/** `signer`: another responder certificate and key (PEM files) than the dev PKI's; `index`: another `openssl ca` database. */
export async function startOcspResponder(opts: { port?: number; signer?: { pem: string; key: string }; index?: string } = {}): Promise<OcspResponder> {
  const port = opts.port ?? DEV_OCSP_PORT;
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    'openssl',
    // -multi: worker processes, so one stuck or reset client (pdfsig/NSS) cannot wedge the responder;
    // openssl then makes itself a process-group leader (setpgid), so stop() signals the whole group.
    // -timeout: a connection that sends nothing is dropped. stdio is not piped: the workers would
    // keep the pipes (and so the test process) alive.
    ['ocsp', '-index', opts.index ?? DEV_PATHS.issuingCaIndex, '-port', String(port), '-rsigner', opts.signer?.pem ?? DEV_PATHS.ocspPem, '-rkey', opts.signer?.key ?? DEV_PATHS.ocspKey, '-CA', DEV_PATHS.issuingCaPem, '-ndays', '1', '-multi', '2', '-timeout', '5'],
    { stdio: 'ignore' },
  );
  let dead = false;
  const exited = new Promise<void>((resolve) => child.once('exit', () => {
    dead = true;
    resolve();
  }));
  const killAll = (): void => {
    for (const target of [-(child.pid ?? 0), child.pid ?? 0]) {
      try {
        if (target !== 0) process.kill(target, 'SIGTERM');
      } catch {
        /* already gone */
      }
    }
  };
  // Bounded wait: real OCSP requests (a bare TCP probe would wedge a single-process responder),
  // retried until one is answered.
  let lastError = '';
  for (let i = 0; i < 40; i++) {
    if (dead) throw new Error(`openssl ocsp exited before answering on port ${port}`);
    try {
      await promisify(execFile)('openssl', ['ocsp', '-issuer', DEV_PATHS.issuingCaPem, '-cert', DEV_PATHS.ocspPem, '-url', url, '-CAfile', DEV_PATHS.chainPem, '-timeout', '2'], { timeout: 5_000 });
      return {
        url,
        port,
        async stop() {
          if (!dead) killAll();
          await exited;
        },
      };
    } catch (e) {
      lastError = e instanceof Error ? e.message : String(e);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  killAll();
  await exited;
  throw new Error(`openssl ocsp did not answer on port ${port}: ${lastError}`);
}
