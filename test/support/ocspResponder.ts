/**
 * Start `openssl ocsp` as the dev OCSP responder (RFC 6960) over the issuing CA's `openssl ca` database,
 * signing with the delegated responder certificate (id-kp-OCSPSigning, id-pkix-ocsp-nocheck).
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import { DEV_OCSP_PORT, DEV_PATHS } from '../../scripts/devPkiPaths.ts';

export interface OcspResponder {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
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
    ['ocsp', '-index', DEV_PATHS.issuingCaIndex, '-port', `127.0.0.1:${port}`, '-rsigner', DEV_PATHS.ocspPem, '-rkey', DEV_PATHS.ocspKey, '-CA', DEV_PATHS.issuingCaPem, '-ndays', '1'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr = (stderr + d).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let dead = false;
  void exited.then(() => {
    dead = true;
  });
  // Bounded wait: 200 attempts of 50 ms.
  for (let i = 0; i < 200; i++) {
    if (dead) throw new Error(`openssl ocsp exited before answering on port ${port}: ${stderr.trim()}`);
    if (await canConnect(port)) {
      return {
        url: `http://127.0.0.1:${port}`,
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
