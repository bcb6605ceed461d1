/**
 * Development only: the endpoints the dev certificates point at (AIA OCSP http://127.0.0.1:18961,
 * CA certificates and CRLs at http://127.0.0.1:18962), so that a fresh `npm start` can sign at
 * B-LT/B-LTA and validate online without any other process. The OCSP responder is `openssl ocsp`
 * over the dev CA's database; the repository is a static loopback server over certs/.
 * Production deployments use their CA's real OCSP/CRL endpoints and leave this off.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';

export interface DevPkiServices {
  stop(): Promise<void>;
}

interface Log {
  info(o: object, msg: string): void;
  warn(o: object, msg: string): void;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

const SERVED = /^\/([A-Za-z0-9._-]+\.(crl|cer))$/;

export async function startDevPkiServices(certsDir: string, log: Log, ports = { ocsp: 18961, repo: 18962 }): Promise<DevPkiServices | undefined> {
  const f = {
    index: path.join(certsDir, 'db', 'issuing', 'index.txt'),
    ocspCert: path.join(certsDir, 'ocsp.pem'),
    ocspKey: path.join(certsDir, 'private', 'ocsp.key'),
    issuing: path.join(certsDir, 'issuing-ca.pem'),
  };
  if (!Object.values(f).every((p) => existsSync(p))) return undefined;
  const stops: Array<() => Promise<void>> = [];

  if (await portFree(ports.repo)) {
    const server = http.createServer((req, res) => {
      const m = SERVED.exec(req.url ?? '');
      const file = m ? path.join(certsDir, m[1]!) : undefined;
      if (req.method !== 'GET' || !file || !existsSync(file)) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': m![2] === 'crl' ? 'application/pkix-crl' : 'application/pkix-cert' }).end(readFileSync(file));
    });
    await new Promise<void>((resolve) => server.listen(ports.repo, '127.0.0.1', resolve));
    stops.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  } else {
    log.warn({ port: ports.repo }, 'dev PKI repository port in use; not serving CRLs/CA certificates');
  }

  if (await portFree(ports.ocsp)) {
    // -multi: worker processes (one stuck client cannot wedge it); openssl makes itself a process
    // group leader, so the whole group is signalled on stop.
    const child = spawn(
      'openssl',
      ['ocsp', '-index', f.index, '-port', String(ports.ocsp), '-rsigner', f.ocspCert, '-rkey', f.ocspKey, '-CA', f.issuing, '-ndays', '1', '-multi', '2', '-timeout', '5'],
      { stdio: 'ignore' },
    );
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.once('error', (err) => log.warn({ err }, 'dev OCSP responder could not start'));
    stops.push(async () => {
      for (const pid of [-(child.pid ?? 0), child.pid ?? 0]) {
        try {
          if (pid !== 0) process.kill(pid, 'SIGTERM');
        } catch {
          /* already gone */
        }
      }
      await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
    });
  } else {
    log.warn({ port: ports.ocsp }, 'dev OCSP port in use; not starting the dev OCSP responder');
  }
  log.info({ ocsp: `http://127.0.0.1:${ports.ocsp}`, repository: `http://127.0.0.1:${ports.repo}` }, 'dev PKI services running');
  return {
    async stop() {
      await Promise.all(stops.map((s) => s()));
    },
  };
}
