/** Test-only: runs the poppler and qpdf command-line tools on a PDF held in memory. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface ToolResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function withPdf<T>(pdf: Buffer, run: (file: string, dir: string) => T): T {
  const dir = mkdtempSync(path.join(tmpdir(), 'appearance-'));
  try {
    const file = path.join(dir, 'doc.pdf');
    writeFileSync(file, pdf);
    return run(file, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function tool(cmd: string, args: string[]): ToolResult {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function qpdfCheck(pdf: Buffer): ToolResult {
  return withPdf(pdf, (file) => tool('qpdf', ['--check', file]));
}

export function pdftotext(pdf: Buffer, extra: string[] = []): string {
  return withPdf(pdf, (file) => {
    const r = tool('pdftotext', [...extra, '-enc', 'UTF-8', file, '-']);
    if (r.status !== 0) throw new Error(`pdftotext failed: ${r.stderr}`);
    return r.stdout;
  });
}

export function pdffonts(pdf: Buffer): string {
  return withPdf(pdf, (file) => {
    const r = tool('pdffonts', [file]);
    if (r.status !== 0) throw new Error(`pdffonts failed: ${r.stderr}`);
    return r.stdout;
  });
}

/** Renders page 1 with pdftoppm; `format` 'pgm' (grey), 'ppm' (colour) or 'png'. */
export function renderPage(pdf: Buffer, format: 'pgm' | 'ppm' | 'png', dpi = 72): { bytes: Buffer; stderr: string } {
  return withPdf(pdf, (file, dir) => {
    const flags = format === 'pgm' ? ['-gray'] : format === 'png' ? ['-png'] : [];
    const out = path.join(dir, 'page');
    const r = tool('pdftoppm', [...flags, '-r', String(dpi), '-singlefile', file, out]);
    if (r.status !== 0) throw new Error(`pdftoppm failed: ${r.stderr}`);
    const ext = format === 'png' ? 'png' : format;
    return { bytes: readFileSync(`${out}.${ext}`), stderr: r.stderr };
  });
}
