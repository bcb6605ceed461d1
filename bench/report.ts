/** Plain-text tables for the benchmark results (one per fixture, then a summary of the targets). */
import type { BenchFixture, BaseName } from '../scripts/gen-bench-fixtures.ts';
import type { EngineId, JobResult, JobSuccess } from './protocol.ts';

export interface FixtureResults {
  fixture: BenchFixture;
  results: Partial<Record<EngineId, JobResult>>;
  /** pdfsig -nocert verdict on the last output of each signing engine. */
  verdicts: Partial<Record<EngineId, string>>;
}

export const ENGINE_LABELS: Record<EngineId, string> = {
  floor: 'floor: read+SHA-256+write, 1 HSM sig',
  'floor-fsync': 'floor + fsync of the output',
  chungthuc: 'chungthuc signPdf (HSM officer1)',
  signpdf: '@signpdf/signpdf 3.3 (soft key)',
  libpdf: '@libpdf/core 0.4 (soft key)',
  csign: 'bare C_Sign loop (HSM officer1)',
};

/** Latency targets of the issue, as multiples of the floor; RSS target only on the 200 MB file. */
export const LATENCY_TARGET: Partial<Record<BaseName, number>> = { 'text-1p': 2, 'scan-10p': 1.5, 'scan-200mb': 1.5 };
export const RSS_TARGET_MB: Partial<Record<BaseName, number>> = { 'scan-200mb': 256 };

export function ok(r: JobResult | undefined): r is JobSuccess {
  return r !== undefined && r.ok;
}

function mb(bytes: number): string {
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 2 ** 20).toFixed(1)} MB`;
}

function num(x: number, digits: number): string {
  if (!Number.isFinite(x)) return '-';
  if (x >= 1000) return x.toFixed(0);
  return x.toFixed(digits);
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function csignLine(csign: JobResult | undefined): string {
  if (!ok(csign)) return `bare C_Sign (RSA-2048, SoftHSM2, officer1): fails: ${csign?.ok === false ? csign.error : 'not run'}`;
  return (
    `bare C_Sign (RSA-2048 PKCS#1 v1.5 on a SHA-256 digest, SoftHSM2, key officer1, Pkcs11Signer.sign): ` +
    `${num(csign.perSecond, 1)} sig/s, median ${num(csign.medianMs, 3)} ms over ${csign.iterations} signatures, peak RSS ${num(csign.peakRssMb, 0)} MB`
  );
}

const ROW_ORDER: EngineId[] = ['floor', 'floor-fsync', 'chungthuc', 'signpdf', 'libpdf'];

export function fixtureTable(fr: FixtureResults, csign: JobResult | undefined): string {
  const { fixture, results } = fr;
  const floor = results.floor;
  const ours = results.chungthuc;
  const head = ['engine', 'median ms', 'sig/s', 'peak RSS MB', 'iter', '× floor', 'ours faster by', '÷ C_Sign rate', 'pdfsig -nocert / error'];
  const rows: string[][] = [];
  for (const id of ROW_ORDER) {
    const r = results[id];
    if (r === undefined) continue;
    if (!ok(r)) {
      rows.push([ENGINE_LABELS[id], 'fails', '', '', '', '', '', '', `fails: ${r.error}`]);
      continue;
    }
    rows.push([
      ENGINE_LABELS[id],
      num(r.medianMs, 2),
      num(r.perSecond, 2),
      num(r.peakRssMb, 0),
      String(r.iterations),
      ok(floor) ? `${num(r.medianMs / floor.medianMs, 2)}×` : '-',
      // How many times faster our engine is than this one (median latency over median latency).
      ok(ours) && id !== 'chungthuc' && id !== 'floor' && id !== 'floor-fsync' ? `${num(r.medianMs / ours.medianMs, 2)}×` : '',
      ok(csign) ? num(r.perSecond / csign.perSecond, 4) : '-',
      fr.verdicts[id] ?? '',
    ]);
  }
  const title = `== ${fixture.name} — ${fixture.description}, ${fixture.xref === 'table' ? 'classic xref table' : 'xref stream + object streams'}, ${mb(fixture.bytes)} ==`;
  const lines = [title, table(head, rows)];
  const t = targetLines(fr);
  if (t.length) lines.push(...t.map((s) => `target: ${s}`));
  return lines.join('\n');
}

export interface TargetCheck {
  fixture: string;
  what: string;
  target: string;
  measured: string;
  met: boolean | undefined;
}

export function targetChecks(fr: FixtureResults): TargetCheck[] {
  const out: TargetCheck[] = [];
  const { fixture, results } = fr;
  const ours = results.chungthuc;
  const floor = results.floor;
  const lt = LATENCY_TARGET[fixture.base];
  if (lt !== undefined) {
    const measured = ok(ours) && ok(floor) ? ours.medianMs / floor.medianMs : undefined;
    out.push({
      fixture: fixture.name,
      what: 'median latency ÷ floor',
      target: `≤ ${lt}×`,
      measured: measured === undefined ? 'n/a' : `${num(measured, 2)}× (${num(ok(ours) ? ours.medianMs : NaN, 1)} ms vs ${num(ok(floor) ? floor.medianMs : NaN, 1)} ms)`,
      met: measured === undefined ? undefined : measured <= lt,
    });
  }
  const rt = RSS_TARGET_MB[fixture.base];
  if (rt !== undefined) {
    out.push({
      fixture: fixture.name,
      what: 'peak RSS',
      target: `< ${rt} MB`,
      measured: ok(ours) ? `${num(ours.peakRssMb, 0)} MB` : 'n/a',
      met: ok(ours) ? ours.peakRssMb < rt : undefined,
    });
  }
  return out;
}

function verdict(met: boolean | undefined): string {
  return met === undefined ? 'NOT MEASURED' : met ? 'MET' : 'MISSED';
}

function targetLines(fr: FixtureResults): string[] {
  return targetChecks(fr).map((c) => `${c.what} ${c.target}: ${c.measured} — ${verdict(c.met)}`);
}

export function summaryTable(all: readonly FixtureResults[]): string {
  const checks = all.flatMap(targetChecks);
  if (checks.length === 0) return '';
  return [
    '== targets (chungthuc, B-B on the HSM, file in → file out, one process) ==',
    table(
      ['fixture', 'what', 'target', 'measured', 'verdict'],
      checks.map((c) => [c.fixture, c.what, c.target, c.measured, verdict(c.met)]),
    ),
  ].join('\n');
}
