/**
 * Public verification page benchmark: how fast the real service renders GET /v/{code} compared with
 * a constant route of the same Koa stack in the same run, and how heavy the page is.
 *
 *   node --import tsx bench/pages.ts [--seconds 5] [--concurrency 32] [--copies 12]
 *
 * The real service (HSM token, SQLite register, all middleware) listens on loopback; a registry
 * with a few certified copies is made with the real `chungthuc certify` first. The page is answered
 * by the service's fast path for plain public lookups (src/http/routes/verification/fastLookup.ts:
 * trusted-proxy client, request id, per-client bucket, audit row, metrics and logs when enabled);
 * the constant route is GET /healthz (`{"status":"ok"}` through the whole Koa chain: request id,
 * metrics, audit, access, limits). For information, the page is also measured through the Koa chain
 * alone (the same app served without its fast path, on its own socket). The load comes from a child process (so client and server do not share an event loop),
 * on keep-alive sockets, `concurrency` requests in flight. Each request carries its own
 * X-Forwarded-For (TRUST_PROXY=loopback) so the page's per-client rate limit sees many citizens,
 * as in real use, and never answers 429 (checked: every answer must be 200).
 *
 * Targets (issue #8): the page at >= 40 % of the constant route's requests per second; the page with
 * its CSS and JS under 60 KB (uncompressed bytes on the wire: the service does not compress;
 * gzip sizes are printed for information).
 */
import { fork } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { loadConfig } from '../src/config.ts';
import { startDevPkiServices } from '../src/dev/pkiServices.ts';
import { main as cli } from '../src/cli/main.ts';
import { createLogger, startService } from '../src/main.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : def;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} needs a positive number`);
  return v;
}

const SECONDS = arg('seconds', 5);
const CONCURRENCY = arg('concurrency', 32);
const COPIES = arg('copies', 12);

async function run(argv: string[], dataDir: string, baseUrl: string): Promise<string> {
  const out: string[] = [];
  const saved = { DATA_DIR: process.env.DATA_DIR, PUBLIC_BASE_URL: process.env.PUBLIC_BASE_URL };
  Object.assign(process.env, { DATA_DIR: dataDir, PUBLIC_BASE_URL: baseUrl });
  try {
    const code = await cli(argv, { out: (t) => out.push(t), err: (t) => out.push(t) });
    if (code !== 0) throw new Error(`chungthuc ${argv[0]} failed: ${out.join('')}`);
    return out.join('');
  } finally {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
}

interface Load {
  requests: number;
  seconds: number;
  rps: number;
  statuses: [number, number][];
  p50: number;
  p99: number;
}

/** `CONCURRENCY` loops on keep-alive sockets for `SECONDS`; `pathFor(i)` picks each request's path. */
async function load(base: URL, pathFor: (i: number) => string, seconds: number): Promise<Load> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const statuses = new Map<number, number>();
  const latencies: number[] = [];
  let n = 0;
  const until = performance.now() + seconds * 1000;
  const started = performance.now();
  const one = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const t0 = performance.now();
      // A distinct client per request (10.x.y.z): see the header comment.
      const xff = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
      const req = http.get({ host: base.hostname, port: base.port, path: pathFor(i), agent, headers: { 'x-forwarded-for': xff, accept: 'text/html' } }, (res) => {
        res.resume();
        res.on('end', () => {
          statuses.set(res.statusCode ?? 0, (statuses.get(res.statusCode ?? 0) ?? 0) + 1);
          latencies.push(performance.now() - t0);
          resolve();
        });
      });
      req.on('error', reject);
    });
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < until) await one(n++);
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  return { requests: latencies.length, seconds: elapsed, rps: latencies.length / elapsed, statuses: [...statuses], p50: q(0.5), p99: q(0.99) };
}

