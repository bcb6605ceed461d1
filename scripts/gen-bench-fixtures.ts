/**
 * Generates the benchmark fixtures into bench/fixtures/ (git-ignored): a 1-page and a 50-page text
 * PDF (pdf-lib, classic xref table), a 10-page ~300 dpi A4 scan and a ~200 MB scan (hand-written,
 * classic xref table, one Flate image XObject per page), and each of them rewritten by qpdf with a
 * cross-reference stream and object streams (ISO 32000-1 §7.5.7, §7.5.8).
 *
 * Image data is a deterministic AES-CTR keystream (fixed key), so the pixels do not compress to
 * nothing and every run produces byte-identical files. Idempotent: a file whose size matches the
 * one recorded in bench/fixtures/manifest.json by the same generator version is kept.
 *
 *   node --import tsx scripts/gen-bench-fixtures.ts [--quick] [--only <name>]
 */
import { execFileSync } from 'node:child_process';
import { createCipheriv } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import { PDFDocument, StandardFonts } from 'pdf-lib';

export const BENCH_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'bench');
export const BENCH_FIXTURE_DIR = path.join(BENCH_DIR, 'fixtures');
const MANIFEST = path.join(BENCH_FIXTURE_DIR, 'manifest.json');
/** Bump when the content of any fixture changes, so stale files are rebuilt. */
const GENERATOR_VERSION = 1;

export interface BenchFixture {
  /** File name without directory, e.g. `text-1p.pdf`, `text-1p-xrefstm.pdf`. */
  name: string;
  path: string;
  bytes: number;
  /** Classic xref table or cross-reference stream + object streams. */
  xref: 'table' | 'stream';
  /** The base kind, shared by a classic file and its xref-stream rewrite. */
  base: BaseName;
  description: string;
}

export type BaseName = 'text-1p' | 'text-50p' | 'scan-10p' | 'scan-200mb';
export const BASE_NAMES: readonly BaseName[] = ['text-1p', 'text-50p', 'scan-10p', 'scan-200mb'];

const DESCRIPTIONS: Record<BaseName, string> = {
  'text-1p': '1-page text PDF',
  'text-50p': '50-page text PDF',
  'scan-10p': '10-page A4 scan, 300 dpi gray',
  'scan-200mb': '~200 MB scan, 23 A4 pages of incompressible 300 dpi gray',
};

/** A4 at 300 dpi (210 × 297 mm). */
const SCAN_W = 2480;
const SCAN_H = 3508;
const A4_PT: [number, number] = [595.28, 841.89];

type Manifest = { version: number; sizes: Record<string, number> };

function readManifest(): Manifest {
  try {
    const m = JSON.parse(readFileSync(MANIFEST, 'utf8')) as Manifest;
    if (m.version === GENERATOR_VERSION && typeof m.sizes === 'object') return m;
  } catch {
    // missing or unreadable: rebuild
  }
  return { version: GENERATOR_VERSION, sizes: {} };
}

function upToDate(m: Manifest, name: string): boolean {
  const file = path.join(BENCH_FIXTURE_DIR, name);
  return existsSync(file) && m.sizes[name] === statSync(file).size;
}

// ---- text PDFs (pdf-lib) ---------------------------------------------------------------------

const WORDS = (
  'Ủy ban nhân dân tỉnh quyết định phê duyệt hồ sơ thủ tục hành chính công chứng thực bản sao ' +
  'điện tử từ bản chính theo nghị định văn bản giấy tờ cá nhân tổ chức cơ quan'
)
  .normalize('NFD')
  .replace(/[\u0300-\u036f]/g, '')
  .replace(/[đĐ]/g, 'd')
  .split(' ');

