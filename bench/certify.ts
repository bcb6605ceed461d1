/**
 * Certified copies, measured on this machine in one run:
 *
 *  (a) certifyCopy (normalise the JPEG scan, reserve, stamp, certifier B-T + seal B-T signatures with
 *      the real SoftHSM keys, DSS → B-LT, store, register) for a 1-page and a 10-page scan, each
 *      against the same run's sign-only baseline of the same file: signDocument at B-T (signature
 *      timestamp from the built-in TSA, the same HSM key "officer1") of the normalised scan PDF.
 *      Iterations alternate certify / sign so both see the same machine state. Target: certified
 *      10-page scan ≤ 3 × sign-only (median latency). For information, the same file is also signed
 *      at B-LT (the certified copy's own level: signature, timestamp and DSS) and the ratio printed.
 *  (b) public lookups per second through the real HTTP service (startService) — GET /v/{code} with
 *      Accept: application/json, answered by its fast path (src/http/routes/verification/fastLookup.ts:
 *      trusted-proxy client address, request id, per-client bucket, audit row per lookup, metrics and
 *      log lines when enabled, the three checks) — on a register of LOOKUP_ROWS (default 1 000 000)
 *      entries, against a bare Koa route returning a constant, same load generator, keep-alive,
 *      CONCURRENCY connections. Target ≥ 50 %. For information, the same bare Koa answering the
 *      lookup's register read alone (the row's JSON, none of the service's audit, limits and checks),
 *      the service's GET /healthz (through the whole Koa chain), and the lookup through the Koa chain
 *      alone (the same app served without its fast path, as before it existed).
 *
 * Bench rows: inserted straight into SQLite with one prepared INSERT in one transaction. They are
 * valid rows for the schema (every register column, 'valid' status, a volume 1..N) but have no
 * events in the hash chain: `registry verify` fails on this throwaway database, and the lookup never
 * reads copy_events. All of them name one real certified copy from part (a) as their file (its
 * SHA-256 and file key), so the page's integrity/issuer checks come from the assessor's per-file
 * cache, as they do for a copy looked up more than once; a cold validation is a separate cost.
 * The public rate limit (per client address) is met as it is in the field, by many clients: the
 * service trusts the loopback proxy (TRUST_PROXY=loopback) and each request carries its own
 * X-Forwarded-For address.
 *
 * The scans are generated here (pdftoppm JPEG at 200 dpi from generated A4 text pages) into
 * bench/out/certify/ (git-ignored), never committed. Needs the dev PKI and SoftHSM token (npm run
 * setup) and the dev OCSP / CRL ports (18961, 18962) free.
 *
 *   node --import tsx bench/certify.ts [--quick]
 *   env: CERTIFY_ITERATIONS (default 20, quick 4), LOOKUP_ROWS (1 000 000), LOOKUP_SECONDS (10), CONCURRENCY (32),
 *        BENCH_PARTS (certify,lookup: both by default; lookup alone still certifies one copy for its file)
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import Koa from 'koa';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { loadConfig } from '../src/config.ts';
import { buildTrustServices, createLogger, startService } from '../src/main.ts';
import { CopyRepository, TenantRepository, newPublicCode, openDatabase, registerYear } from '../src/registry/index.ts';
import { CERTIFY_STEPS, certifyCopy, type CertifyStep } from '../src/services/certifyCopy.ts';
import { signDocument } from '../src/services/signDocument.ts';
import { openToken } from '../src/signers/index.ts';
import { normalizeScan } from '../src/stamp/index.ts';
import { startOcspResponder } from '../test/support/ocspResponder.ts';
import { startRepoServer } from '../test/support/repoServer.ts';
import { BENCH_PATHS } from './paths.ts';
import { median } from './protocol.ts';

const quick = process.argv.includes('--quick');
const envInt = (name: string, def: number) => {
  const v = process.env[name];
  const n = v === undefined ? def : Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer`);
  return n;
};
const ITERATIONS = envInt('CERTIFY_ITERATIONS', quick ? 4 : 20);
const LOOKUP_ROWS = envInt('LOOKUP_ROWS', quick ? 100_000 : 1_000_000);
const LOOKUP_SECONDS = envInt('LOOKUP_SECONDS', quick ? 3 : 10);
const CONCURRENCY = envInt('CONCURRENCY', 32);
const PARTS = new Set((process.env.BENCH_PARTS ?? 'certify,lookup').split(','));
const KEY = 'officer1';
const SCAN_DIR = path.join(BENCH_PATHS.outDir, 'certify');

function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

/** A4 pages of text rendered to 200 dpi colour JPEGs, as a document scanner would deliver them. */
async function ensureScans(pages: number): Promise<string[]> {
  mkdirSync(SCAN_DIR, { recursive: true });
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (let p = 1; p <= pages; p++) {
    const page = doc.addPage([595.28, 841.89]);
    page.drawText(`GIAY CHUNG NHAN - trang ${p}/${pages}`, { x: 60, y: 780, size: 20, font });
    for (let line = 0; line < 60; line++) {
      page.drawText(`Dong ${line + 1}: noi dung ban chinh de chung thuc ban sao dien tu, so ${p * 100 + line}.`, { x: 60, y: 740 - line * 11, size: 9, font });
    }
  }
  const pdf = path.join(SCAN_DIR, `source-${pages}p.pdf`);
  writeFileSync(pdf, await doc.save());
  const files: string[] = [];
  for (let p = 1; p <= pages; p++) {
    const prefix = path.join(SCAN_DIR, `scan-${pages}p-${p}`);
    execFileSync('pdftoppm', ['-jpeg', '-jpegopt', 'quality=85', '-r', '200', '-f', String(p), '-l', String(p), '-singlefile', pdf, prefix]);
    files.push(`${prefix}.jpg`);
  }
  return files;
}

