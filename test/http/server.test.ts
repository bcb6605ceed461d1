import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config.ts';
import { startTestService, type TestService } from '../support/service.ts';

describe('HTTP service skeleton', () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService({ BODY_LIMIT_BYTES: '2048' });
  });
  afterAll(async () => {
    await svc?.stop();
  });

  it('listens on an ephemeral loopback port', () => {
    expect(svc.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(Number(new URL(svc.url).port)).toBeGreaterThan(0);
  });

  it('answers /healthz and echoes a request id', async () => {
    const res = await fetch(`${svc.url}/healthz`, { headers: { 'x-request-id': 'abc-123' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('abc-123');
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('is ready only when the HSM and the database answer', async () => {
    const res = await fetch(`${svc.url}/readyz`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; checks: Record<string, { ok: boolean }> };
    expect(body.status).toBe('ready');
    expect(body.checks.hsm?.ok).toBe(true);
    expect(body.checks.database?.ok).toBe(true);
  });

  it('returns problem+json for an unknown route', async () => {
    const res = await fetch(`${svc.url}/no/such/thing`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const p = (await res.json()) as Record<string, unknown>;
    expect(p).toMatchObject({ status: 404, code: 'not-found', type: 'urn:chungthuc:problem:not-found', instance: '/no/such/thing' });
    expect(typeof p.requestId).toBe('string');
    expect(res.headers.get('x-request-id')).toBe(p.requestId);
  });

  it('returns problem+json for a wrong method on a known route', async () => {
    const res = await fetch(`${svc.url}/healthz`, { method: 'DELETE' });
    expect(res.status).toBe(405);
    expect(((await res.json()) as { code: string }).code).toBe('method-not-allowed');
  });

  it('rejects an oversized body with 413 problem+json before reading it', async () => {
    const res = await fetch(`${svc.url}/healthz`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ pad: 'x'.repeat(10_000) }),
    });
    expect(res.status).toBe(413);
    const p = (await res.json()) as Record<string, unknown>;
    expect(p).toMatchObject({ code: 'body-too-large', status: 413, limit: 2048 });
  });

  it('reports not-ready (503 problem) when the HSM token is absent, and still serves /healthz', async () => {
    const other = await startTestService({ PKCS11_TOKEN_LABEL: 'no-such-token' });
    try {
      expect((await fetch(`${other.url}/healthz`)).status).toBe(200);
      const res = await fetch(`${other.url}/readyz`);
      expect(res.status).toBe(503);
      const p = (await res.json()) as { code: string; checks: Record<string, { ok: boolean; error?: string }> };
      expect(p.code).toBe('not-ready');
      expect(p.checks.hsm?.ok).toBe(false);
      expect(p.checks.database?.ok).toBe(true);
    } finally {
      await other.stop();
    }
  });
});

describe('shutdown', () => {
  it('close() stops accepting connections', async () => {
    const svc = await startTestService();
    const { port } = new URL(svc.url);
    expect((await fetch(`${svc.url}/healthz`)).status).toBe(200);
    await svc.stop();
    const refused = await new Promise<boolean>((resolve) => {
      const s = net.connect(Number(port), '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(false); });
      s.once('error', () => resolve(true));
    });
    expect(refused).toBe(true);
  });

  it('exits 0 on SIGTERM after answering, when run as `node src/main.ts`', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'chungthuc-proc-'));
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'info', DEV_PKI_SERVICES: 'off' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no banner: ${out}`)), 30_000);
      child.stdout.on('data', () => {
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m) { clearTimeout(t); resolve(m[1]!); }
      });
      child.once('exit', (code) => reject(new Error(`exited early with ${code}: ${out}`)));
    });
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
    expect(out).toContain('"msg":"stopped"');
    const pin = readFileSync(path.join(PROJECT_ROOT, 'hsm', 'pin'), 'utf8').trim();
    expect(pin.length).toBeGreaterThan(3);
    expect(out).not.toContain(pin);
    rmSync(dataDir, { recursive: true, force: true });
  });
});
