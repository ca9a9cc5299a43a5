/**
 * Schema migrations: from an empty database, and from a frozen fixture of every earlier schema version (data kept,
 * the result identical in schema to a fresh database, a backup taken first); a database from a newer ModeLab is
 * refused and left byte for byte as it was.
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HistoryStore } from '../../src-main/store/history';
import { MIGRATIONS, SCHEMA_VERSION } from '../../src-main/store/migrations';
import { APPLICATION_ID, openDatabase } from '../../src-main/store/open';
import { Database } from '../../src-main/store/sqlite';
import { DatabaseFileError } from '../../src-main/store/errors';
import { databaseFromSql, sha256File, tempDir } from './helpers';

const fixtures = path.resolve(__dirname, '../fixtures/store');

async function schemaOf(db: Database): Promise<string[]> {
  const rows = await db.all<{ type: string; name: string; sql: string | null }>("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name");
  return rows.map((r) => `${r.type} ${r.name}: ${(r.sql ?? '').replace(/\s+/g, ' ').trim()}`);
}

let t: ReturnType<typeof tempDir>;
beforeEach(() => {
  t = tempDir('modelab-migrate-');
});
afterEach(() => t.cleanup());

describe('migrations', () => {
  it('are numbered 1, 2, … without gaps', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    expect(SCHEMA_VERSION).toBe(MIGRATIONS.length);
  });

  it('create the latest schema in an empty database: WAL, foreign keys, application id', async () => {
    const file = path.join(t.dir, 'new', 'history.sqlite');
    const db = await openDatabase(file);
    expect((await db.get<{ user_version: number }>('PRAGMA user_version'))!.user_version).toBe(SCHEMA_VERSION);
    expect((await db.get<{ application_id: number }>('PRAGMA application_id'))!.application_id).toBe(APPLICATION_ID);
    expect((await db.get<{ journal_mode: string }>('PRAGMA journal_mode'))!.journal_mode).toBe('wal');
    expect((await db.get<{ foreign_keys: number }>('PRAGMA foreign_keys'))!.foreign_keys).toBe(1);
    const tables = (await db.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")).map((r) => r.name);
    expect(tables).toEqual(['artifact_refs', 'artifacts', 'checkpoints', 'curve_points', 'endpoints', 'path_points', 'paths', 'run_planes', 'run_tags', 'runs', 'studies', 'study_runs']);
    await db.close();
    // No backup for a new database.
    expect(readdirSync(path.dirname(file)).filter((f) => f.includes('backup'))).toEqual([]);
  });

  it('a zero-length file is an empty database', async () => {
    const file = path.join(t.dir, 'empty.sqlite');
    writeFileSync(file, '');
    const db = await openDatabase(file);
    expect((await db.get<{ user_version: number }>('PRAGMA user_version'))!.user_version).toBe(SCHEMA_VERSION);
    await db.close();
  });

  it('there is a fixture for every earlier schema version', () => {
    for (let v = 1; v < SCHEMA_VERSION; v++) expect(existsSync(path.join(fixtures, `v${v}.sql`)), `test/fixtures/store/v${v}.sql`).toBe(true);
  });

  const fresh = async (): Promise<string[]> => {
    const db = await openDatabase(path.join(t.dir, 'fresh.sqlite'));
    const s = await schemaOf(db);
    await db.close();
    return s;
  };

  for (let v = 1; v < SCHEMA_VERSION; v++) {
    it(`migrate a version ${v} database: data kept, schema as new, backup first`, async () => {
      const file = path.join(t.dir, 'history.sqlite');
      await databaseFromSql(file, readFileSync(path.join(fixtures, `v${v}.sql`), 'utf8'));
      const before = sha256File(file);

      const store = await HistoryStore.open({ db: file });
      const db = store.db;
      expect((await db.get<{ user_version: number }>('PRAGMA user_version'))!.user_version).toBe(SCHEMA_VERSION);
      expect(await schemaOf(db)).toEqual(await fresh());
      expect(await db.all('PRAGMA foreign_key_check')).toEqual([]);
      expect((await db.get<{ integrity_check: string }>('PRAGMA integrity_check'))!.integrity_check).toBe('ok');

      // Every run is still there, with what it held.
      const all = await store.list({ sort: 'created', order: 'asc' });
      expect(all.runs.map((r) => [r.id, r.status])).toEqual([
        ['01fixture0000001', 'finished'],
        ['01fixture0000002', 'failed'],
        ['01fixture0000003', 'crashed'], // 'running' without a job process: crashed from version 3 on
        ['01fixture0000004', 'cancelled'],
      ]);
      const d = await store.get('01fixture0000001');
      expect(d.endpoints.map((e) => [e.name, e.test.acc, e.training.curve.length])).toEqual([
        ['A', 0.96, 5],
        ['B', 0.96, 5],
      ]);
      expect(d.paths[0]!.points.map((p) => p.t)).toEqual([0, 0.5, 1]);
      expect(d.artifacts.map((a) => a.role)).toEqual(['endpoint:A', 'endpoint:B', 'path:linear']);
      expect((await store.get('01fixture0000003')).curves['A']).toHaveLength(5);
      expect((await store.get('01fixture0000002')).error).toBe('loss became NaN');
      if (v >= 3) {
        const c = await store.get('01fixture0000003');
        expect(c.error).toMatch(/pid 4242/);
        expect(c.finishedAt).toBe('2026-03-01T10:05:00.000Z');
      }
      // Version 4: no plane and no checkpoints yet, and both can be saved.
      expect(d.plane).toBeNull();
      expect(d.checkpoints).toEqual([]);
      await store.savePlane('01fixture0000001', { seconds: 1 } as never);
      await store.saveCheckpoint('01fixture0000003', { endpoint: 'A', epoch: 1, step: 5 }, store.artifacts.stage(Buffer.from('weights')));
      const c3 = await store.get('01fixture0000003');
      expect(c3.checkpoints).toEqual([{ endpoint: 'A', epoch: 1, step: 5 }]);
      expect(c3.artifacts.map((a) => a.role)).toEqual(['checkpoint:A']);
      expect((await store.get('01fixture0000001')).plane).toEqual({ seconds: 1 });
      if (v >= 2) {
        expect(d.tags).toEqual(['baseline', 'paper']);
        expect(d.notes).toBe("baseline for the paper's Fig. 3");
        expect(d.colour).toBe('#1f77b4');
      }
      // Version 6: each check's state — from the stored document's state (a version 5 WARNING, check_pass 0, stays a
      // warning) or else from check_pass.
      expect(await db.all('SELECT name, check_pass, check_state FROM paths ORDER BY idx')).toEqual([
        { name: 'linear', check_pass: 1, check_state: 'pass' },
        ...(v >= 5 ? [{ name: 'theorem2', check_pass: 0, check_state: 'warning' }] : []),
      ]);
      // The new columns and indexes work.
      expect((await store.list({ tags: ['paper'], status: ['finished'] })).total).toBe(v >= 2 ? 1 : 0);
      await store.markStarted('01fixture0000001', 1);
      await store.close();

      // A backup of the version v file, as it was, beside it.
      const backups = readdirSync(t.dir).filter((f) => f.startsWith(`history.backup-v${v}-`));
      expect(backups).toHaveLength(1);
      const b = await Database.open(path.join(t.dir, backups[0]!), { readonly: true });
      expect((await b.get<{ user_version: number }>('PRAGMA user_version'))!.user_version).toBe(v);
      expect((await b.get<{ n: number }>('SELECT count(*) AS n FROM runs'))!.n).toBe(4);
      await b.close();
      expect(sha256File(file)).not.toBe(before);
    });
  }

  it('a database already at the latest version is opened without a backup and twice in a row', async () => {
    const file = path.join(t.dir, 'h.sqlite');
    await (await HistoryStore.open({ db: file })).close();
    await (await HistoryStore.open({ db: file })).close();
    expect(readdirSync(t.dir).filter((f) => f.includes('backup'))).toEqual([]);
  });

  it('a database from a newer ModeLab is refused with a clear message and left untouched', async () => {
    const file = path.join(t.dir, 'future.sqlite');
    const db0 = await openDatabase(file);
    await db0.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 5}`);
    await db0.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    await db0.exec('PRAGMA journal_mode = DELETE');
    await db0.close();
    const before = sha256File(file);
    const err = await HistoryStore.open({ db: file }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseFileError);
    expect((err as Error).message).toMatch(new RegExp(`newer ModeLab \\(history schema version ${SCHEMA_VERSION + 5}; this ModeLab reads up to version ${SCHEMA_VERSION}\\)`));
    expect((err as Error).message).toMatch(/did not change it/);
    expect(sha256File(file)).toBe(before);
    expect(readdirSync(t.dir).filter((f) => f.includes('backup'))).toEqual([]);
  });
});
