/**
 * An idempotent request whose work is done (`committed()`) but which fails afterwards keeps its key:
 * a retry gets 409 instead of doing the work again (a certified copy registered twice). Before that
 * point the key is given back, so a corrected retry runs.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Context } from 'koa';
import { afterAll, describe, expect, it } from 'vitest';
import { idempotent, type FileResponse } from '../../src/http/idempotency.ts';
import type { AppState } from '../../src/http/middleware.ts';
import { IdempotencyRepository, openDatabase } from '../../src/registry/index.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'chungthuc-idem-'));
const db = openDatabase(path.join(dir, 'db.sqlite'));
afterAll(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});
const deps = { repo: new IdempotencyRepository(db.db), storeDir: path.join(dir, 'answers'), ttlMs: 60_000 };
const ctx = () => ({ method: 'POST', path: '/api/v1/certified-copies', state: { log: { error: () => {} } }, set: () => {} }) as unknown as Context & { state: AppState };

describe('idempotent requests that fail', () => {
  it('give the key back when nothing was done, and keep it once the work was done', async () => {
    let runs = 0;
    const failing = (commit: boolean) => async (committed: () => void): Promise<FileResponse> => {
      runs++;
      if (commit) committed();
      throw new Error('disk full');
    };
    await expect(idempotent(ctx(), deps, 'before-commit', async () => 'h1', failing(false))).rejects.toThrow('disk full');
    await expect(idempotent(ctx(), deps, 'before-commit', async () => 'h1', failing(false))).rejects.toThrow('disk full');
    expect(runs).toBe(2); // the retry ran
    await expect(idempotent(ctx(), deps, 'after-commit', async () => 'h2', failing(true))).rejects.toThrow('disk full');
    await expect(idempotent(ctx(), deps, 'after-commit', async () => 'h2', failing(true))).rejects.toMatchObject({ code: 'idempotency-key-in-progress', status: 409 });
    expect(runs).toBe(3); // the retry did not run the work again
  });

  it('an answer in memory is kept in the database when its file cannot be written, so the retry replays it', async () => {
    const blocked = { ...deps, storeDir: path.join(dir, 'not-a-dir') };
    writeFileSync(blocked.storeDir, 'a file where the answers folder should be');
    const first = ctx();
    let runs = 0;
    const body = Buffer.from('{"copy":{"number":7}}');
    await idempotent(first, blocked, 'in-memory', async () => 'h3', async (committed) => {
      runs++;
      committed();
      return { status: 201, headers: { 'Content-Type': 'application/json' }, body, length: body.length };
    });
    const again = ctx();
    await idempotent(again, blocked, 'in-memory', async () => 'h3', async () => {
      runs++;
      throw new Error('must not run');
    });
    expect(runs).toBe(1);
    expect(again.status).toBe(201);
    expect(Buffer.from(again.body as Uint8Array).toString()).toBe('{"copy":{"number":7}}');
    expect(Buffer.from(first.body as Uint8Array).toString()).toBe('{"copy":{"number":7}}');
  });
});