async function bytesOf(url: string): Promise<Buffer> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: ${r.status}`);
  return Buffer.from(await r.arrayBuffer());
}

async function mainBench(): Promise<void> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'chungthuc-bench-pages-'));
  const config = loadConfig({ ...process.env, PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'silent', METRICS_PORT: '0', TRUST_PROXY: 'loopback', API_AUTH: 'required' });
  const logger = createLogger(config);
  const dev = await startDevPkiServices(config.certsDir, logger);
  const service = await startService(config, logger);
  try {
    process.stdout.write(`certifying ${COPIES} copies for the register…\n`);
    await run(['tenant', 'create', '--code', 'BENCH', '--name', 'UBND phường Bến Thành (benchmark)'], dataDir, service.url);
    const scan = path.join(ROOT, 'fixtures', 'sample-scan-1.jpg');
    const codes: string[] = [];
    for (let i = 0; i < COPIES; i++) {
      const out = await run(
        ['certify', scan, '-o', path.join(dataDir, `copy-${i}.pdf`), '--tenant', 'BENCH', '--document-type', 'Giấy khai sinh', '--issuer', 'UBND phường Bến Thành', '--requester', `Người thử ${i}`, '--original-pages', '1', '--certifier-title', 'Phó Chủ tịch UBND phường'],
        dataDir,
        service.url,
      );
      codes.push(/\/v\/([A-Z2-7]+)/.exec(out)![1]!);
    }
    const page = (i: number) => `/v/${codes[i % codes.length]}`;
    // Warm-up: the stored copies' validations are cached after their first view.
    await inChild(service.url, ['/healthz'], 1);
    await inChild(service.url, codes.map((c) => `/v/${c}`), 1);
    const constant = await serverCpu(() => inChild(service.url, ['/healthz'], SECONDS));
    const pages = await serverCpu(() => inChild(service.url, codes.map((c) => `/v/${c}`), SECONDS));
    const chainServer = http.createServer(service.app.callback());
    await new Promise<void>((r) => chainServer.listen(0, '127.0.0.1', r));
    const chainUrl = `http://127.0.0.1:${(chainServer.address() as { port: number }).port}`;
    const chain = await serverCpu(() => inChild(chainUrl, codes.map((c) => `/v/${c}`), SECONDS)).finally(() => {
      chainServer.closeAllConnections();
      chainServer.close();
    });

    const html = await bytesOf(`${service.url}${page(0)}`);
    const assets = [...html.toString('utf8').matchAll(/(?:href|src)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    const files = await Promise.all(assets.map((a) => bytesOf(`${service.url}${a}`)));
    const all = [html, ...files];
    const raw = all.reduce((s, b) => s + b.length, 0);
    const gz = all.reduce((s, b) => s + gzipSync(b, { level: 6 }).length, 0);

    const pct = (100 * pages.rps) / constant.rps;
    const ok = (l: Load) => l.statuses.every(([s]) => s === 200);
    const row = (name: string, l: Load & { cpuMicros: number }) =>
      `| ${name.padEnd(26)} | ${l.rps.toFixed(0).padStart(7)} | ${l.p50.toFixed(2).padStart(6)} | ${l.p99.toFixed(2).padStart(6)} | ${(l.cpuMicros / l.requests).toFixed(0).padStart(10)} | ${String(l.requests).padStart(8)} | ${l.statuses.map(([s, c]) => `${s}×${c}`).join(' ')} |`;
    process.stdout.write(
      [
        '',
        `GET /v/{code} vs GET /healthz — real service on loopback, keep-alive, concurrency ${CONCURRENCY}, ${SECONDS} s each, ${COPIES} copies, Node ${process.version}, ${os.cpus().length} CPUs`,
        '',
        '| route                      |   req/s | p50 ms | p99 ms | server µs* | requests | statuses |',
        '|----------------------------|--------:|-------:|-------:|-----------:|---------:|----------|',
        row('GET /healthz (constant)', constant),
        row('GET /v/{code} (page)', pages),
        row('  info: page, Koa chain', chain),
        '',
        `page / constant: ${pct.toFixed(1)} %  (target >= 40 %: ${pct >= 40 ? 'met' : 'NOT met'}); through the Koa chain alone: ${((100 * chain.rps) / constant.rps).toFixed(1)} %`,
        '* CPU time of the service process per answered request (user + system, process.cpuUsage): unlike req/s it does not depend on the load generator or on other work on the machine.',
        '',
        '| bytes per page view        | uncompressed | gzip -6 |',
        '|----------------------------|-------------:|--------:|',
        ...all.map((b, i) => `| ${(i === 0 ? 'HTML /v/{code}' : assets[i - 1]!).padEnd(26).slice(0, 26)} | ${String(b.length).padStart(12)} | ${String(gzipSync(b, { level: 6 }).length).padStart(7)} |`),
        `| ${'total'.padEnd(26)} | ${String(raw).padStart(12)} | ${String(gz).padStart(7)} |`,
        '',
        `page with CSS and JS: ${(raw / 1024).toFixed(1)} KB uncompressed as served (target < 60 KB: ${raw < 60 * 1024 ? 'met' : 'NOT met'})`,
        '',
      ].join('\n'),
    );
    if (!ok(constant) || !ok(pages) || !ok(chain)) {
      process.stdout.write('some answers were not 200: the figures above are not valid\n');
      process.exitCode = 1;
    }
  } finally {
    await service.close();
    await dev?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Runs `phase` and adds the CPU time this process (the service) spent meanwhile. */
async function serverCpu<T>(phase: () => Promise<T>): Promise<T & { cpuMicros: number }> {
  const before = process.cpuUsage();
  const result = await phase();
  const used = process.cpuUsage(before);
  return { ...result, cpuMicros: used.user + used.system };
}

/** Runs `load` in a child process (this file with --client) and returns its figures. */
function inChild(url: string, paths: string[], seconds: number): Promise<Load> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--client', '--concurrency', String(CONCURRENCY)], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
    child.once('message', (m) => resolve(m as Load));
    child.once('error', reject);
    child.once('exit', (code) => code === 0 || reject(new Error(`load generator exited with ${code}`)));
    child.send({ url, paths, seconds });
  });
}

if (process.argv.includes('--client')) {
  process.once('message', (m: { url: string; paths: string[]; seconds: number }) => {
    void load(new URL(m.url), (i) => m.paths[i % m.paths.length]!, m.seconds).then((r) => process.send!(r, () => process.exit(0)));
  });
} else {
  await mainBench();
}
