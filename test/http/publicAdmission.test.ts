/**
 * Anonymous validations of uploaded files (POST /report, POST /v/{code}/validation) are admitted a
 * few at a time per process: beyond DEFAULT_PUBLIC_VALIDATIONS in flight, the next is refused at once
 * with 503 server-busy and a Retry-After, before its upload is received; a place comes back when a
 * request ends, also when its client goes away mid-upload (before, busboy never ended such a body and
 * the request waited forever, holding its place).
 */
import http from 'node:http';
import { mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateFixtures, type FixtureSet } from '../../scripts/gen-fixtures.ts';
import { DEFAULT_PUBLIC_VALIDATIONS } from '../../src/http/admission.ts';
import { startTestService, type TestService } from '../support/service.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'chungthuc-http-admission-'));
let svc: TestService;
let fx: FixtureSet;

beforeAll(async () => {
  fx = generateFixtures(path.join(tmp, 'fx'));
  // Each request from its own client address (the per-client rate limit is not what is tested here).
  svc = await startTestService({ TRUST_PROXY: 'loopback' });
});
afterAll(async () => {
  await svc?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

/** A POST /report whose multipart body starts but never ends (a slow upload), until `abort()`. */
/** This process's open files under the service's upload folder (the service runs in this process). */
function openUploads(): string[] {
  const links = readdirSync('/proc/self/fd').map((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      return '';
    }
  });
  return links.filter((l) => l.startsWith(path.join(svc.dataDir, 'tmp')));
}

let client = 0;
const nextClient = () => `10.0.0.${++client}`;

function hangingUpload(from = nextClient()): Promise<{ abort: () => void }> {
  const url = new URL(svc.url);
  const boundary = 'b0undary';
  const req = http.request({ host: url.hostname, port: url.port, path: '/report', method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': '10000000', accept: 'application/json', 'x-forwarded-for': from } });
  req.on('error', () => {});
  req.write(`--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="slow.pdf"\r\ncontent-type: application/pdf\r\n\r\n%PDF-1.7\n`);
  // Once the server has opened the upload's file, it holds a place (admitted before any body is read).
  const openBefore = openUploads().length;
  return vi.waitFor(() => expect(openUploads().length).toBeGreaterThan(openBefore), { timeout: 5000, interval: 10 }).then(() => ({ abort: () => req.destroy() }));
}

function report(bytes: Buffer, from = nextClient()): Promise<Response> {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(bytes)], { type: 'application/pdf' }), 'x.pdf');
  return fetch(`${svc.url}/report`, { method: 'POST', headers: { accept: 'application/json', 'x-forwarded-for': from }, body: form });
}

describe('admission of anonymous validations', () => {
  it(`refuses the ${DEFAULT_PUBLIC_VALIDATIONS + 1}th at once with 503 server-busy and Retry-After, and takes files again once places are free`, async () => {
    const hanging = [];
    for (let i = 0; i < DEFAULT_PUBLIC_VALIDATIONS; i++) hanging.push(await hangingUpload());
    const busy = await report(readFileSync(fx.classic));
    expect(busy.status).toBe(503);
    expect(busy.headers.get('retry-after')).toBe('10');
    const p = (await busy.json()) as { code: string; retryAfterSeconds: number };
    expect(p).toMatchObject({ code: 'server-busy', retryAfterSeconds: 10 });

    for (const h of hanging) h.abort();
    // The aborted uploads give their places back.
    await expect
      .poll(async () => (await report(readFileSync(fx.classic))).status, { timeout: 5000, interval: 200 })
      .toBe(200);
    // And keep no file open under the upload folder (each abort used to leave its write stream open).
    expect(openUploads()).toEqual([]);
  });

  it('one client holds one place: its second at once is refused with 429, the first goes on, and then it may send another', async () => {
    const me = '10.9.9.9';
    const first = await hangingUpload(me);
    const second = await report(readFileSync(fx.classic), me);
    expect(second.status).toBe(429);
    expect(second.headers.get('retry-after')).toBe('10');
    expect(((await second.json()) as { code: string }).code).toBe('rate-limited');
    // Other clients are not held up by it.
    expect((await report(readFileSync(fx.classic))).status).toBe(200);
    first.abort();
    await expect.poll(async () => (await report(readFileSync(fx.classic), me)).status, { timeout: 5000, interval: 200 }).toBe(200);
  });
});
