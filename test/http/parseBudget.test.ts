/**
 * A small PDF that would cost gigabytes to parse (millions of empty arrays in each of several objects,
 * each object under the per-array limit) is refused by the signing service with a clear problem,
 * and the service goes on signing (before the document value budget, an 89 MB file took 2.2 GB of
 * heap and 10 s of event loop, and a 256 MB upload would exhaust the process).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateFixtures, type FixtureSet } from '../../scripts/gen-fixtures.ts';
import { valueBomb } from '../support/classicPdf.ts';
import { startTestService, type TestService } from '../support/service.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'chungthuc-http-budget-'));
let svc: TestService;
let fx: FixtureSet;

beforeAll(async () => {
  fx = generateFixtures(path.join(tmp, 'fx'));
  svc = await startTestService({ UPLOAD_LIMIT_BYTES: String(64 * 1024 * 1024) });
});
afterAll(async () => {
  await svc?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('the document value budget on the signing path', () => {
  it('refuses a value bomb with 422 pdf-limit-exceeded and signs the next document', async () => {
    const bomb = valueBomb(6, 1_000_000, 'acroform'); // 12 MB of file, 6 M values
    const res = await fetch(`${svc.url}/api/v1/signatures?key=officer1`, { method: 'POST', headers: { 'content-type': 'application/pdf' }, body: new Uint8Array(bomb) });
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const p = (await res.json()) as { code: string; detail: string };
    expect(p.code).toBe('pdf-limit-exceeded');
    expect(p.detail).toMatch(/more than 4000000 values/);

    const ok = await fetch(`${svc.url}/api/v1/signatures?key=officer1`, { method: 'POST', headers: { 'content-type': 'application/pdf' }, body: readFileSync(fx.classic) });
    expect(ok.status, await ok.clone().text()).toBe(200);
    expect(Buffer.from(await ok.arrayBuffer()).subarray(0, 5).toString()).toBe('%PDF-');
  });
});
