/**
 * `chungthuc certify --batch MANIFEST --out-dir DIR`: many documents in one run. The manifest is JSON
 * (an array of objects) or CSV (a header row, then one row per document); its keys are the certify
 * command's per-document option names plus `files`:
 *
 *   files            scan file(s) in page order, relative to the manifest; in CSV separated by "|"
 *   output           file name of the certified PDF in --out-dir (default NN-<first scan's name>.pdf)
 *   document-type, issuer, requester, original-pages, copies, case-code, certifier-key, certifier-title
 *
 * Options given on the command line (--tenant, --certifier-key, --seal-key, --level, …) apply to every
 * row; a row's own value wins. Each row runs through the very same certify command as a single copy,
 * one after another (numbers are sequential anyway). A failing row is reported and the batch goes on;
 * a row refused before its number is reserved (unreadable scan, missing field) leaves nothing in the
 * register, one that fails after (e.g. a signing error) leaves its number voided with the reason, as
 * "no gaps, no reuse" requires. Progress: `[12/40] …` rewritten in place on a terminal, one line per
 * row otherwise; then a summary. Exit code 1 when any row failed.
 *
 * Two things stop the batch after the row in progress, the rows left being reported as not attempted:
 * a failure that is not the row's but every later row's too (STOPS_THE_BATCH: above all a PIN the token
 * rejected, since each row's login would count toward the token's lockout), and SIGINT/SIGTERM (Ctrl-C),
 * so a copy being made is finished and registered rather than left as a reserved number. A second
 * signal ends the process at once.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { AppError, InputError } from '../errors.ts';
import { describeError } from '../main.ts';
import type { Command, CommandContext } from './command.ts';

export const BATCH_OPTIONS: Command['options'] = {
  batch: [{ type: 'string' }, 'certify many documents: a JSON or CSV manifest, one row per document (then no SCAN or -o)'],
  'out-dir': [{ type: 'string' }, 'with --batch: the directory for the certified PDFs'],
};

const ROW_KEYS = ['output', 'document-type', 'issuer', 'requester', 'original-pages', 'copies', 'case-code', 'certifier-key', 'certifier-title'] as const;
const MAX_ROWS = 10_000;

const cell = z.union([z.string(), z.number().transform(String)]);
const ROW = z.strictObject({
  files: z.union([z.array(z.string().min(1)).min(1), z.string().min(1).transform((s) => s.split('|').map((f) => f.trim()).filter((f) => f !== ''))]),
  ...Object.fromEntries(ROW_KEYS.map((k) => [k, cell.optional()])),
});

export interface BatchRow {
  files: string[];
  values: Record<string, string>;
}

/** Reads and checks the manifest; a malformed manifest (not a malformed row's values) refuses the whole batch. */
export function readManifest(file: string): BatchRow[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new InputError('batch-manifest-invalid', `cannot read the manifest ${file}`, { cause });
  }
  const records = /\.json$/i.test(file) || /^\s*\[/.test(text) ? jsonRecords(text) : csvRecords(text);
  if (records.length === 0) throw new InputError('batch-manifest-invalid', 'the manifest has no rows');
  if (records.length > MAX_ROWS) throw new InputError('batch-manifest-invalid', `the manifest has more than ${MAX_ROWS} rows`);
  const base = path.dirname(path.resolve(file));
  return records.map((raw, i) => {
    const parsed = ROW.safeParse(raw);
    if (!parsed.success) {
      const what = parsed.error.issues.map((x) => `${x.path.join('.') || '(row)'}: ${x.message}`).join('; ');
      throw new InputError('batch-manifest-invalid', `manifest row ${i + 1}: ${what}`);
    }
    const { files, ...rest } = parsed.data as { files: string[] } & Record<string, string | undefined>;
    if (files.length === 0) throw new InputError('batch-manifest-invalid', `manifest row ${i + 1}: no files`);
    const values = Object.fromEntries(Object.entries(rest).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ''));
    return { files: files.map((f) => path.resolve(base, f)), values };
  });
}

function jsonRecords(text: string): unknown[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (cause) {
    throw new InputError('batch-manifest-invalid', 'the manifest is not valid JSON', { cause });
  }
  if (!Array.isArray(v)) throw new InputError('batch-manifest-invalid', 'a JSON manifest is an array of rows');
  return v;
}

/** RFC 4180 CSV: quoted fields may hold commas, quotes ("") and line breaks; blank lines are skipped. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  const s = text.replace(/^\uFEFF/, '');
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quoted) {
      if (c === '"' && s[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && s[i + 1] === '\n') i++;
      row.push(field);
      if (row.some((f) => f !== '')) rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (quoted) throw new InputError('batch-manifest-invalid', 'the CSV manifest ends inside a quoted field');
  row.push(field);
  if (row.some((f) => f !== '')) rows.push(row);
  return rows;
}

function csvRecords(text: string): unknown[] {
  const [header, ...rows] = parseCsv(text);
  if (!header) return [];
  const names = header.map((h) => h.trim());
  return rows.map((r, i) => {
    if (r.length !== names.length) throw new InputError('batch-manifest-invalid', `CSV row ${i + 2} has ${r.length} fields; the header has ${names.length}`);
    return Object.fromEntries(names.map((n, j) => [n, r[j]!.trim()]));
  });
}

/** Failures that are the configuration's, the HSM's or the database's: every later row would meet them. */
const STOPS_THE_BATCH: ReadonlySet<string> = new Set([
  'hsm-pin-incorrect',
  'hsm-pin-locked',
  'hsm-module-load-failed',
  'hsm-token-absent',
  'config-invalid',
  'db-open-failed',
  'tenant-not-found',
]);

