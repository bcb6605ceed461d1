/**
 * Start `openssl ocsp` as the dev OCSP responder (RFC 6960) over the issuing CA's `openssl ca` database,
 * signing with the delegated responder certificate (id-kp-OCSPSigning, id-pkix-ocsp-nocheck).
 */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import net from 'node:net';

/** Printed by `openssl ocsp` once it listens (apps/ocsp.c); a bare TCP probe would wedge its single-threaded loop. */
const READY = 'waiting for OCSP client connections';
import { DEV_OCSP_PORT, DEV_PATHS } from '../../scripts/devPkiPaths.ts';

export interface OcspResponder {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** A free loopback port, for tests that must not collide with another responder on the default one. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export async function startOcspResponder(opts: { port?: number } = {}): Promise<OcspResponder> {
  const port = opts.port ?? DEV_OCSP_PORT;
  const child = spawn(
    'openssl',
    ['ocsp', '-index', DEV_PATHS.issuingCaIndex, '-port', String(port), '-rsigner', DEV_PATHS.ocspPem, '-rkey', DEV_PATHS.ocspKey, '-CA', DEV_PATHS.issuingCaPem, '-ndays', '1'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  let ready = false;
  const onData = (d: string): void => {
    stderr = (stderr + d).slice(-4000);
    if (stderr.includes(READY)) ready = true;
  };
  child.stdout.setEncoding('utf8').on('data', onData);
  child.stderr.setEncoding('utf8').on('data', onData);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let dead = false;
  void exited.then(() => {
    dead = true;
  });
  // Bounded wait: 200 attempts of 50 ms.
  for (let i = 0; i < 200; i++) {
    if (dead) throw new Error(`openssl ocsp exited before answering on port ${port}: ${stderr.trim()}`);
    if (ready) {
      // One real request (for the responder's own certificate) proves it answers, not just listens.
      const url = `http://127.0.0.1:${port}`;
      await promisify(execFile)('openssl', ['ocsp', '-issuer', DEV_PATHS.issuingCaPem, '-cert', DEV_PATHS.ocspPem, '-url', url, '-CAfile', DEV_PATHS.chainPem, '-timeout', '10'], { timeout: 15_000 }).catch(async (e: unknown) => {
        child.kill('SIGTERM');
        await exited;
        throw new Error(`openssl ocsp on port ${port} did not answer a probe request: ${e instanceof Error ? e.message : String(e)}`);
      });
      return {
        url,
        port,
        async stop() {
          if (!dead) child.kill('SIGTERM');
          await exited;
        },
      };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGTERM');
  await exited;
  throw new Error(`openssl ocsp did not answer on port ${port} within 10 s: ${stderr.trim()}`);
}