interface Series {
  ms: number[];
}
const stats = (s: Series) => ({ perSecond: 1000 / (s.ms.reduce((a, b) => a + b, 0) / s.ms.length), median: median(s.ms), p99: percentile(s.ms, 99) });

// --------------------------------------------------------------------------------------------
// Load generator: a worker thread (plain JS), keep-alive agent, CONCURRENCY requests in flight.
const LOADGEN = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const { port, paths, headers, seconds, concurrency, randomClient } = workerData;
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
const lat = [];
let ok = 0, bad = 0, i = 0;
const until = Date.now() + seconds * 1000;
function one() {
  return new Promise((resolve) => {
    const h = { ...headers };
    if (randomClient) h['x-forwarded-for'] = '10.' + ((Math.random() * 256) | 0) + '.' + ((Math.random() * 256) | 0) + '.' + ((Math.random() * 256) | 0);
    const t0 = process.hrtime.bigint();
    const req = http.request({ host: '127.0.0.1', port, path: paths[i++ % paths.length], headers: h, agent }, (res) => {
      res.resume();
      res.on('end', () => {
        lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
        if (res.statusCode === 200) ok++; else bad++;
        resolve();
      });
    });
    req.on('error', () => { bad++; resolve(); });
    req.end();
  });
}
async function loop() { while (Date.now() < until) await one(); }
const start = Date.now();
Promise.all(Array.from({ length: concurrency }, loop)).then(() => {
  agent.destroy();
  parentPort.postMessage({ ok, bad, seconds: (Date.now() - start) / 1000, lat });
});
`;

interface Load {
  perSecond: number;
  ok: number;
  bad: number;
  median: number;
  p99: number;
}

function load(port: number, paths: string[], headers: Record<string, string>, seconds: number, randomClient: boolean): Promise<Load> {
  return new Promise((resolve, reject) => {
    const w = new Worker(LOADGEN, { eval: true, workerData: { port, paths, headers, seconds, concurrency: CONCURRENCY, randomClient } });
    w.once('message', (m: { ok: number; bad: number; seconds: number; lat: number[] }) => {
      resolve({ perSecond: m.ok / m.seconds, ok: m.ok, bad: m.bad, median: median(m.lat), p99: percentile(m.lat, 99) });
      void w.terminate();
    });
    w.once('error', reject);
  });
}

/**
 * Runs a load phase and measures the main thread's busy time meanwhile (event-loop utilisation: the
 * servers run here, the load generator in its worker), per answered request.
 */
async function serverTime(phase: () => Promise<Load>): Promise<Load & { microsPerAnswer: number }> {
  const before = performance.eventLoopUtilization();
  const result = await phase();
  const elu = performance.eventLoopUtilization(before);
  return { ...result, microsPerAnswer: (elu.active * 1000) / Math.max(1, result.ok) };
}

// --------------------------------------------------------------------------------------------
async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'chungthuc-bench-certify-'));
  const config = loadConfig({
    ...process.env,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    PORT: '0',
    HOST: '127.0.0.1',
    METRICS_PORT: '0',
    TRUST_PROXY: 'loopback',
  });
  const rows: string[][] = [];
  const stepsByPages = new Map<number, Map<CertifyStep, number[]>>();
  const note = (s: string) => process.stderr.write(`${s}\n`);
  let ocsp: Awaited<ReturnType<typeof startOcspResponder>> | undefined;
  let repo: Awaited<ReturnType<typeof startRepoServer>> | undefined;
  try {
    ocsp = await startOcspResponder();
    repo = await startRepoServer();
    // ---------------------------------------------------------------- (a) certify vs sign-only
    const token = await openToken({ ...config.pkcs11, poolSize: 1 });
    const db = openDatabase(path.join(dataDir, 'chungthuc.sqlite'));
    let sample: { fileKey: string; pdfSha256: string } | undefined;
    try {
      const trust = buildTrustServices(config, (label) => token.getSigner(label), db.db);
      const tenant = new TenantRepository(db.db).create({ code: 'BENCH', name: 'Ủy ban nhân dân phường Bến Thành' });
      const copies = new CopyRepository(db.db);
      // Where the measured certifications spend their time (certifyCopy's onStep, as the service's metrics).
      let steps: Map<CertifyStep, number[]> | undefined;
      const onStep = (step: CertifyStep, seconds: number) => steps?.get(step)?.push(seconds * 1000);
      const deps = { signing: trust.signing, copies, storeDir: path.join(dataDir, 'copies'), publicBaseUrl: 'https://tracuu.example.gov.vn', onStep };
      const work = path.join(dataDir, 'work');
      mkdirSync(work, { recursive: true });

      for (const pages of PARTS.has('certify') ? [1, 10] : []) {
        const scanFiles = await ensureScans(pages);
        const files = scanFiles.map((f) => ({ bytes: new Uint8Array(readFileSync(f)), name: path.basename(f) }));
        const normalised = path.join(work, `scan-${pages}p.pdf`);
        writeFileSync(normalised, (await normalizeScan(files)).pdf);
        const scanBytes = files.reduce((n, f) => n + f.bytes.length, 0);
        const certify = async () => {
          const r = await certifyCopy(deps, {
            tenant,
            files,
            documentType: 'Giấy chứng nhận',
            originalIssuer: 'UBND xã Tân Phú',
            requesterName: 'Nguyễn Văn Bench',
            originalPages: pages,
            copies: 1,
            certifier: { keyLabel: KEY, title: 'Phó Chủ tịch', name: 'Nguyễn Văn An' },
            seal: { keyLabel: 'seal' },
            level: 'B-LT',
            actor: 'bench',
          });
          sample ??= { fileKey: r.record.fileKey, pdfSha256: r.record.pdfSha256 };
        };
        const sign = async (level: 'B-T' | 'B-LT' = 'B-T') => {
          await signDocument(trust.signing, { path: normalised }, { path: path.join(work, `signed-${pages}p.pdf`) }, { key: KEY, level, reason: 'bench' });
        };
        // Warm-up: JIT, font subsetting tables, TSA key, OCSP responder, caches.
        for (let i = 0; i < 2; i++) {
          await certify();
          await sign();
          await sign('B-LT');
        }
        const c: Series = { ms: [] };
        const s: Series = { ms: [] };
        const lt: Series = { ms: [] };
        steps = new Map(CERTIFY_STEPS.map((k) => [k, []]));
        stepsByPages.set(pages, steps);
        for (let i = 0; i < ITERATIONS; i++) {
          let t = performance.now();
          await certify();
          c.ms.push(performance.now() - t);
          t = performance.now();
          await sign();
          s.ms.push(performance.now() - t);
          t = performance.now();
          await sign('B-LT');
          lt.ms.push(performance.now() - t);
        }
        steps = undefined;
        const cs = stats(c);
        const ss = stats(s);
        const ls = stats(lt);
        note(`${pages}-page scan (${(scanBytes / 1024).toFixed(0)} KiB JPEG): certify median ${cs.median.toFixed(0)} ms, sign-only ${ss.median.toFixed(0)} ms`);
        rows.push(
          [`certify ${pages}-page scan (B-LT, 2 signatures)`, `${cs.perSecond.toFixed(2)}/s`, cs.median.toFixed(0), cs.p99.toFixed(0), `${(cs.median / ss.median).toFixed(2)}× sign-only`, pages === 10 ? '≤ 3×' : ''],
          [`sign-only ${pages}-page scan PDF (B-T, ${KEY})`, `${ss.perSecond.toFixed(2)}/s`, ss.median.toFixed(0), ss.p99.toFixed(0), '1.00×', ''],
          // For information: signing at the copy's own level (B-LT: signature, timestamp, DSS). The target is judged against B-T above.
          [`  info: sign-only at B-LT`, `${ls.perSecond.toFixed(2)}/s`, ls.median.toFixed(0), ls.p99.toFixed(0), `certify = ${(cs.median / ls.median).toFixed(2)}×`, ''],
        );
      }
      if (!sample) {
        const files = (await ensureScans(1)).map((f) => ({ bytes: new Uint8Array(readFileSync(f)) }));
        const r = await certifyCopy(deps, { tenant, files, documentType: 'Giấy chứng nhận', originalIssuer: 'UBND', requesterName: 'Bench', originalPages: 1, copies: 1, certifier: { keyLabel: KEY, title: 'Phó Chủ tịch' }, seal: { keyLabel: 'seal' }, actor: 'bench' });
        sample = { fileKey: r.record.fileKey, pdfSha256: r.record.pdfSha256 };
      }
    } finally {
      db.close();
      await token.close();
    }
    if (!PARTS.has('lookup')) return printTable(rows, stepsByPages);

    // ---------------------------------------------------------------- (b) public lookups
    const t0 = performance.now();
    const codes = insertLookupRows(dataDir, LOOKUP_ROWS, sample!);
    note(`inserted ${LOOKUP_ROWS} register rows in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const svc = await startService(config, createLogger(config));
    // For information: bare Koa answering from the same register read as the lookup (the row and its
    // JSON, without the service's middleware, audit, limits and checks), on its own connection.
    const readDb = openDatabase(path.join(dataDir, 'chungthuc.sqlite'));
    const readRepo = new CopyRepository(readDb.db);
    const bare = new Koa();
    bare.use((ctx) => {
      if (ctx.path.startsWith('/v/')) {
        ctx.type = 'application/json';
        ctx.body = readRepo.findPublicJson(ctx.path.slice(3))?.json ?? '{}';
        return;
      }
      ctx.body = { status: 'valid' };
    });
    const bareServer = http.createServer(bare.callback());
    await new Promise<void>((r) => bareServer.listen(0, '127.0.0.1', r));
    // For information: the same service app without its fast path (every lookup through the Koa chain).
    const chainServer = http.createServer(svc.app.callback());
    await new Promise<void>((r) => chainServer.listen(0, '127.0.0.1', r));
    try {
      const port = Number(new URL(svc.url).port);
      const barePort = (bareServer.address() as { port: number }).port;
      const chainPort = (chainServer.address() as { port: number }).port;
      const paths = codes.map((c) => `/v/${c}`);
      const json = { accept: 'application/json' };
      // Check one answer by hand, then warm up both servers.
      const probe = await fetch(`${svc.url}${paths[0]}`, { headers: json });
      const body = (await probe.json()) as { status?: string; checks?: { integrity?: { outcome?: string } } };
      if (probe.status !== 200 || body.status !== 'valid' || body.checks?.integrity?.outcome !== 'VALID') throw new Error(`lookup probe: ${probe.status} ${JSON.stringify(body)}`);
      const bareRead = (await (await fetch(`http://127.0.0.1:${barePort}${paths[0]}`)).json()) as { status?: string };
      if (bareRead.status !== 'valid') throw new Error(`bare read probe: ${JSON.stringify(bareRead)}`);
      await load(port, paths, json, 2, true);
      await load(barePort, ['/'], json, 2, true);
      const real = await serverTime(() => load(port, paths, json, LOOKUP_SECONDS, true));
      const base = await serverTime(() => load(barePort, ['/'], json, LOOKUP_SECONDS, true));
      // For information: the service's own constant route, through the same middleware as the lookup.
      const stack = await serverTime(() => load(port, ['/healthz'], json, LOOKUP_SECONDS, true));
      const read = await serverTime(() => load(barePort, paths, json, LOOKUP_SECONDS, true));
      const chain = await serverTime(() => load(chainPort, paths, json, LOOKUP_SECONDS, true));
      if (real.bad > 0 || base.bad > 0 || stack.bad > 0 || read.bad > 0 || chain.bad > 0) {
        throw new Error(`non-200 answers: service ${real.bad}, bare ${base.bad}, healthz ${stack.bad}, bare read ${read.bad}, Koa chain ${chain.bad}`);
      }
      // The servers' time per answer: robust to the load generator's speed and to other work on the machine.
      note(
        `server event-loop time per answer: lookup ${real.microsPerAnswer.toFixed(0)} µs, the service's GET /healthz ${stack.microsPerAnswer.toFixed(0)} µs, bare Koa ${base.microsPerAnswer.toFixed(0)} µs, bare Koa with the register read ${read.microsPerAnswer.toFixed(0)} µs, the lookup through the Koa chain ${chain.microsPerAnswer.toFixed(0)} µs`,
      );
      rows.push(
        [`GET /v/{code} JSON, ${LOOKUP_ROWS.toLocaleString('en')} rows, c=${CONCURRENCY}`, `${real.perSecond.toFixed(0)}/s`, real.median.toFixed(1), real.p99.toFixed(1), `${((100 * real.perSecond) / base.perSecond).toFixed(0)} % of bare`, '≥ 50 %'],
        [`bare Koa constant route, c=${CONCURRENCY}`, `${base.perSecond.toFixed(0)}/s`, base.median.toFixed(1), base.p99.toFixed(1), '100 %', ''],
        [`  info: the service's GET /healthz, c=${CONCURRENCY}`, `${stack.perSecond.toFixed(0)}/s`, stack.median.toFixed(1), stack.p99.toFixed(1), `${((100 * stack.perSecond) / base.perSecond).toFixed(0)} % of bare`, ''],
        [`  info: bare Koa answering the register read alone, c=${CONCURRENCY}`, `${read.perSecond.toFixed(0)}/s`, read.median.toFixed(1), read.p99.toFixed(1), `${((100 * read.perSecond) / base.perSecond).toFixed(0)} % of bare`, ''],
        [`  info: the lookup through the Koa chain (no fast path), c=${CONCURRENCY}`, `${chain.perSecond.toFixed(0)}/s`, chain.median.toFixed(1), chain.p99.toFixed(1), `${((100 * chain.perSecond) / base.perSecond).toFixed(0)} % of bare`, ''],
      );
    } finally {
      readDb.close();
      chainServer.closeAllConnections();
      await new Promise<void>((r) => chainServer.close(() => r()));
      await svc.close();
      await new Promise<void>((r) => bareServer.close(() => r()));
    }
  } finally {
    await ocsp?.stop();
    await repo?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }

  printTable(rows, stepsByPages);
}