async function writeTextPdf(file: string, pages: number): Promise<void> {
  const doc = await PDFDocument.create();
  // Fixed dates so the file is byte-identical on every run.
  doc.setCreationDate(new Date(Date.UTC(2024, 0, 1)));
  doc.setModificationDate(new Date(Date.UTC(2024, 0, 1)));
  doc.setTitle('chungthuc benchmark text fixture');
  const font = await doc.embedFont(StandardFonts.Helvetica);
  let w = 0;
  for (let p = 0; p < pages; p++) {
    const page = doc.addPage(A4_PT);
    page.drawText(`Trang ${p + 1} / ${pages}`, { x: 72, y: 800, size: 14, font });
    for (let line = 0; line < 52; line++) {
      const words: string[] = [];
      for (let i = 0; i < 12; i++) words.push(WORDS[(w++ * 7 + line) % WORDS.length]!);
      page.drawText(words.join(' '), { x: 72, y: 770 - line * 13, size: 10, font });
    }
  }
  // Classic xref table; the xref-stream variant comes from qpdf.
  writeFileSync(file, await doc.save({ useObjectStreams: false }));
}

// ---- scans (hand-written, streamed to disk) ---------------------------------------------------

/** Deterministic incompressible bytes: AES-128-CTR keystream under a fixed key, one IV per page. */
function keystream(page: number, length: number): Buffer {
  const iv = Buffer.alloc(16);
  iv.writeUInt32BE(page, 0);
  const c = createCipheriv('aes-128-ctr', Buffer.alloc(16, 0x42), iv);
  return c.update(Buffer.alloc(length));
}

/**
 * Raw 8-bit gray pixels of one page. `inkShare` is the fraction of each 64-row band that carries
 * noise (a crude "text line"); the rest is white paper, which Flate squeezes to almost nothing.
 */
function scanPixels(page: number, inkShare: number): Buffer {
  const noise = keystream(page, SCAN_W * SCAN_H);
  if (inkShare >= 1) return noise;
  const px = Buffer.alloc(SCAN_W * SCAN_H, 0xff);
  const inkRows = Math.round(64 * inkShare);
  for (let y = 0; y < SCAN_H; y++) {
    if (y % 64 >= inkRows) continue;
    // Margins of ~2 cm left and right stay white.
    noise.copy(px, y * SCAN_W + 236, y * SCAN_W + 236, y * SCAN_W + SCAN_W - 236);
  }
  return px;
}

