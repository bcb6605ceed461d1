/**
 * A client that goes away takes its scan's decoding jobs with it, over a real listening server: the TIFF
 * workers are kept busy (a page on which utif2 loops until the time limit), a 3-page TIFF is uploaded
 * for a certification or a preview, and once its first job waits in the decoder's queue the client
 * aborts. The job leaves the queue as the connection closes (not a minute later, when a worker would
 * have been free for it), and the certification ends with request-aborted in the audit log.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTiffPages } from '../../../src/stamp/tiff.ts';
import { sharedTiffDecoder } from '../../../src/stamp/tiffDecoder.ts';
import { startTestService, type TestService } from '../../support/service.ts';
import { THREE_PAGES, Workdir, fixturePdf, joinTiffs, rasterize } from '../../stamp/helpers.ts';
import { bearer, countRows, FIELDS, scanForm, tenantWorld, type TenantWorld } from './helpers.ts';

let svc: TestService;
let th: TenantWorld;
let tiff: Uint8Array; // 3 RGB pages, LZW
let looping: Uint8Array; // the same, page 2's strips spoilt: utif2 loops on it until the time limit
beforeAll(async () => {
  const wd = new Workdir();
  try {
    const source = await fixturePdf(THREE_PAGES);
    tiff = joinTiffs([1, 2, 3].map((p) => rasterize(wd, source, p, 'tiff', 100, ['-tiffcompression', 'lzw'])));
  } finally {
    wd.remove();
  }
  const spoilt = Buffer.from(tiff);
  const { ifds } = readTiffPages(new Uint8Array(spoilt).buffer, 'here');
  for (const at of ifds[1]!.t273 as number[]) spoilt.fill(0xff, at, at + 50);
  looping = spoilt;
  svc = await startTestService({ API_AUTH: 'required' });
  th = await tenantWorld(svc, 'BOHOAN');
});
afterAll(async () => {
  await sharedTiffDecoder.close();
  await svc?.stop();
});

/** Waits for `ready` to hold, looking again every 10 ms (the test's own timeout bounds it). */
async function until(ready: () => boolean): Promise<void> {
  while (!ready()) await new Promise((r) => setTimeout(r, 10));
}

const scratchDirs = () => (existsSync(path.join(svc.dataDir, 'tmp')) ? readdirSync(path.join(svc.dataDir, 'tmp')) : []);

/**
 * Every TIFF worker busy and one more job waiting; then `route` gets the TIFF, and the client aborts once
 * the request's first job waits behind them. Resolves once the server has closed the request's response
 * (its scratch folder is removed then), with the jobs waiting before the request came.
 */
async function abortWhileQueued(route: string, fields: Record<string, string>): Promise<{ waitingBefore: number; waitingAfter: number }> {
  const file = await sharedTiffDecoder.read(looping, 'blocker.tif');
  const blockers: Array<Promise<unknown>> = [];
  while (sharedTiffDecoder.waiting === 0) blockers.push(sharedTiffDecoder.decodePage(file, 1, 'blocker.tif page 2').catch((e: unknown) => e));
  const waitingBefore = sharedTiffDecoder.waiting;
  const known = new Set(scratchDirs());
  const client = new AbortController();
  const answer = fetch(`${svc.url}${route}`, { method: 'POST', headers: bearer(th.key), body: scanForm([tiff], fields, 'image/tiff'), signal: client.signal }).catch((e: unknown) => e);
  await until(() => sharedTiffDecoder.waiting > waitingBefore);
  const scratch = scratchDirs().find((d) => !known.has(d));
  expect(scratch).toBeDefined();
  client.abort();
  expect(await answer).toMatchObject({ name: 'AbortError' });
  await until(() => !existsSync(path.join(svc.dataDir, 'tmp', scratch!)));
  const waitingAfter = sharedTiffDecoder.waiting;
  // The blockers would loop for a minute: their workers are stopped (the next TIFF gets fresh ones).
  await sharedTiffDecoder.close();
  for (const b of await Promise.all(blockers)) expect(b).toMatchObject({ code: 'scan-decoder-failed', status: 503 });
  return { waitingBefore, waitingAfter };
}

describe('a client that goes away while its scan waits for a TIFF worker', () => {
  it('POST /api/v1/certified-copies: its queued job is dropped as the connection closes; request-aborted in the audit log', async () => {
    const { waitingBefore, waitingAfter } = await abortWhileQueued('/api/v1/certified-copies', { ...FIELDS, certifier: th.officer.username });
    expect(waitingAfter).toBe(waitingBefore);
    const row = () =>
      svc.db.db.prepare("SELECT status, details FROM audit_log WHERE action = 'copies.certify' ORDER BY id DESC LIMIT 1").get() as { status: number; details: string } | undefined;
    await until(() => row() !== undefined);
    expect(row()!.status).toBe(400);
    expect(JSON.parse(row()!.details)).toMatchObject({ code: 'request-aborted' });
    // It ended in intake, before a number is reserved: none was.
    expect(countRows(svc, 'SELECT COUNT(*) AS n FROM certified_copies')).toBe(0);
  });

  it('POST /api/v1/certified-copies/preview: its queued job is dropped as the connection closes', async () => {
    const { waitingBefore, waitingAfter } = await abortWhileQueued('/api/v1/certified-copies/preview', {});
    expect(waitingAfter).toBe(waitingBefore);
  });
});