function printTable(rows: string[][], stepsByPages: ReadonlyMap<number, ReadonlyMap<CertifyStep, number[]>>): void {
  process.stdout.write(
    [
      `certified copies — ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}, ${ITERATIONS} iterations, lookups ${LOOKUP_SECONDS} s`,
      ...tableLines(['measure', 'throughput', 'median ms', 'p99 ms', 'ratio', 'target'], rows, false),
      ...stepTable(stepsByPages),
    ].join('\n'),
  );
}

/** A Markdown table with padded columns (`numbers`: every column but the first aligned right), then an empty line. */
function tableLines(head: string[], rows: string[][], numbers: boolean): string[] {
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => (numbers && i > 0 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line), ''];
}

/** Median milliseconds of each certification step (the same runs as the table), one column per scan size. */
function stepTable(stepsByPages: ReadonlyMap<number, ReadonlyMap<CertifyStep, number[]>>): string[] {
  if (stepsByPages.size === 0) return [];
  const sizes = [...stepsByPages.keys()];
  const body = CERTIFY_STEPS.map((step) => [step, ...sizes.map((p) => median(stepsByPages.get(p)!.get(step)!).toFixed(1))]);
  const sum = ['sum of medians', ...sizes.map((p) => CERTIFY_STEPS.reduce((n, step) => n + median(stepsByPages.get(p)!.get(step)!), 0).toFixed(1))];
  return tableLines(['certify step (median ms)', ...sizes.map((p) => `${p}-page`)], [...body, sum], true);
}

