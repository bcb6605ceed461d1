/** The built-in TSA over HTTP (RFC 3161 §3.4), checked with openssl ts; B-LTA over the signing API. */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateFixtures } from '../../scripts/gen-fixtures.ts';
import { DEV_PATHS } from '../support/hsm.ts';
import { pdfsig, qpdfCheck } from '../support/pdfTools.ts';
import { startPkiWorld, type PkiWorld } from '../support/pkiWorld.ts';
import type { TestService } from '../support/service.ts';

let world: PkiWorld;
let svc: TestService;
let tmp: string;
beforeAll(async () => {
  world = await startPkiWorld('http-tsa');
  ({ svc, tmp } = world);
});
afterAll(async () => {
  await world?.stop();
});

describe('POST /tsa', () => {
  it('answers openssl ts queries with tokens openssl ts -verify accepts, serials increasing', async () => {
    const data = path.join(tmp, 'data.txt');
    writeFileSync(data, 'Chứng thực bản sao điện tử');
    const serials: bigint[] = [];
    for (let i = 0; i < 2; i++) {
      const query = path.join(tmp, `q${i}.tsq`);
      execFileSync('openssl', ['ts', '-query', '-data', data, '-sha256', '-cert', '-out', query]);
      const res = await fetch(`${svc.url}/tsa`, { method: 'POST', headers: { 'content-type': 'application/timestamp-query' }, body: readFileSync(query) });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/timestamp-reply');
      const reply = path.join(tmp, `r${i}.tsr`);
      writeFileSync(reply, Buffer.from(await res.arrayBuffer()));
      const text = execFileSync('openssl', ['ts', '-reply', '-in', reply, '-text'], { encoding: 'utf8' });
      expect(text).toMatch(/Status: Granted/);
      expect(text).toMatch(/Policy OID: 1\.3\.6\.1\.4\.1\.99999\.1\.1/);
      serials.push(BigInt('0x' + /Serial number: 0x([0-9A-Fa-f]+)/.exec(text)![1]!));
      const untrusted = path.join(tmp, 'untrusted.pem');
      writeFileSync(untrusted, readFileSync(DEV_PATHS.issuingCaPem, 'utf8'));
      const v = spawnSync('openssl', ['ts', '-verify', '-queryfile', query, '-in', reply, '-CAfile', DEV_PATHS.rootCaPem, '-untrusted', untrusted], { encoding: 'utf8' });
      expect(v.stdout + v.stderr).toMatch(/Verification: OK/);
    }
    expect(serials[1]! > serials[0]!).toBe(true);
  });

  it('rejects a wrong content type and answers garbage with a rejection reply', async () => {
    const wrong = await fetch(`${svc.url}/tsa`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' });
    expect(wrong.status).toBe(415);
    const garbage = await fetch(`${svc.url}/tsa`, { method: 'POST', headers: { 'content-type': 'application/timestamp-query' }, body: 'not asn.1' });
    expect(garbage.status).toBe(200);
    const reply = path.join(tmp, 'garbage.tsr');
    writeFileSync(reply, Buffer.from(await garbage.arrayBuffer()));
    expect(execFileSync('openssl', ['ts', '-reply', '-in', reply, '-text'], { encoding: 'utf8' })).toMatch(/Status: Rejected/);
  });

  it('signs at B-LTA through POST /api/v1/signatures', async () => {
    const fx = generateFixtures(path.join(tmp, 'fx'));
    const res = await fetch(`${svc.url}/api/v1/signatures?key=officer1&level=B-LTA`, { method: 'POST', headers: { 'content-type': 'application/pdf' }, body: readFileSync(fx.objstm) });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(res.headers.get('x-signature-level')).toBe('B-LTA');
    const out = path.join(tmp, 'lta.pdf');
    writeFileSync(out, Buffer.from(await res.arrayBuffer()));
    expect(qpdfCheck(out).ok).toBe(true);
    expect(pdfsig(out)[0]).toMatchObject({ signatureValid: true, certificateStatus: 'Certificate is Trusted.' });
    expect(readFileSync(out).toString('latin1')).toContain('/DocTimeStamp');
  });

  it('extends a signed document through POST /api/v1/signatures/extend and the CLI', async () => {
    const fx = generateFixtures(path.join(tmp, 'fx2'));
    const signed = await fetch(`${svc.url}/api/v1/signatures?key=officer2`, { method: 'POST', headers: { 'content-type': 'application/pdf' }, body: readFileSync(fx.classic) });
    const bb = path.join(tmp, 'bb.pdf');
    writeFileSync(bb, Buffer.from(await signed.arrayBuffer()));
    const res = await fetch(`${svc.url}/api/v1/signatures/extend?level=B-LT`, { method: 'POST', headers: { 'content-type': 'application/pdf' }, body: readFileSync(bb) });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(res.headers.get('x-extension-added')).toBe('document-timestamp,dss');
    expect(res.headers.get('x-revoked-certificates')).toBe('0');
    const lt = path.join(tmp, 'lt.pdf');
    writeFileSync(lt, Buffer.from(await res.arrayBuffer()));
    expect(qpdfCheck(lt).ok).toBe(true);
    expect(pdfsig(lt)[0]?.signatureValid).toBe(true);
    const bad = await fetch(`${svc.url}/api/v1/signatures/extend?level=B-B`, { method: 'POST', headers: { 'content-type': 'application/pdf' }, body: readFileSync(bb) });
    expect(bad.status).toBe(400);
    // The CLI does the same from a shell.
    const cliOut = path.join(tmp, 'cli-lta.pdf');
    // Asynchronously: the CRL server the CLI asks runs in this process and must keep answering.
    const r = await promisify(execFile)(process.execPath, ['bin/chungthuc.mjs', 'extend', lt, '-o', cliOut, '--level', 'B-LTA'], { cwd: DEV_PATHS.root, encoding: 'utf8' });
    expect(r.stdout).toContain('B-LTA');
    expect(qpdfCheck(cliOut).ok).toBe(true);
    expect(readFileSync(cliOut).toString('latin1')).toContain('/DocTimeStamp');
  });
});
