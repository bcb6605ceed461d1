/**
 * Backups of the register and its copy store, and a check of the store against the register.
 *
 * A backup is taken while the service runs. First a snapshot of the database (SQLite's online
 * backup: one consistent instant). Then the stored PDF of every issued entry in that snapshot: each
 * certified PDF is on disk before its entry is written (certifyCopy), so every file the snapshot names
 * exists already. Each file is hashed as it is copied and must have the SHA-256 its entry holds; a
 * file already in the backup with that SHA-256 is not copied again, so later backups into the same
 * directory copy only the new copies. The snapshot's event chain is verified, and a manifest names
 * the snapshot, its SHA-256, its chain head and whatever was wrong.
 *
 * Layout of the backup directory:
 *   chungthuc-<UTC time>.sqlite          the snapshot
 *   chungthuc-<UTC time>.manifest.json   what it holds, and the problems found
 *   copies/<file key>                     the stored PDFs (shared by every snapshot there)
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sha256File } from '../cms/index.ts';
import { InputError } from '../errors.ts';
import { fileKeyPath } from './certifyCopy.ts';
import { CopyRepository, openSnapshot, snapshotDatabase, type ChainReport, type Sqlite, type StoredFile } from '../registry/index.ts';

export interface StoreProblem {
  /** Register entry id and public code. */
  id: string;
  publicCode: string;
  fileKey: string;
  problem: 'missing' | 'altered';
}

export interface StoreCheck {
  /** Issued entries whose file was looked at. */
  checked: number;
  problems: StoreProblem[];
  /** PDFs in the store that no issued entry names (relative to the store), for a person to look at. */
  unregistered: string[];
  /** Finished PDFs the sweeper set aside with their voided numbers (`.voided/`, relative to the store). */
  setAside: string[];
}

