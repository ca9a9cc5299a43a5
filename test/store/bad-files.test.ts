/** Files that are not (or no longer) ModeLab histories: a clear error, and the file exactly as it was. */
import { copyFileSync, mkdirSync, openSync, closeSync, writeSync, readFileSync, truncateSync, writeFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DatabaseFileError } from '../../src-main/store/errors';
import { HistoryStore } from '../../src-main/store/history';
import { Database } from '../../src-main/store/sqlite';
import { sha256File, syntheticRun, tempDir } from './helpers';

let t: ReturnType<typeof tempDir>;
beforeEach(() => {
  t = tempDir('modelab-badfile-');
});
afterEach(() => t.cleanup());

async function refused(file: string, message: RegExp): Promise<void> {
  const before = sha256File(file);
  const size = statSync(file).size;
  const err = await HistoryStore.open({ db: file }).catch((e: unknown) => e);
  expect(err, 'open must fail').toBeInstanceOf(DatabaseFileError);
  expect((err as Error).message).toMatch(message);
  expect((err as Error).message).toContain(file);
  expect(sha256File(file)).toBe(before);
  expect(statSync(file).size).toBe(size);
}

/** A real history with one run, checkpointed into the main file (no -wal beside it). */
async function realHistory(file: string): Promise<void> {
  const store = await HistoryStore.open({ db: file });
  await syntheticRun(store);
  await store.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  await store.close();
}

describe('bad database files', () => {
  it('a text file', async () => {
    const f = path.join(t.dir, 'notes.txt');
    writeFileSync(f, 'these are my notes, not a database\n'.repeat(20));
    await refused(f, /not an SQLite database/);
  });

  it('random bytes', async () => {
    const f = path.join(t.dir, 'random.sqlite');
    writeFileSync(f, Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 7919 + 13) % 251)));
    await refused(f, /not an SQLite database/);
  });

  it('a file shorter than the SQLite header', async () => {
    const f = path.join(t.dir, 'short.sqlite');
    writeFileSync(f, 'SQLite format 3\0');
    await refused(f, /not an SQLite database/);
  });

  it('a ModeLab history whose first page (the schema) is overwritten with garbage', async () => {
    const f = path.join(t.dir, 'history.sqlite');
    await realHistory(f);
    const fd = openSync(f, 'r+');
    writeSync(fd, Buffer.alloc(2000, 0x5a), 0, 2000, 100);
    closeSync(fd);
    await refused(f, /corrupt|not an SQLite database/);
  });

  it('a ModeLab history cut short', async () => {
    const f = path.join(t.dir, 'history.sqlite');
    await realHistory(f);
    truncateSync(f, 4096 + 100);
    // Either refused at open, or the damage shows as a clear error on first read; never silently "fixed".
    const before = sha256File(f);
    const store = await HistoryStore.open({ db: f }).catch((e: unknown) => e);
    if (store instanceof HistoryStore) {
      await expect(store.list()).rejects.toThrow(/malformed|corrupt/i);
      await store.close();
    } else {
      expect(store).toBeInstanceOf(DatabaseFileError);
    }
    expect(sha256File(f)).toBe(before);
  });

  it("another application's SQLite database", async () => {
    const f = path.join(t.dir, 'other.sqlite');
    const db = await Database.open(f, { create: true });
    await db.exec('CREATE TABLE contacts (name TEXT); INSERT INTO contacts VALUES (\'Ada\');');
    await db.close();
    await refused(f, /not a ModeLab history/);
    const db2 = await Database.open(f, { create: true });
    await db2.exec('PRAGMA application_id = 42');
    await db2.close();
    await refused(f, /not a ModeLab history \(application_id 42\)/);
  });

  it('a folder given as the database', async () => {
    const d = path.join(t.dir, 'folder.sqlite');
    mkdirSync(d);
    await expect(HistoryStore.open({ db: d })).rejects.toThrow(/is a folder/);
  });

  it('a copy of a good history opens fine (the checks do not reject real files)', async () => {
    const f = path.join(t.dir, 'history.sqlite');
    await realHistory(f);
    copyFileSync(f, path.join(t.dir, 'copy.sqlite'));
    const s = await HistoryStore.open({ db: path.join(t.dir, 'copy.sqlite') });
    expect((await s.list()).total).toBe(1);
    await s.close();
    expect(readFileSync(f).subarray(0, 15).toString()).toBe('SQLite format 3');
  });
});
