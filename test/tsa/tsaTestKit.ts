/**
 * Shared pieces of the TSA tests: the dev HSM TSA key and certificates, a tiny node:http server on
 * 127.0.0.1:0, and the openssl command lines that judge tokens independently.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { Pkcs11Token } from '../../src/signers/index.ts';
import type { Signer } from '../../src/signers/Signer.ts';
import { SqliteSerialSource, TimeStampAuthority, handleTimestampQuery, type TimeStampAuthorityOptions } from '../../src/tsa/index.ts';
import { DEV_PATHS, devCertPath, openDevToken, readPemDer } from '../support/hsm.ts';

export interface DevTsaKit {
  readonly token: Pkcs11Token;
  readonly signer: Signer;
  readonly certificate: Uint8Array;
  readonly chain: readonly Uint8Array[];
  readonly dir: string;
  /** PEM files for openssl: the root (CAfile) and issuing CA + TSA certificate (-untrusted). */
  readonly rootPem: string;
  readonly untrustedPem: string;
  newTsa(options?: Partial<TimeStampAuthorityOptions> & { dbFile?: string }): { tsa: TimeStampAuthority; db: BetterSqlite3.Database };
  close(): Promise<void>;
}

export async function openDevTsaKit(): Promise<DevTsaKit> {
  const token = await openDevToken();
  const signer = await token.getSigner('tsa');
  const certificate = readPemDer(devCertPath('tsa'));
  const chain = [readPemDer(DEV_PATHS.issuingCaPem), readPemDer(DEV_PATHS.rootCaPem)];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'chungthuc-tsa-'));
  const untrustedPem = path.join(dir, 'untrusted.pem');
  writeFileSync(untrustedPem, readFileSync(DEV_PATHS.issuingCaPem, 'utf8') + readFileSync(devCertPath('tsa'), 'utf8'));
  const dbs: BetterSqlite3.Database[] = [];
  return {
    token,
    signer,
    certificate,
    chain,
    dir,
    rootPem: DEV_PATHS.rootCaPem,
    untrustedPem,
    newTsa(options = {}) {
      const db = new BetterSqlite3(options.dbFile ?? path.join(dir, 'serials.db'));
      dbs.push(db);
      const tsa = new TimeStampAuthority({
        signer,
        certificate,
        chain,
        serials: new SqliteSerialSource(db),
        ...options,
      });
      return { tsa, db };
    },
    async close() {
      for (const db of dbs) if (db.open) db.close();
      await token.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Reply {
  readonly status: number;
  readonly contentType: string;
  readonly body: Uint8Array;
}

/** `undefined` means: never answer (the socket stays open until the server closes). */
export type Handler = (req: { headers: http.IncomingHttpHeaders; body: Uint8Array; count: number }) => Promise<Reply | undefined>;

export interface TestServer {
  readonly url: string;
  /** Requests received so far (headers and body). */
  readonly received: Array<{ headers: http.IncomingHttpHeaders; body: Uint8Array }>;
  close(): Promise<void>;
}

export async function startServer(handler: Handler): Promise<TestServer> {
  const received: TestServer['received'] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = new Uint8Array(Buffer.concat(chunks));
      received.push({ headers: req.headers, body });
      handler({ headers: req.headers, body, count: received.length })
        .then((reply) => {
          if (reply === undefined) return; // hang
          res.writeHead(reply.status, { 'content-type': reply.contentType, 'content-length': reply.body.length });
          res.end(Buffer.from(reply.body));
        })
        .catch((error: unknown) => {
          res.writeHead(599, { 'content-type': 'text/plain' });
          res.end(String(error));
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/tsa`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A server that is the built-in TSA, the way the lead wires POST /tsa. */
export function tsaHandler(tsa: TimeStampAuthority): Handler {
  return async ({ headers, body }) => handleTimestampQuery(tsa, headers['content-type'], body);
}

export function run(cmd: string, args: string[]): { status: number | null; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}