export interface BatchResult {
  row: number;
  ok: boolean;
  output?: string;
  /** What the certify command printed for this row (number, verification URL, access code). */
  message: string;
}

/**
 * Runs `certifyOne` (the certify command's own run) for each manifest row with the command-line
 * values underneath the row's. `tty`: rewrite one progress line in place.
 */
export async function certifyBatch(
  values: Record<string, unknown>,
  io: CommandContext,
  certifyOne: Command['run'],
  tty = process.stdout.isTTY === true,
): Promise<number> {
  const manifest = values.batch as string;
  const outDir = values['out-dir'];
  if (typeof outDir !== 'string' || outDir.trim() === '') throw new InputError('invalid-parameters', '--batch needs --out-dir DIR for the certified PDFs');
  if (values.output !== undefined) throw new InputError('invalid-parameters', 'with --batch the outputs go to --out-dir (and each row may name its file): no -o');
  const rows = readManifest(manifest);
  // Made before the first copy: a copy whose PDF cannot be written out would be certified yet reported failed.
  mkdirSync(outDir, { recursive: true });
  const common = Object.fromEntries(Object.entries(values).filter(([k]) => k !== 'batch' && k !== 'out-dir' && k !== 'output'));
  const width = String(rows.length).length;
  const results: BatchResult[] = [];
  let lineShown = false;
  const progress = (text: string) => {
    if (tty) {
      io.out(`\r\x1b[2K${text}`);
      lineShown = true;
    } else io.out(`${text}\n`);
  };
  const clear = () => {
    if (tty && lineShown) io.out('\r\x1b[2K');
    lineShown = false;
  };

  // Two rows writing one file would hand out the wrong copy: refused before anything is certified.
  const outputs = rows.map((row, i) => {
    const name = row.values.output ?? `${String(i + 1).padStart(Math.max(2, width), '0')}-${path.basename(row.files[0]!).replace(/\.[^.]*$/, '')}.pdf`;
    return path.resolve(outDir, path.basename(name));
  });
  const dup = outputs.find((o, i) => outputs.indexOf(o) !== i);
  if (dup !== undefined) throw new InputError('batch-manifest-invalid', `two rows write the same output file ${path.basename(dup)}`);

  let stopped: string | undefined;
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) {
      // The second one: as if we had not been listening.
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.kill(process.pid, signal);
      return;
    }
    signalled = true;
    stopped ??= `stopped by ${signal}`;
    clear();
    io.err(`chungthuc certify: ${signal}: stopping after the row in progress (again to stop at once)\n`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    for (const [i, row] of rows.entries()) {
      if (stopped !== undefined) break;
      const n = i + 1;
      const tag = `[${String(n).padStart(width)}/${rows.length}]`;
      const output = outputs[i]!;
      progress(`${tag} ${path.basename(row.files[0]!)} …`);
      const printed: string[] = [];
      const rowIo: CommandContext = { out: (t) => printed.push(t), err: (t) => printed.push(t) };
      let ok = false;
      try {
        ok = (await certifyOne({ ...common, ...row.values, output }, row.files, rowIo)) === 0;
      } catch (err) {
        printed.push(describeError(err));
        if (err instanceof AppError && STOPS_THE_BATCH.has(err.code)) stopped = `row ${n} failed with ${err.code}, which every later row would meet`;
      }
      const message = printed.join('').trim();
      results.push({ row: n, ok, output: ok ? output : undefined, message });
      clear();
      // The access code is shown once: every row's own output is printed, not only the progress.
      // Whole, even for a failed row: a row certified before its output failed still shows its access code.
      io.out(`${tag} ${ok ? 'ok' : 'FAILED'} row ${n}: ${message}\n`);
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  const failed = results.filter((r) => !r.ok);
  const left = rows.length - results.length;
  const notAttempted = left === 0 ? '' : `; not attempted: ${left === 1 ? `row ${rows.length}` : `rows ${results.length + 1}–${rows.length}`}`;
  if (stopped !== undefined && left > 0) io.out(`\nbatch stopped: ${stopped}`);
  io.out(`\ncertified ${results.length - failed.length} of ${rows.length}${failed.length > 0 ? `; failed: ${failed.map((r) => `row ${r.row}`).join(', ')}` : ''}${notAttempted}\n`);
  return failed.length === 0 && left === 0 ? 0 : 1;
}
