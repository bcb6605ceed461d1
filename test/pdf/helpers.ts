import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

export const CORPUS = path.resolve(import.meta.dirname, '..', '..', '..', 'shared', 'corpus');

/** Every corpus PDF as [relative name, absolute path]. */
export function corpusFiles(): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const d of readdirSync(CORPUS)) {
    const dir = path.join(CORPUS, d);
    if (d === 'LICENSES' || !statSync(dir).isDirectory()) continue;
    for (const f of readdirSync(dir)) if (f.endsWith('.pdf')) out.push([`${d}/${f}`, path.join(dir, f)]);
  }
  return out.sort();
}

export function run(cmd: string, args: string[]): { status: number | null; out: string; stdout: string } {
  const r = spawnSync(cmd, args, { encoding: 'latin1', timeout: 20_000 });
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}`, stdout: r.stdout ?? '' };
}

/** qpdf --check: exit 0 and no warnings (the bar for every file we write). */
export function qpdfCheck(file: string): { ok: boolean; out: string } {
  const r = run('qpdf', ['--check', file]);
  return { ok: r.status === 0 && !/WARNING|ERROR/.test(r.out) && r.out.includes('No syntax or stream encoding errors'), out: r.out };
}
