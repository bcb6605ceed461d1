import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { durably, openDatabase, MIGRATIONS, RegistryError, type Migration } from '../../src/registry/index.ts';

const dirs: string[] = [];
function tmpFile(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'chungthuc-db-'));
  dirs.push(d);
  return path.join(d, 'sub', 'test.sqlite');
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('registry database', () => {
  it('creates the file in WAL mode and applies every migration once', () => {
    const file = tmpFile();
    const first = openDatabase(file);
    expect(first.applied).toEqual(MIGRATIONS.map((m) => m.version));
    expect(first.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(first.db.pragma('foreign_keys', { simple: true })).toBe(1);
    const id = first.instanceId;
    first.close();

    const second = openDatabase(file);
    expect(second.applied).toEqual([]);
    expect(second.instanceId).toBe(id);
    const rows = second.db.prepare('SELECT version FROM schema_migrations ORDER BY version').all();
    expect(rows).toEqual(MIGRATIONS.map((m) => ({ version: m.version })));
    second.close();
  });

  it('applies only the new migrations of a later build', () => {
    const file = tmpFile();
    openDatabase(file).close();
    const next: Migration = { version: 999, name: 'test table', sql: 'CREATE TABLE t (x INTEGER) STRICT;' };
    const db = openDatabase(file, [...MIGRATIONS, next]);
    expect(db.applied).toEqual([999]);
    db.db.prepare('INSERT INTO t VALUES (1)').run();
    db.close();
  });

  it('rolls back a failing migration entirely and reports it', () => {
    const file = tmpFile();
    const bad: Migration = { version: 998, name: 'broken', sql: 'CREATE TABLE ok_part (x INTEGER); SELECT * FROM missing_table;' };
    expect(() => openDatabase(file, [...MIGRATIONS, bad])).toThrowError(expect.objectContaining({ code: 'db-migration-failed' }));
    const db = openDatabase(file);
    expect(db.db.prepare("SELECT name FROM sqlite_master WHERE name = 'ok_part'").get()).toBeUndefined();
    db.close();
  });

  it('refuses a schema newer than the build knows', () => {
    const file = tmpFile();
    openDatabase(file, [...MIGRATIONS, { version: 5000, name: 'future', sql: 'SELECT 1;' }]).close();
    let err: unknown;
    try {
      openDatabase(file);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as RegistryError).code).toBe('db-schema-too-new');
  });

  it('commits durably (synchronous FULL) only inside durably(), and restores NORMAL even when the write fails', () => {
    const { db, close } = openDatabase(tmpFile());
    const level = () => db.pragma('synchronous', { simple: true });
    expect(level()).toBe(1); // NORMAL: the connection's default
    db.exec('CREATE TABLE t (x INTEGER NOT NULL) STRICT');
    const seen = durably(db, () => {
      db.prepare('INSERT INTO t VALUES (1)').run();
      return level();
    });
    expect(seen).toBe(2); // FULL while the act commits
    expect(level()).toBe(1);
    expect(() => durably(db, () => db.prepare('INSERT INTO t VALUES (NULL)').run())).toThrow(/NOT NULL/);
    expect(level()).toBe(1);
    // Inside a transaction the setting cannot change: the act runs and the outer commit decides.
    db.transaction(() => durably(db, () => db.prepare('INSERT INTO t VALUES (2)').run()))();
    expect(level()).toBe(1);
    expect(db.prepare('SELECT COUNT(*) FROM t').pluck().get()).toBe(2);
    close();
  });
});
