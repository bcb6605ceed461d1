/**
 * One measurement in its own process, so the peak RSS read at the end belongs to one engine on one
 * fixture: `node --import tsx bench/worker.ts '<JobSpec JSON>'`, started by bench/run.ts over IPC.
 * Every iteration is file in → file out, one after another, in this one process.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { open, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../src/config.ts';
import { signPdf } from '../src/pades/index.ts';
import { openToken, type Pkcs11Token, type Signer } from '../src/signers/index.ts';
import { BENCH_PATHS } from './paths.ts';
import { median, type JobResult, type JobSpec } from './protocol.ts';

type Iteration = () => Promise<void>;
interface Engine {
  iterate: Iteration;
  close(): Promise<void>;
}

const HSM_KEY = 'officer1';
const require = createRequire(import.meta.url);

/** DER blocks of a PEM file, in order. */
function pemBlocks(file: string): Uint8Array[] {
  const pem = readFileSync(file, 'utf8');
  return [...pem.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)].map(
    (m) => new Uint8Array(Buffer.from((m[1] ?? '').replace(/\s+/g, ''), 'base64')),
  );
}

async function openHsm(): Promise<{ token: Pkcs11Token; signer: Signer }> {
  // The service's own configuration path: PKCS11_* variables with the dev token as default.
  const cfg = loadConfig();
  const token = await openToken({ ...cfg.pkcs11, poolSize: 1 });
  return { token, signer: await token.getSigner(HSM_KEY) };
}

function need<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`job spec lacks ${what}`);
  return v;
}

/**
 * The floor: what a signer that did nothing but read, hash and write the file, then sign once,
 * would cost. One 1 MiB buffer, sequential reads and writes.
 */
async function floorOnce(input: string, output: string, signer: Signer, fsync: boolean): Promise<void> {
  const fin = await open(input, 'r');
  const fout = await open(output, 'w');
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(1 << 20);
  try {
    for (;;) {
      const { bytesRead } = await fin.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      const chunk = buf.subarray(0, bytesRead);
      hash.update(chunk);
      await fout.write(chunk);
    }
    if (fsync) await fout.sync();
  } finally {
    await fin.close();
    await fout.close();
  }
  await signer.sign(new Uint8Array(hash.digest()), 'SHA-256', 'RSASSA-PKCS1-v1_5');
}

async function setup(spec: JobSpec): Promise<Engine> {
  switch (spec.engine) {
    case 'floor':
    case 'floor-fsync': {
      const { token, signer } = await openHsm();
      const input = need(spec.input, 'input');
      const output = need(spec.output, 'output');
      const fsync = spec.engine === 'floor-fsync';
      return { iterate: () => floorOnce(input, output, signer, fsync), close: () => token.close() };
    }
    case 'csign': {
      const { token, signer } = await openHsm();
      const digest = new Uint8Array(randomBytes(32));
      return {
        iterate: async () => {
          await signer.sign(digest, 'SHA-256', 'RSASSA-PKCS1-v1_5');
        },
        close: () => token.close(),
      };
    }
    case 'chungthuc': {
      const { token, signer } = await openHsm();
      const chain = pemBlocks(BENCH_PATHS.chainPem);
      const input = need(spec.input, 'input');
      const output = need(spec.output, 'output');
      return {
        iterate: async () => {
          await signPdf({ path: input }, { path: output }, { signer, chain, reason: 'benchmark' });
        },
        close: () => token.close(),
      };
    }
    case 'signpdf': {
      // CommonJS packages (Babel output with exports.default): loaded with require.
      const { default: signpdf } = require('@signpdf/signpdf') as typeof import('@signpdf/signpdf');
      const { plainAddPlaceholder } = require('@signpdf/placeholder-plain') as typeof import('@signpdf/placeholder-plain');
      const { P12Signer } = require('@signpdf/signer-p12') as typeof import('@signpdf/signer-p12');
      const p12 = readFileSync(need(spec.p12Path, 'p12Path'));
      const passphrase = need(spec.passphrase, 'passphrase');
      const input = need(spec.input, 'input');
      const output = need(spec.output, 'output');
      return {
        iterate: async () => {
          const pdfBuffer = await readFile(input);
          const withPlaceholder = plainAddPlaceholder({
            pdfBuffer,
            reason: 'benchmark',
            contactInfo: '',
            name: 'bench',
            location: '',
            subFilter: 'ETSI.CAdES.detached',
          });
          // A P12Signer consumes its forge buffer on first use: one per signature, as its README does.
          const signer = new P12Signer(p12, { passphrase });
          await writeFile(output, await signpdf.sign(withPlaceholder, signer));
        },
        close: async () => {},
      };
    }
    case 'libpdf': {
      const { PDF, P12Signer } = await import('@libpdf/core');
      const signer = await P12Signer.create(readFileSync(need(spec.p12Path, 'p12Path')), need(spec.passphrase, 'passphrase'));
      const input = need(spec.input, 'input');
      const output = need(spec.output, 'output');
      return {
        iterate: async () => {
          const pdf = await PDF.load(await readFile(input));
          const { bytes } = await pdf.sign({ signer, reason: 'benchmark', level: 'B-B', subFilter: 'ETSI.CAdES.detached' });
          await writeFile(output, bytes);
        },
        close: async () => {},
      };
    }
  }
}

function peakRssMb(): number {
  // resourceUsage().maxRSS is in kibibytes (getrusage ru_maxrss on Linux).
  return process.resourceUsage().maxRSS / 1024;
}

function shortMessage(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  const line = msg.split('\n')[0] ?? msg;
  return line.length > 120 ? `${line.slice(0, 117)}...` : line;
}

async function run(spec: JobSpec): Promise<JobResult> {
  let engine: Engine | undefined;
  try {
    engine = await setup(spec);
    const setupRssMb = process.memoryUsage().rss / 2 ** 20;
    if (spec.warmup) await engine.iterate();
    const latenciesMs: number[] = [];
    let measured = 0;
    while (latenciesMs.length < spec.maxIterations && (latenciesMs.length < spec.minIterations || measured < spec.budgetMs)) {
      const t0 = performance.now();
      await engine.iterate();
      const dt = performance.now() - t0;
      latenciesMs.push(dt);
      measured += dt;
    }
    const outputBytes = spec.output && spec.engine !== 'csign' ? statSync(spec.output).size : undefined;
    return {
      ok: true,
      engine: spec.engine,
      iterations: latenciesMs.length,
      latenciesMs,
      medianMs: median(latenciesMs),
      perSecond: (latenciesMs.length * 1000) / measured,
      peakRssMb: peakRssMb(),
      setupRssMb,
      outputBytes,
    };
  } catch (err) {
    return { ok: false, engine: spec.engine, error: shortMessage(err), peakRssMb: peakRssMb() };
  } finally {
    await engine?.close().catch(() => {});
  }
}

const spec = JSON.parse(process.argv[2] ?? '{}') as JobSpec;
const result = await run(spec);
if (process.send) process.send(result, () => process.exit(0));
else {
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}
