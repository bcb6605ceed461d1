/**
 * Test kit for revocation: the dev certificates, what `openssl ca` recorded about them, throwaway signer
 * certificates made with openssl, an HTTP relay in front of a responder (counts, tampers, replays), and a
 * "scripted" OCSP responder that answers each request with `openssl ocsp` in offline mode using any
 * signer key — for responder-authorisation cases the dev responder cannot produce.
 */
import { execFile } from 'node:child_process';
import { X509Certificate, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { expect } from 'vitest';
import { DEV_PATHS, devCertPath } from '../../../scripts/devPkiPaths.ts';
import { RevocationError } from '../../../src/pki/index.ts';
import { childrenOf, readTlv, slice, tlv } from '../../../src/cms/der.ts';

const run = promisify(execFile);

/** The RevocationError a promise rejects with (fails the test when it resolves or rejects otherwise). */
export async function rejection(p: Promise<unknown>): Promise<RevocationError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(RevocationError);
  return e as RevocationError;
}


export function devCert(label: string): X509Certificate {
  return new X509Certificate(readFileSync(label === 'issuing-ca' ? DEV_PATHS.issuingCaPem : label === 'root-ca' ? DEV_PATHS.rootCaPem : label === 'ocsp' ? DEV_PATHS.ocspPem : devCertPath(label)));
}

/** The revocation record of `cert` in the issuing CA's `openssl ca` index.txt ("R" lines: YYMMDDHHMMSSZ,reason). */
export function indexRevocation(cert: X509Certificate): { date: Date; reason: string } | undefined {
  for (const line of readFileSync(DEV_PATHS.issuingCaIndex, 'utf8').split('\n')) {
    const f = line.split('\t');
    if (f[0] !== 'R' || (f[3] ?? '').toUpperCase() !== cert.serialNumber.toUpperCase()) continue;
    const [when, reason] = (f[2] ?? '').split(',');
    const m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(when ?? '');
    if (!m) throw new Error(`bad index date ${when}`);
    return { date: new Date(Date.UTC(2000 + Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]))), reason: reason ?? '' };
  }
  return undefined;
}

export function tempDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'chungthuc-revocation-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface KeyAndCert {
  readonly cert: string;
  readonly key: string;
}

/**
 * A certificate for `subject` signed by `ca` (or self-signed when ca is undefined) with the given
 * extension lines, made with `openssl x509 -req` so the CA database is left alone.
 */
export async function makeCert(dir: string, name: string, subject: string, extensions: string[], ca?: KeyAndCert): Promise<KeyAndCert> {
  const key = path.join(dir, `${name}.key`);
  const csr = path.join(dir, `${name}.csr`);
  const cert = path.join(dir, `${name}.pem`);
  const ext = path.join(dir, `${name}.ext`);
  writeFileSync(ext, `[e]\n${extensions.join('\n')}\n`);
  await run('openssl', ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-subj', subject, '-out', csr]);
  const signer = ca ? ['-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-CAserial', path.join(dir, `${name}.srl`)] : ['-signkey', key];
  await run('openssl', ['x509', '-req', '-in', csr, ...signer, '-days', '2', '-extfile', ext, '-extensions', 'e', '-out', cert]);
  return { cert, key };
}

export interface Relay {
  readonly url: string;
  /** Number of requests forwarded. */
  count: number;
  stop(): Promise<void>;
}

/** Forwards each POST to `target` and passes the answer through `transform` (which sees every body in turn). */
export async function startRelay(target: string, transform: (body: Uint8Array, index: number) => Uint8Array = (b) => b): Promise<Relay> {
  const relay = { count: 0 } as { count: number };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const index = relay.count++;
      fetch(target, { method: 'POST', body: Buffer.concat(chunks), headers: { 'content-type': 'application/ocsp-request' } })
        .then(async (r) => new Uint8Array(await r.arrayBuffer()))
        .then(
          (body) => res.writeHead(200, { 'content-type': 'application/ocsp-response' }).end(transform(body, index)),
          () => res.writeHead(502).end(),
        );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(relay, {
    url: `http://127.0.0.1:${port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

/** A responder answering with `openssl ocsp -index … -rsigner <signer> -rkey <key>` in offline mode. */
export async function startScriptedResponder(signer: KeyAndCert): Promise<{ url: string; stop(): Promise<void>; remove(): void }> {
  const tmp = tempDir();
  let n = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const id = n++;
      const reqFile = path.join(tmp.dir, `req${id}.der`);
      const respFile = path.join(tmp.dir, `resp${id}.der`);
      writeFileSync(reqFile, Buffer.concat(chunks));
      run('openssl', ['ocsp', '-index', DEV_PATHS.issuingCaIndex, '-CA', DEV_PATHS.issuingCaPem, '-rsigner', signer.cert, '-rkey', signer.key, '-ndays', '1', '-reqin', reqFile, '-respout', respFile]).then(
        () => res.writeHead(200, { 'content-type': 'application/ocsp-response' }).end(readFileSync(respFile)),
        () => res.writeHead(500).end(),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, stop: () => new Promise<void>((resolve) => server.close(() => resolve())), remove: tmp.remove };
}

/** RFC 5280 GeneralizedTime text of a date, to find producedAt/thisUpdate inside a response. */
export function generalizedTime(d: Date): string {
  return d.toISOString().replace(/[-:T]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

/** A copy of `der` with the last digit before 'Z' of the first occurrence of `text` changed. */
export function flipTimeDigit(der: Uint8Array, text: string): Uint8Array {
  const at = Buffer.from(der).indexOf(Buffer.from(text, 'latin1'));
  if (at < 0) throw new Error(`"${text}" not found`);
  const out = Uint8Array.from(der);
  const pos = at + text.length - 2;
  out[pos] = out[pos]! ^ 0x01; // '0'↔'1', '2'↔'3', … stays a digit, so the response still parses
  return out;
}

/** The CRL re-signed by a key that is not the issuing CA's (same TBS, same algorithm). */
export function resignWithOtherKey(der: Uint8Array): Uint8Array {
  const top = readTlv(der, 0);
  const [tbs, alg] = childrenOf(der, top);
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signature = sign('sha256', slice(der, tbs!), privateKey);
  return tlv(0x30, [slice(der, tbs!), slice(der, alg!), tlv(0x03, [Uint8Array.of(0), signature])]);
}
