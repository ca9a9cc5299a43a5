/**
 * Opening the history database: refuse files that are not ModeLab's SQLite databases (or come from a newer ModeLab)
 * without writing a byte to them, then set WAL, foreign keys and the busy timeout, and migrate by PRAGMA user_version —
 * each migration in its own transaction, after a backup copy of the file (VACUUM INTO).
 */
import { accessSync, closeSync, constants, existsSync, openSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { makeDirs } from '../engine/io/mkdirs';
import { DatabaseFileError, RESTORE_ADVICE, StorageError, isDiskFull, readOnlyHistoryMessage, storageError, untouchedFileError } from './errors';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations';
import { Database, sqliteCode } from './sqlite';

/** PRAGMA application_id of a ModeLab history ('MLAB'). */
export const APPLICATION_ID = 0x4d4c4142;

const HEADER = Buffer.from('SQLite format 3\0', 'latin1');

export interface OpenDatabaseOptions {
  busyTimeoutMs?: number;
  /** Take a backup copy before migrating an existing database (default true). */
  backup?: boolean;
}

function readHeader(file: string): Buffer {
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(100);
    const n = readSync(fd, b, 0, 100, 0);
    return b.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

function describeSqliteFailure(file: string, e: unknown): unknown {
  if (sqliteCode(e) === 'SQLITE_CANTOPEN') return new DatabaseFileError(`${file}: cannot open the history database (${(e as Error).message})`);
  return storageError(e, file);
}

/** Whether SQLite can write `file` and create its -wal and -shm files beside it (root passes unless the disk is read-only). */
function writable(file: string): boolean {
  try {
    accessSync(file, constants.W_OK);
    accessSync(path.dirname(file), constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Opens (creating or migrating as needed) the history database at `file`. An existing file that cannot be written here
 * (a read-only disk or file, no permission, a full disk) is opened read-only (Database.readonly).
 */
export async function openDatabase(file: string, opts: OpenDatabaseOptions = {}): Promise<Database> {
  const existed = existsSync(file);
  if (existed) {
    if (statSync(file).isDirectory()) throw new DatabaseFileError(`${file} is a folder, not a database file`);
    const h = readHeader(file);
    if (h.length > 0 && (h.length < 100 || !h.subarray(0, 16).equals(HEADER))) {
      throw untouchedFileError(file, 'not an SQLite database (its header is not "SQLite format 3")');
    }
    // Read commands still work on a history this process cannot write (its first write says so: errors.ts).
    if (!writable(file)) return openReadOnly(file, opts);
  } else {
    try {
      makeDirs(path.dirname(file));
    } catch (e) {
      throw new DatabaseFileError(`cannot create the history database ${file}: ${(e as Error).message}`);
    }
  }
  try {
    return await openReadWrite(file, existed, opts);
  } catch (e) {
    // A full disk (SQLite cannot make its -shm file): reading still works without writing a byte.
    if (existed && e instanceof StorageError) return openReadOnly(file, opts, e);
    throw e;
  }
}

/**
 * Opens an existing history read-only. Without its -shm file, on a read-only or full disk, SQLite cannot open it even to
 * read: then, when no write-ahead log holds changes not yet in the file, the file is read as immutable (on such a disk
 * nobody writes to it meanwhile). `why`: what made the read-write open fail (a full disk), what writes then report.
 */
async function openReadOnly(file: string, opts: OpenDatabaseOptions, why?: StorageError): Promise<Database> {
  try {
    return await readOnlyAs(file, opts, false, why);
  } catch (e) {
    if (walHasChanges(file)) throw e;
    return readOnlyAs(file, opts, true, why ?? (isDiskFull(e) ? (e as StorageError) : undefined)).catch(() => {
      throw e;
    });
  }
}

function walHasChanges(file: string): boolean {
  try {
    return statSync(`${file}-wal`).size > 0;
  } catch {
    return false;
  }
}

async function readOnlyAs(file: string, opts: OpenDatabaseOptions, immutable: boolean, why?: StorageError): Promise<Database> {
  let db: Database;
  try {
    db = await Database.open(file, { readonly: true, immutable, readOnlyBecause: why, busyTimeoutMs: opts.busyTimeoutMs });
  } catch (e) {
    throw describeSqliteFailure(file, e);
  }
  try {
    const version = await checkOurs(db, file);
    if (version !== SCHEMA_VERSION) {
      throw why ?? new StorageError(`${readOnlyHistoryMessage(file)}; but it is in an older format (version ${version}) that must be updated by writing to it first`, 'EROFS');
    }
    await db.exec('PRAGMA foreign_keys = ON');
    return db;
  } catch (e) {
    await db.close().catch(() => undefined);
    throw describeSqliteFailure(file, e);
  }
}

/**
 * Read-only checks: nothing writes until the file is known to be ours and not too new. One read transaction, so a
 * process migrating the same file at this moment cannot show us a half-made picture. Returns the schema version.
 */
async function checkOurs(db: Database, file: string): Promise<number> {
  const { version, appId, tables } = await db.read(async (sql) => ({
    version: (await sql.get<{ user_version: number }>('PRAGMA user_version'))!.user_version,
    appId: (await sql.get<{ application_id: number }>('PRAGMA application_id'))!.application_id,
    tables: (await sql.get<{ n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'"))!.n,
  }));
  if (appId !== 0 && appId !== APPLICATION_ID) throw untouchedFileError(file, `not a ModeLab history (application_id ${appId})`);
  if (version === 0 && tables > 0) throw untouchedFileError(file, 'an SQLite database, but not a ModeLab history (it has tables but no ModeLab schema version)');
  if (version > SCHEMA_VERSION) {
    throw untouchedFileError(
      file,
      `written by a newer ModeLab (history schema version ${version}; this ModeLab reads up to version ${SCHEMA_VERSION})`,
      'Update ModeLab to open it, or use --db to pick another database.',
    );
  }
  return version;
}

async function openReadWrite(file: string, existed: boolean, opts: OpenDatabaseOptions): Promise<Database> {
  let db: Database;
  try {
    db = await Database.open(file, { create: !existed, busyTimeoutMs: opts.busyTimeoutMs });
  } catch (e) {
    throw describeSqliteFailure(file, e);
  }
  try {
    const version = await checkOurs(db, file);
    if (version > 0 && version < SCHEMA_VERSION) {
      const check = await db.all<{ quick_check: string }>('PRAGMA quick_check');
      if (check.length !== 1 || check[0]!.quick_check !== 'ok') {
        throw untouchedFileError(file, `the database is corrupt (${check.slice(0, 3).map((r) => r.quick_check).join('; ')})`, RESTORE_ADVICE);
      }
    }

    await db.exec('PRAGMA journal_mode = WAL');
    await db.exec('PRAGMA synchronous = NORMAL');
    await db.exec('PRAGMA foreign_keys = ON');

    if (version < SCHEMA_VERSION) await migrate(db, file, version, opts.backup ?? true);
    return db;
  } catch (e) {
    await db.close().catch(() => undefined);
    throw describeSqliteFailure(file, e);
  }
}

/** Where a backup of `file` at schema `version` goes (beside it, never overwriting an earlier one). */
export function backupPath(file: string, version: number, now = new Date()): string {
  const ext = path.extname(file);
  const stem = ext ? file.slice(0, -ext.length) : file;
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  let p = `${stem}.backup-v${version}-${stamp}${ext || '.sqlite'}`;
  for (let k = 2; existsSync(p); k++) p = `${stem}.backup-v${version}-${stamp}-${k}${ext || '.sqlite'}`;
  return p;
}

async function migrate(db: Database, file: string, from: number, backup: boolean): Promise<void> {
  if (from > 0 && backup) {
    const to = backupPath(file, from);
    await db.run('VACUUM INTO ?', [to]);
  }
  for (const m of MIGRATIONS) {
    if (m.version <= from) continue;
    if (m.foreignKeysOff) await db.exec('PRAGMA foreign_keys = OFF');
    try {
      await db.transaction(async (sql) => {
        // Another process may have migrated while we waited for the write lock.
        const now = (await sql.get<{ user_version: number }>('PRAGMA user_version'))!.user_version;
        if (now >= m.version) return;
        await m.up(sql);
        if (m.foreignKeysOff) {
          const bad = await sql.all('PRAGMA foreign_key_check');
          if (bad.length) throw new Error(`migration ${m.version} (${m.name}) broke ${bad.length} foreign key references`);
        }
        await sql.exec(`PRAGMA user_version = ${m.version}`);
      });
    } finally {
      if (m.foreignKeysOff) await db.exec('PRAGMA foreign_keys = ON');
    }
  }
}
