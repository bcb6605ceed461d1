/**
 * `npm run bench`: runs every suite in turn, each printing ratios against baselines measured in the same run.
 *   signing  (this file) PAdES signing against the floor, @signpdf and @libpdf
 *   auth     (bench/auth.ts) authentication + audit overhead per request
 *   certify  (bench/certify.ts) certified copies vs sign-only; public lookups on a 1 M-record register
 *   pages    (bench/pages.ts) the public verification page vs a constant route; bytes per page
 *
 * The signing suite signs the same fixtures with our engine (HSM key officer1), @signpdf/signpdf and
 * @libpdf/core (software RSA-2048 key with the same chain), measures a bare C_Sign loop on the same
 * token and each fixture's floor (read + SHA-256 + write + one HSM signature), each measurement in
 * its own child process, and prints one table per fixture plus the targets of the issue.
 *
 *   npm run bench -- [--quick] [--only <fixture>] [--suite signing,auth,certify,pages]
 *     --quick            skip the ~200 MB fixture, shorter time budget per measurement (passed to every suite)
 *     --only <fixture>   e.g. text-1p (both xref variants) or text-1p-xrefstm.pdf (that file only)
 *     --suite <list>     run only these suites (default: all)
 *
 * Talks to nothing but local files and the local token. Results also go to bench/out/results.json.
 */
import { execFile, execFileSync, fork } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ensureBenchFixtures, type BenchFixture } from '../scripts/gen-bench-fixtures.ts';
import { BENCH_PATHS } from './paths.ts';
import { median, type EngineId, type JobResult, type JobSpec } from './protocol.ts';
import { csignLine, fixtureTable, summaryTable, type FixtureResults } from './report.ts';
import { makeSoftKey } from './softKey.ts';

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'worker.ts');
const BIG_FILE = 50 * 2 ** 20;
const SIGNING_ENGINES: EngineId[] = ['chungthuc', 'signpdf', 'libpdf'];
const execFileP = promisify(execFile);

const SUITES = ['signing', 'auth', 'certify', 'pages'] as const;
type Suite = (typeof SUITES)[number];

interface Options {
  quick: boolean;
  only: string | undefined;
  suites: Suite[];
}

function parseSuites(list: string): Suite[] {
  const names = list.split(',').map((x) => x.trim()).filter(Boolean);
  for (const n of names) if (!(SUITES as readonly string[]).includes(n)) throw new Error(`unknown suite ${n} (known: ${SUITES.join(', ')})`);
  return names as Suite[];
}

function parseArgs(argv: string[]): Options {
  const opts: Options = { quick: false, only: undefined, suites: [...SUITES] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') opts.quick = true;
    else if (a === '--only') opts.only = argv[++i];
    else if (a?.startsWith('--only=')) opts.only = a.slice('--only='.length);
    else if (a === '--suite') opts.suites = parseSuites(argv[++i] ?? '');
    else if (a?.startsWith('--suite=')) opts.suites = parseSuites(a.slice('--suite='.length));
    else if (a === '--help' || a === '-h') {
      process.stdout.write(`usage: npm run bench -- [--quick] [--only <fixture>] [--suite ${SUITES.join(',')}]\n`);
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  return opts;
}

/** Iteration policy: adaptive on small files, three cold-ish runs on big ones. */
function policy(opts: Options, bytes: number): Pick<JobSpec, 'warmup' | 'minIterations' | 'maxIterations' | 'budgetMs'> {
  if (bytes >= BIG_FILE) return { warmup: !opts.quick, minIterations: opts.quick ? 3 : 5, maxIterations: opts.quick ? 3 : 5, budgetMs: 0 };
  if (opts.quick) return { warmup: true, minIterations: 3, maxIterations: 200, budgetMs: 750 };
  return { warmup: true, minIterations: 5, maxIterations: 2000, budgetMs: 2500 };
}

function runJob(spec: JobSpec, timeoutMs: number): Promise<JobResult> {
  // Flush dirty pages left by the previous job, so its write-back does not land in this one's timing.
  execFileSync('sync');
  return new Promise((resolve) => {
    const child = fork(WORKER, [JSON.stringify(spec)], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    let result: JobResult | undefined;
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString('utf8')).slice(-4000);
    });
    child.on('message', (m) => {
      result = m as JobResult;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      result ??= { ok: false, engine: spec.engine, error: `timeout after ${Math.round(timeoutMs / 1000)} s` };
    }, timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (!result) {
        const lines = stderr.trim().split('\n').filter(Boolean);
        // A V8 abort prints "FATAL ERROR: ..." before its native stack; prefer that line.
        const last = lines.find((l) => l.includes('FATAL ERROR')) ?? lines.find((l) => /Error\b/.test(l)) ?? lines.pop() ?? '';
        result = { ok: false, engine: spec.engine, error: `child exited (${signal ?? code}) ${last}`.trim() };
      }
      resolve(result);
    });
  });
}

/** Merges a second run of the same engine (the floor) into one result over all samples. */
function pool(first: JobResult | undefined, second: JobResult): JobResult {
  if (first === undefined || !first.ok) return second;
  if (!second.ok) return first;
  const latenciesMs = [...first.latenciesMs, ...second.latenciesMs];
  const totalMs = latenciesMs.reduce((a, b) => a + b, 0);
  return {
    ...first,
    iterations: latenciesMs.length,
    latenciesMs,
    medianMs: median(latenciesMs),
    perSecond: (latenciesMs.length * 1000) / totalMs,
    peakRssMb: Math.max(first.peakRssMb, second.peakRssMb),
    setupRssMb: Math.max(first.setupRssMb, second.setupRssMb),
  };
}