/**
 * LOOKUP_ROWS valid 'valid' register rows for a second tenant, one volume 1..N, in one transaction
 * (no copy_events: see the header). Returns 20 000 of their public codes, picked at random.
 */
function insertLookupRows(dataDir: string, n: number, file: { fileKey: string; pdfSha256: string }): string[] {
  const db = openDatabase(path.join(dataDir, 'chungthuc.sqlite'));
  try {
    const tenant = new TenantRepository(db.db).create({ code: 'LOOKUP', name: 'Ủy ban nhân dân xã Tra Cứu' });
    const year = registerYear(new Date());
    const volumeId = `bench-volume-${tenant.id}`;
    const at = new Date().toISOString();
    const sample: string[] = [];
    const keep = Math.min(20_000, n);
    db.db.transaction(() => {
      db.db
        .prepare(
          `INSERT INTO register_volumes (id, tenant_id, year, seq, register_suffix, opened_at, first_number, last_number) VALUES (?, ?, ?, 1, '-SCT/BS', ?, 1, ?)`,
        )
        .run(volumeId, tenant.id, year, at, n);
      const insert = db.db.prepare(
        `INSERT INTO certified_copies (id, tenant_id, volume_id, year, number, status, public_code, access_code_hash, registered_at,
           certified_at, requester_name, document_type, document_name, original_issuer, original_pages, copies_count, certifier_name,
           certifier_title, fee_vnd, scan_sha256, pdf_sha256, signer_cert_issuer, signer_cert_serial, signer_cert_subject, timestamp_at, file_key)
         VALUES (?, ?, ?, ?, ?, 'valid', ?, 'bench-not-an-access-code', ?, ?, ?, 'Giấy khai sinh', 'Giấy khai sinh', 'UBND xã Tân Phú', 2, 1,
           'Trần Văn Bình', 'Phó Chủ tịch', 4000, ?, ?, 'CN=Dev Issuing CA', '1a2b', 'CN=Trần Văn Bình', ?, ?)`,
      );
      for (let i = 1; i <= n; i++) {
        const code = newPublicCode();
        // Reservoir sampling: a uniform sample of the codes without holding all of them.
        if (i <= keep) sample.push(code);
        else {
          const j = Math.floor(Math.random() * i);
          if (j < keep) sample[j] = code;
        }
        insert.run(`bench-${i}`, tenant.id, volumeId, year, i, code, at, at, `Người yêu cầu ${i}`, file.pdfSha256, file.pdfSha256, at, file.fileKey);
      }
    })();
    return sample;
  } finally {
    db.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench/certify: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
