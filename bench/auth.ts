/**
 * What authentication costs: requests per second on cheap routes of the real service for three
 * callers in the same run —
 *   anonymous   no credentials (API_AUTH=off, so nothing is demanded),
 *   api-key     Authorization: Bearer ck_… (SHA-256 + constant-time compare + one SQLite read),
 *   officer     the ct_session cookie (SHA-256 + session, officer and tenant reads),
 * on two routes: GET /healthz (not audited) and GET /v/{unknown code} (audited: one audit row per
 * request, plus the register lookup). Ratios are against the anonymous caller on the same route.
 *
 *   node --import tsx bench/auth.ts [--seconds 3] [--concurrency 16]
 *
 * The service listens on loopback with API rate limits off and TRUST_PROXY=loopback; every request
 * carries its own X-Forwarded-For so the public page's per-client buckets never answer 429 (every
 * answer is checked). The load runs in a child process (its own event loop) over keep-alive sockets
 * (http.Agent), `concurrency` requests in flight.
 */
import { fork } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

interface LoadJob {
  url: string;
  path: string;
  headers: Record<string, string>;
  expect: number;
  seconds: number;
  concurrency: number;
}
interface LoadResult {
  requests: number;
  seconds: number;
  unexpected: number;
}

/** Child: sends `job` as fast as `concurrency` keep-alive sockets allow, for `seconds`. */
async function load(job: LoadJob): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: job.concurrency });
  const target = new URL(job.url);
  let n = 0;
  let unexpected = 0;
  let client = 0;
  const once = () =>
    new Promise<void>((resolve, reject) => {
      client = (client + 1) % 65_000;
      const req = http.request(
        { host: target.hostname, port: target.port, path: job.path, agent, headers: { ...job.headers, 'x-forwarded-for': `198.18.${client >> 8}.${client & 255}` } },
        (res) => {
          if (res.statusCode !== job.expect) unexpected++;
          res.resume();
          res.on('end', resolve);
        },
      );
      req.on('error', reject);
      req.end();
    });
  const run = async (until: number, count: boolean) => {
    await Promise.all(
      Array.from({ length: job.concurrency }, async () => {
        while (performance.now() < until) {
          await once();
          if (count) n++;
        }
      }),
    );
  };
  await run(performance.now() + 300, false); // warm-up: sockets open, JIT warm
  const start = performance.now();
  await run(start + job.seconds * 1000, true);
  const seconds = (performance.now() - start) / 1000;
  agent.destroy();
  return { requests: n, seconds, unexpected };
}

function inChild(job: LoadJob): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--load'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', (m) => resolve(m as LoadResult));
    child.once('error', reject);
    child.once('exit', (code) => code !== 0 && reject(new Error(`load process exited with ${code}`)));
    child.send(job);
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: process.argv.includes('--quick') ? '1' : '3' }, concurrency: { type: 'string', default: '16' }, quick: { type: 'boolean' } } });
  const seconds = Number(values.seconds);
  const concurrency = Number(values.concurrency);
  const { loadConfig } = await import('../src/config.ts');
  const { createLogger, startService } = await import('../src/main.ts');
  const { ApiKeyRepository, OfficerRepository, TenantRepository } = await import('../src/registry/index.ts');
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'chungthuc-bench-auth-'));
  const config = loadConfig({
    ...process.env,
    PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'silent', METRICS_PORT: '0', DEV_PKI_SERVICES: 'off',
    API_AUTH: 'off', TRUST_PROXY: 'loopback', RATE_LIMIT_KEY_BURST: '0', RATE_LIMIT_IP_BURST: '0',
  });
  const svc = await startService(config, createLogger(config));
  try {
    const db = svc.db.db;
    const tenant = new TenantRepository(db).create({ code: 'BENCH', name: 'UBND xã Bench' });
    const { token } = new ApiKeyRepository(db).create({ tenantId: tenant.id, name: 'bench', scopes: ['validate'], createdBy: 'bench' });
    const password = 'bench-password-0123';
    await new OfficerRepository(db).create({ tenantId: tenant.id, username: 'bench-officer', displayName: 'Bench', title: 'Công chức', role: 'officer', password, createdBy: 'bench' });
    const login = await fetch(`${svc.url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'bench-officer', password }) });
    if (login.status !== 200) throw new Error(`login answered ${login.status}`);
    const cookie = /^(ct_session=[^;]+)/.exec(login.headers.get('set-cookie') ?? '')![1]!;

    const callers: Record<string, Record<string, string>> = { anonymous: {}, 'api-key': { authorization: `Bearer ${token}` }, officer: { cookie } };
    const routes = [
      { name: 'GET /healthz', path: '/healthz', expect: 200 },
      { name: 'GET /v/{code} (audited)', path: `/v/${'A'.repeat(26)}`, expect: 404 },
    ];
    // One untimed pass over every case first: the server's code paths are compiled before any is timed.
    for (const route of routes) {
      for (const headers of Object.values(callers)) await inChild({ url: svc.url, path: route.path, headers, expect: route.expect, seconds: 0.5, concurrency });
    }
    const rows: string[][] = [];
    for (const route of routes) {
      let base = 0;
      for (const [caller, headers] of Object.entries(callers)) {
        const r = await inChild({ url: svc.url, path: route.path, headers: { ...headers, accept: 'application/json' }, expect: route.expect, seconds, concurrency });
        if (r.unexpected > 0) throw new Error(`${route.name} as ${caller}: ${r.unexpected} answers were not ${route.expect}`);
        const rps = r.requests / r.seconds;
        if (caller === 'anonymous') base = rps;
        rows.push([route.name, caller, rps.toFixed(0), (rps / base).toFixed(2)]);
      }
    }
    const head = ['route', 'caller', 'req/s', 'vs anonymous'];
    const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (r: string[]) => r.map((c, i) => (i >= 2 ? c.padStart(width[i]!) : c.padEnd(width[i]!))).join('  ');
    process.stdout.write(`\nAuthentication cost (${concurrency} in flight, ${seconds} s per case, keep-alive, loopback)\n${line(head)}\n${rows.map(line).join('\n')}\n`);
  } finally {
    await svc.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv.includes('--load')) {
  process.once('message', (job) => {
    load(job as LoadJob).then(
      (r) => process.send!(r, () => process.exit(0)),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  });
} else {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