/** Writes a scan with a classic xref table (ISO 32000-1 §7.5.4), one page at a time. */
function writeScanPdf(file: string, pages: number, inkShare: number): void {
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w');
  let pos = 0;
  const offsets: number[] = [];
  const put = (b: Buffer | string): void => {
    const buf = typeof b === 'string' ? Buffer.from(b, 'latin1') : b;
    writeSync(fd, buf);
    pos += buf.length;
  };
  const obj = (num: number, body: string, stream?: Buffer): void => {
    offsets[num] = pos;
    put(`${num} 0 obj\n${body}\n`);
    if (stream) {
      put('stream\n');
      put(stream);
      put('\nendstream\n');
    }
    put('endobj\n');
  };
  try {
    put('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n');
    // 1 catalog, 2 pages, then per page i: page 3+3i, contents 4+3i, image 5+3i.
    const kids = Array.from({ length: pages }, (_, i) => `${3 + 3 * i} 0 R`).join(' ');
    obj(1, '<< /Type /Catalog /Pages 2 0 R >>');
    obj(2, `<< /Type /Pages /Count ${pages} /Kids [${kids}] >>`);
    const content = Buffer.from(`q ${A4_PT[0]} 0 0 ${A4_PT[1]} 0 0 cm /Im0 Do Q\n`, 'latin1');
    for (let i = 0; i < pages; i++) {
      const [p, c, im] = [3 + 3 * i, 4 + 3 * i, 5 + 3 * i];
      obj(p, `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${A4_PT[0]} ${A4_PT[1]}] /Resources << /XObject << /Im0 ${im} 0 R >> >> /Contents ${c} 0 R >>`);
      obj(c, `<< /Length ${content.length} >>`, content);
      const data = deflateSync(scanPixels(i, inkShare), { level: 1 });
      obj(
        im,
        `<< /Type /XObject /Subtype /Image /Width ${SCAN_W} /Height ${SCAN_H} /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode /Length ${data.length} >>`,
        data,
      );
    }
    const size = 3 + 3 * pages;
    const xrefAt = pos;
    let xref = `xref\n0 ${size}\n0000000000 65535 f\r\n`;
    for (let n = 1; n < size; n++) xref += `${String(offsets[n]).padStart(10, '0')} 00000 n\r\n`;
    put(xref);
    put(`trailer\n<< /Size ${size} /Root 1 0 R >>\nstartxref\n${xrefAt}\n%%EOF\n`);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

function toXrefStream(src: string, dst: string): void {
  try {
    execFileSync('qpdf', ['--object-streams=generate', '--stream-data=preserve', src, dst], { stdio: 'pipe' });
  } catch (err) {
    // Exit status 3: succeeded with warnings; anything else is a failure.
    if ((err as { status?: number }).status !== 3) throw err;
  }
}

async function writeBase(base: BaseName, file: string): Promise<void> {
  switch (base) {
    case 'text-1p':
      return writeTextPdf(file, 1);
    case 'text-50p':
      return writeTextPdf(file, 50);
    case 'scan-10p':
      // ~20 % of the rows inked: ~1.7 MB per page, the size of a real 300 dpi page scan.
      return writeScanPdf(file, 10, 0.2);
    case 'scan-200mb':
      // 23 pages × 8.7 MB of noise ≈ 200 MB.
      return writeScanPdf(file, 23, 1);
  }
}

export interface EnsureOptions {
  /** Leave out the ~200 MB fixture. */
  quick?: boolean;
  /** Only fixtures whose name or base starts with this. */
  only?: string;
  log?: (msg: string) => void;
}

export function fixtureMatches(f: { name: string; base: string }, only: string | undefined): boolean {
  if (!only) return true;
  const o = only.replace(/\.pdf$/, '');
  return f.name.replace(/\.pdf$/, '') === o || f.base === o;
}

/** Creates what is missing and returns the fixtures in a stable order. */
export async function ensureBenchFixtures(opts: EnsureOptions = {}): Promise<BenchFixture[]> {
  const log = opts.log ?? ((m: string) => process.stderr.write(`[fixtures] ${m}\n`));
  mkdirSync(BENCH_FIXTURE_DIR, { recursive: true });
  const manifest = readManifest();
  const out: BenchFixture[] = [];
  for (const base of BASE_NAMES) {
    if (opts.quick && base === 'scan-200mb') continue;
    const names = { table: `${base}.pdf`, stream: `${base}-xrefstm.pdf` } as const;
    const wanted = (['table', 'stream'] as const).filter((x) => fixtureMatches({ name: names[x], base }, opts.only));
    if (wanted.length === 0) continue;
    const classic = path.join(BENCH_FIXTURE_DIR, names.table);
    // The xref-stream file is made from the classic one, so the classic one is always needed.
    if (!upToDate(manifest, names.table)) {
      log(`writing ${names.table}`);
      await writeBase(base, classic);
      manifest.sizes[names.table] = statSync(classic).size;
      delete manifest.sizes[names.stream];
      writeFileSync(MANIFEST, JSON.stringify(manifest, null, 2));
    }
    if (wanted.includes('stream') && !upToDate(manifest, names.stream)) {
      log(`writing ${names.stream} (qpdf --object-streams=generate)`);
      const dst = path.join(BENCH_FIXTURE_DIR, names.stream);
      toXrefStream(classic, dst);
      manifest.sizes[names.stream] = statSync(dst).size;
      writeFileSync(MANIFEST, JSON.stringify(manifest, null, 2));
    }
    for (const x of wanted) {
      const p = path.join(BENCH_FIXTURE_DIR, names[x]);
      out.push({ name: names[x], path: p, bytes: statSync(p).size, xref: x, base, description: DESCRIPTIONS[base] });
    }
  }
  return out;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const onlyAt = args.indexOf('--only');
  const list = await ensureBenchFixtures({ quick: args.includes('--quick'), only: onlyAt >= 0 ? args[onlyAt + 1] : undefined });
  for (const f of list) process.stdout.write(`${f.name.padEnd(28)} ${String(f.bytes).padStart(11)} bytes  ${f.description}\n`);
}
