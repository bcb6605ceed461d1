/**
 * `npm run bench:corpus`: validates every file of ../shared/corpus in a fresh process each (so one
 * file's memory cannot hide another's) and prints wall time and peak RSS per file, the slowest first,
 * against the 2 s bound of the validation issue. Not part of `npm test` (no timed assertions there).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const corpus = path.resolve(root, '..', 'shared', 'corpus');

if (process.argv[2] === '--one') {
  const { validatePdf } = await import('../src/pades/validation/index.ts');
  const file = process.argv[3]!;
  const t0 = performance.now();
  const r = await validatePdf({ path: file }, { trustAnchors: [] });
  const ms = performance.now() - t0;
  process.stdout.write(JSON.stringify({ ms, rssMb: process.resourceUsage().maxRSS / 1024, verdict: r.document.error?.code ?? r.documentIndication }));
} else {
  const manifest = JSON.parse(readFileSync(path.join(corpus, 'manifest.json'), 'utf8')) as Array<{ file: string; class: string }>;
  const rows: Array<{ file: string; ms: number; rssMb: number; verdict: string }> = [];
  for (const e of manifest) {
    const out = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--one', path.join(corpus, e.file)], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    rows.push({ file: e.file, ...(JSON.parse(out) as { ms: number; rssMb: number; verdict: string }) });
  }
  rows.sort((a, b) => b.ms - a.ms);
  const over = rows.filter((r) => r.ms > 2000);
  console.log('validation of the shared corpus, one process per file (wall time of validatePdf, peak RSS of the process)');
  for (const r of rows.slice(0, 15)) console.log(`${r.ms.toFixed(1).padStart(8)} ms  ${r.rssMb.toFixed(0).padStart(5)} MB  ${r.verdict.padEnd(16)} ${r.file}`);
  const ms = rows.map((r) => r.ms).sort((a, b) => a - b);
  console.log(`files: ${rows.length}; median ${ms[Math.floor(ms.length / 2)]!.toFixed(1)} ms; max ${ms.at(-1)!.toFixed(1)} ms; max RSS ${Math.max(...rows.map((r) => r.rssMb)).toFixed(0)} MB; over 2 s: ${over.length}`);
}
