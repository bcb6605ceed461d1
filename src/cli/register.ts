/**
 * The register database of DATA_DIR for the commands. It must exist already (the service makes it at its
 * first start, `tenant create` too): opened with `openDatabase` alone, a mistyped DATA_DIR got a new,
 * empty register, which `registry verify` then found in order (exit 0) and `registry backup` backed up.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../config.ts';
import { InputError } from '../errors.ts';
import { openDatabase, type OpenedDatabase } from '../registry/index.ts';

/** `create`: make it when it is not there (`tenant create`, the first act of a command-line-only setup). */
export function openRegister(opts: { create?: boolean } = {}): OpenedDatabase {
  const { dataDir } = loadConfig();
  const file = path.join(dataDir, 'chungthuc.sqlite');
  if (!opts.create && !existsSync(file)) {
    throw new InputError('register-not-found', `no register database at ${file}: check DATA_DIR (the service makes it at its first start, \`chungthuc tenant create\` too)`);
  }
  return openDatabase(file);
}

export function withRegister<T>(fn: (db: OpenedDatabase) => T, opts: { create?: boolean } = {}): T {
  const db = openRegister(opts);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

export async function withRegisterAsync<T>(fn: (db: OpenedDatabase) => Promise<T>): Promise<T> {
  const db = openRegister();
  try {
    return await fn(db);
  } finally {
    db.close();
  }
}