/** SHA-256 (hex) of a file; null when there is no such file. */
async function sha256OfFile(file: string): Promise<string | null> {
  try {
    return await sha256File(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** A file key from the register, refused if it would leave the directory it is relative to. */
function under(dir: string, fileKey: string): string {
  const file = fileKeyPath(dir, fileKey);
  if (file === null) throw new InputError('invalid-file-key', `the register names a file outside the copy store: ${fileKey}`);
  return file;
}

/**
 * Every issued entry's stored PDF against the SHA-256 the register holds (missing or altered files),
 * the finished PDFs in the store that no issued entry names, and those the sweeper set aside. Hidden
 * files (certifications in progress) are not listed.
 */
export async function checkCopyStore(db: Sqlite, storeDir: string): Promise<StoreCheck> {
  // The directory first: a copy registered after it was read is then simply not listed, never
  // listed as unregistered.
  let present: string[] = [];
  try {
    present = (await readdir(storeDir, { recursive: true })).map(String).filter((f) => f.endsWith('.pdf') && !path.basename(f).startsWith('.'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const files = new CopyRepository(db).storedFiles();
  const problems: StoreProblem[] = [];
  for (const f of files) {
    const actual = await sha256OfFile(under(storeDir, f.fileKey));
    if (actual !== f.pdfSha256) problems.push({ id: f.id, publicCode: f.publicCode, fileKey: f.fileKey, problem: actual === null ? 'missing' : 'altered' });
  }
  const named = new Set(files.map((f) => path.normalize(f.fileKey)));
  const hidden = (f: string) => f.split(path.sep).some((part) => part.startsWith('.'));
  const unregistered = present.filter((f) => !hidden(f) && !named.has(path.normalize(f))).sort();
  const setAside = present.filter((f) => f.startsWith(`.voided${path.sep}`)).sort();
  return { checked: files.length, problems, unregistered, setAside };
}

export interface BackupReport {
  ok: boolean;
  /** The snapshot file and its manifest. */
  snapshot: string;
  manifest: string;
  database: { sha256: string; bytes: number };
  /** The snapshot's own chain check. */
  chain: ChainReport;
  files: { entries: number; copied: number; alreadyPresent: number; bytesCopied: number };
  problems: StoreProblem[];
}

/** `mkdir -p` whose new directories are durable: each one's parent is fsynced once it exists. */
async function mkdirDurable(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true });
  if (first === undefined) return;
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    await fsyncPath(path.dirname(d));
    if (d === path.resolve(first)) break;
  }
}

/** fsync of a file, or of a directory (which makes the names in it durable). */
async function fsyncPath(file: string): Promise<void> {
  const h = await open(file, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}
const fsyncFile = fsyncPath;
const fsyncDir = fsyncPath;

/**
 * Copies one stored file into the backup, hashing it on the way; kept only when it has the expected
 * SHA-256. Returns the bytes copied, 0 when the backup already held it, or the problem.
 */
async function backUpFile(storeDir: string, copiesDir: string, f: StoredFile): Promise<number | 'missing' | 'altered'> {
  const target = under(copiesDir, f.fileKey);
  if ((await sha256OfFile(target)) === f.pdfSha256) return 0;
  const source = under(storeDir, f.fileKey);
  const partial = path.join(path.dirname(target), `.${path.basename(target)}.partial`);
  await mkdirDurable(path.dirname(target));
  const hash = createHash('sha256');
  let bytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  try {
    await pipeline(createReadStream(source), tap, createWriteStream(partial));
  } catch (err) {
    await rm(partial, { force: true });
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw err;
  }
  if (hash.digest('hex') !== f.pdfSha256) {
    await rm(partial, { force: true });
    return 'altered';
  }
  await fsyncFile(partial);
  await rename(partial, target);
  await fsyncDir(path.dirname(target));
  return bytes;
}

/** `2026-11-30T02:34:20.123Z` → `20261130T023420Z`. */
const compactUtc = (at: Date) => at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');

/**
 * The chain heads the manifests in `dir` recorded (oldest backup first): anchors the register must
 * still contain. An unreadable manifest is an error, not skipped (it would hide a cut chain).
 */
export async function backupAnchors(dir: string): Promise<Array<{ id: number; hash: string; manifest: string }>> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => /^chungthuc-\d{8}T\d{6}Z\.manifest\.json$/.test(n)).sort();
  const out: Array<{ id: number; hash: string; manifest: string }> = [];
  for (const name of names) {
    let head: unknown;
    try {
      head = (JSON.parse(await readFile(path.join(dir, name), 'utf8')) as { chain?: { head?: unknown } }).chain?.head;
    } catch (cause) {
      throw new InputError('backup-manifest-unreadable', `${path.join(dir, name)} cannot be read as a backup manifest`, { cause });
    }
    if (head === null || head === undefined) continue; // an empty register had no head
    const h = head as { id?: unknown; hash?: unknown };
    if (typeof h.id !== 'number' || typeof h.hash !== 'string' || !/^[0-9a-f]{64}$/.test(h.hash)) {
      throw new InputError('backup-manifest-unreadable', `${path.join(dir, name)} has no valid chain head`);
    }
    out.push({ id: h.id, hash: h.hash, manifest: name });
  }
  return out;
}

/**
 * Backs up the register `db` and the copies in `storeDir` into `targetDir` (see the header). The
 * heads that earlier backups in `targetDir` recorded must still be in the snapshot's chain (else the
 * chain check fails with an `anchor` problem: events were cut off or rewritten since). A
 * snapshot whose chain does not verify, or a copy missing or altered in the store, makes the report
 * not ok; the snapshot and every good file are kept all the same (a partial backup beats none), and
 * the manifest says what is wrong.
 */
export async function backupRegistry(db: Sqlite, storeDir: string, targetDir: string, now: Date = new Date()): Promise<BackupReport> {
  await mkdirDurable(targetDir);
  const anchors = await backupAnchors(targetDir);
  const base = `chungthuc-${compactUtc(now)}`;
  const snapshot = path.join(targetDir, `${base}.sqlite`);
  const manifest = path.join(targetDir, `${base}.manifest.json`);
  if (await stat(snapshot).then(() => true, () => false)) throw new InputError('backup-exists', `${snapshot} exists already`);
  const partialSnapshot = path.join(targetDir, `.${base}.sqlite.partial`);
  await rm(partialSnapshot, { force: true });
  await snapshotDatabase(db, partialSnapshot);
  await fsyncFile(partialSnapshot);
  await rename(partialSnapshot, snapshot);
  await fsyncDir(targetDir);

  const copy = openSnapshot(snapshot);
  let chain: ChainReport;
  let stored: StoredFile[];
  try {
    const copies = new CopyRepository(copy);
    chain = copies.verifyChain(anchors);
    stored = copies.storedFiles();
  } finally {
    copy.close();
  }

  const copiesDir = path.join(targetDir, 'copies');
  const files = { entries: stored.length, copied: 0, alreadyPresent: 0, bytesCopied: 0 };
  const problems: StoreProblem[] = [];
  for (const f of stored) {
    const r = await backUpFile(storeDir, copiesDir, f);
    if (typeof r === 'string') problems.push({ id: f.id, publicCode: f.publicCode, fileKey: f.fileKey, problem: r });
    else if (r === 0) files.alreadyPresent += 1;
    else {
      files.copied += 1;
      files.bytesCopied += r;
    }
  }

  const database = { sha256: (await sha256OfFile(snapshot))!, bytes: (await stat(snapshot)).size };
  const report: BackupReport = { ok: chain.ok && problems.length === 0, snapshot, manifest, database, chain, files, problems };
  const body = {
    createdAt: now.toISOString(),
    snapshot: path.basename(snapshot),
    database,
    chain: { ok: chain.ok, events: chain.checked, entries: chain.entries, head: chain.head, ...(chain.firstBad ? { firstBad: chain.firstBad } : {}) },
    files,
    problems,
  };
  const partialManifest = path.join(targetDir, `.${base}.manifest.json.partial`);
  await writeFile(partialManifest, `${JSON.stringify(body, null, 2)}\n`);
  await fsyncFile(partialManifest);
  await rename(partialManifest, manifest);
  await fsyncDir(targetDir);
  return report;
}
