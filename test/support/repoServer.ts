/**
 * The dev PKI repository: a node:http static server for the CRLs and CA certificates that the dev
 * certificates' CRLDP and AIA caIssuers point at (http://127.0.0.1:18962/{issuing-ca,root-ca}.{crl,cer}).
 * Tests can make it misbehave (`mode`: slow = accept and never answer, fail = HTTP 503), swap a file for
 * other bytes, and count requests. `startSlowServer()` is a server that never answers at all, and
 * `unusedUrl()` a loopback URL where nothing listens ("down").
 */
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';

import { DEV_PATHS, DEV_REPO_PORT } from '../../scripts/devPkiPaths.ts';
import { freePort } from './ocspResponder.ts';

export type RepoMode = 'serve' | 'slow' | 'fail';

export interface RepoServer {
  readonly url: string;
  readonly port: number;
  /** Every request path, in arrival order. */
  readonly requests: string[];
  mode: RepoMode;
  /** Serve these bytes for `/<name>` instead of the file from certs/. */
  override(name: string, body: Uint8Array | undefined): void;
  stop(): Promise<void>;
}

const SERVED = /^\/([A-Za-z0-9._-]+\.(crl|cer))$/;
const TYPES: Record<string, string> = { crl: 'application/pkix-crl', cer: 'application/pkix-cert' };

async function listen(server: http.Server, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

function tracked(server: http.Server): () => Promise<void> {
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  return () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      // Slow-mode requests never end by themselves: cut them so close() can finish.
      for (const s of sockets) s.destroy();
    });
}

/** Start on `port` (default 18962, the port in the dev certificates; 0 for any free port). */
export async function startRepoServer(opts: { port?: number; dir?: string } = {}): Promise<RepoServer> {
  const dir = opts.dir ?? DEV_PATHS.certsDir;
  const overrides = new Map<string, Uint8Array>();
  const requests: string[] = [];
  const state = { mode: 'serve' as RepoMode };
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    requests.push(url);
    if (state.mode === 'slow') return; // never answer: the client's timeout must fire
    if (state.mode === 'fail') {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('unavailable\n');
      return;
    }
    const m = SERVED.exec(url);
    if (req.method !== 'GET' || !m) {
      res.writeHead(404).end();
      return;
    }
    const name = m[1]!;
    const type = TYPES[m[2]!]!;
    const body = overrides.get(name);
    (body ? Promise.resolve(body) : readFile(path.join(dir, name))).then(
      (bytes) => res.writeHead(200, { 'content-type': type, 'content-length': bytes.length }).end(bytes),
      () => res.writeHead(404).end(),
    );
  });
  const close = tracked(server);
  const port = await listen(server, opts.port ?? DEV_REPO_PORT);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    get mode() {
      return state.mode;
    },
    set mode(m: RepoMode) {
      state.mode = m;
    },
    override(name, body) {
      if (body === undefined) overrides.delete(name);
      else overrides.set(name, body);
    },
    stop: close,
  };
}

export interface SlowServer {
  readonly url: string;
  /** Requests received (none is ever answered). */
  readonly requests: string[];
  stop(): Promise<void>;
}

/** A server on a free port that reads requests and never answers them. */
export async function startSlowServer(): Promise<SlowServer> {
  const requests: string[] = [];
  const server = http.createServer((req) => {
    requests.push(req.url ?? '/');
  });
  const close = tracked(server);
  const port = await listen(server, 0);
  return { url: `http://127.0.0.1:${port}`, requests, stop: close };
}

/** A loopback URL with nothing listening behind it: connections are refused ("down"). */
export async function unusedUrl(): Promise<string> {
  return `http://127.0.0.1:${await freePort()}`;
}