/** Independent check of each engine's last output: ByteRange digest and CMS signature (no trust). */
async function pdfsigVerdict(file: string): Promise<string> {
  try {
    const { stdout } = await execFileP('pdfsig', ['-nocert', file], { maxBuffer: 1 << 20 });
    const total = stdout.includes('Total document signed');
    const valid = /Signature Validation: Signature is Valid/.test(stdout);
    return valid && total ? 'valid' : `NOT valid: ${stdout.split('\n').find((l) => l.includes('Validation')) ?? stdout.slice(0, 80)}`;
  } catch (err) {
    const e = err as { stdout?: string; message?: string };
    return `pdfsig failed: ${(e.stdout ?? e.message ?? '').split('\n').find(Boolean) ?? ''}`;
  }
}

async function benchFixture(f: BenchFixture, opts: Options, p12: { p12Path: string; passphrase: string }): Promise<FixtureResults> {
  const fr: FixtureResults = { fixture: f, results: {}, verdicts: {} };
  const timeoutMs = f.bytes >= BIG_FILE ? 20 * 60_000 : 5 * 60_000;
  // The floor runs first and last and its samples are pooled, so a drift of the machine during
  // the fixture's measurements shows in the floor too instead of in the ratios.
  const engines: EngineId[] = ['floor', 'floor-fsync', ...SIGNING_ENGINES, 'floor'];
  for (const engine of engines) {
    const output = path.join(BENCH_PATHS.workDir, `${engine}-${f.name}`);
    process.stderr.write(`[bench] ${f.name}: ${engine} ...`);
    const t0 = Date.now();
    const r = await runJob({ engine, input: f.path, output, ...policy(opts, f.bytes), ...p12 }, timeoutMs);
    fr.results[engine] = pool(fr.results[engine], r);
    process.stderr.write(` ${r.ok ? `${r.iterations} iterations` : `fails: ${r.error}`} (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
    if (r.ok && SIGNING_ENGINES.includes(engine)) fr.verdicts[engine] = await pdfsigVerdict(output);
    rmSync(output, { force: true });
    rmSync(`${output}.partial`, { force: true });
  }
  return fr;
}

/** Runs one of the other suites in its own process; resolves with its exit code. */
function runSuite(suite: Exclude<Suite, 'signing'>, opts: Options): Promise<number> {
  const script = path.join(path.dirname(WORKER), `${suite}.ts`);
  process.stdout.write(`\n=== ${suite} (bench/${suite}.ts) ===\n`);
  return new Promise((resolve) => {
    const child = fork(script, opts.quick ? ['--quick'] : [], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    child.on('error', () => resolve(1));
  });
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.suites.includes('signing')) await benchSigning(opts);
  const failed: string[] = [];
  for (const suite of opts.suites) {
    if (suite === 'signing') continue;
    if ((await runSuite(suite, opts)) !== 0) failed.push(suite);
  }
  if (failed.length > 0) {
    process.stderr.write(`[bench] failed suites: ${failed.join(', ')}\n`);
    process.exitCode = 1;
  }
}

async function benchSigning(opts: Options): Promise<void> {
  const fixtures = await ensureBenchFixtures({ quick: opts.quick, only: opts.only });
  if (fixtures.length === 0) throw new Error(`no fixture matches --only ${opts.only}`);
  mkdirSync(BENCH_PATHS.workDir, { recursive: true });
  const soft = makeSoftKey();
  const startedAt = new Date();
  try {
    const p12 = { p12Path: soft.p12Path, passphrase: soft.passphrase };
    process.stderr.write('[bench] bare C_Sign loop ...\n');
    const csign = await runJob(
      { engine: 'csign', warmup: true, minIterations: 50, maxIterations: 1_000_000, budgetMs: opts.quick ? 1000 : 3000 },
      5 * 60_000,
    );
    const header = [
      `chungthuc benchmark — ${startedAt.toISOString()} — node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`,
      'Each cell: its own child process (node --import tsx), file in → file out per iteration, B-B (ETSI.CAdES.detached), RSA-2048, SHA-256.',
      'floor: run before and after the engines of a fixture, samples pooled; `sync` before every child. Peak RSS includes node + tsx (~75 MB) and the modules each engine loads.',
      '"× floor" = median ÷ floor median; "ours faster by" = that engine\'s median ÷ chungthuc\'s; "÷ C_Sign rate" = sig/s ÷ bare C_Sign sig/s.',
      csignLine(csign),
    ].join('\n');
    process.stdout.write(`\n${header}\n\n`);
    const all: FixtureResults[] = [];
    for (const f of fixtures) {
      const fr = await benchFixture(f, opts, p12);
      all.push(fr);
      process.stdout.write(`${fixtureTable(fr, csign)}\n\n`);
    }
    const summary = summaryTable(all);
    if (summary) process.stdout.write(`${summary}\n`);
    mkdirSync(BENCH_PATHS.outDir, { recursive: true });
    writeFileSync(
      BENCH_PATHS.resultsJson,
      JSON.stringify(
        {
          startedAt: startedAt.toISOString(),
          finishedAt: new Date().toISOString(),
          options: opts,
          machine: { node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, totalMemBytes: os.totalmem() },
          csign,
          fixtures: all.map((fr) => ({
            name: fr.fixture.name,
            bytes: fr.fixture.bytes,
            xref: fr.fixture.xref,
            description: fr.fixture.description,
            results: fr.results,
            pdfsig: fr.verdicts,
          })),
        },
        null,
        2,
      ),
    );
    process.stderr.write(`[bench] results written to ${path.relative(process.cwd(), BENCH_PATHS.resultsJson)}\n`);
  } finally {
    soft.dispose();
    rmSync(BENCH_PATHS.workDir, { recursive: true, force: true });
  }
}

await main();
