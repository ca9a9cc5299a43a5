/**
 * A small promise layer over the `sqlite3` package (Node-API: one binary for Node and Electron).
 *
 * One connection per process. Every statement and every transaction goes through one queue, so a transaction's
 * statements never interleave with another caller's. Write transactions start with BEGIN IMMEDIATE (they take the
 * write lock up front: no deadlock when two processes upgrade read locks), wait through the busy timeout, and are
 * retried whole when SQLite still answers SQLITE_BUSY.
 */
import { pathToFileURL } from 'node:url';
import sqlite3 from 'sqlite3';
import { storageError } from './errors';

export type SqlValue = string | number | bigint | null | Buffer;
export type Row = Record<string, unknown>;

/** An error from SQLite, with its code ('SQLITE_BUSY', 'SQLITE_CORRUPT', …). */
export interface SqliteError extends Error {
  code?: string;
  errno?: number;
}

export function sqliteCode(e: unknown): string | undefined {
  return (e as SqliteError | null)?.code;
}

/** The statements a transaction body may run (no nested locking). */
export interface Sql {
  run(sql: string, params?: SqlValue[]): Promise<{ changes: number; lastID: number }>;
  get<T = Row>(sql: string, params?: SqlValue[]): Promise<T | undefined>;
  all<T = Row>(sql: string, params?: SqlValue[]): Promise<T[]>;
  exec(sql: string): Promise<void>;
}

export interface OpenOptions {
  /** Create the file if it does not exist (default false). */
  create?: boolean;
  readonly?: boolean;
  /** Read-only, and promise SQLite that nobody changes the file meanwhile: no locks, no -shm file (a full disk, where
   *  SQLite cannot make one and nobody can write anyway). */
  immutable?: boolean;
  /** Why a read-only connection is read-only (a full disk): what its writes fail with, instead of SQLITE_READONLY. */
  readOnlyBecause?: Error;
  /** Milliseconds a statement waits for another process's lock (default 30 s). */
  busyTimeoutMs?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class Database implements Sql {
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly raw: sqlite3.Database,
    readonly file: string,
    readonly busyTimeoutMs: number,
    /** Opened with SQLITE_OPEN_READONLY: every write fails (with a StorageError that says so). */
    readonly readonly: boolean,
    private readonly readOnlyBecause: Error | undefined,
  ) {}

  static open(file: string, opts: OpenOptions = {}): Promise<Database> {
    const readonly = Boolean(opts.readonly || opts.immutable);
    const mode = opts.immutable
      ? sqlite3.OPEN_READONLY | sqlite3.OPEN_URI
      : readonly
        ? sqlite3.OPEN_READONLY
        : sqlite3.OPEN_READWRITE | (opts.create ? sqlite3.OPEN_CREATE : 0);
    const name = opts.immutable ? `${pathToFileURL(file).href}?immutable=1` : file;
    const busy = opts.busyTimeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      const raw = new sqlite3.Database(name, mode, (err) => {
        if (err) reject(err);
        else {
          raw.configure('busyTimeout', busy);
          resolve(new Database(raw, file, busy, readonly, opts.readOnlyBecause));
        }
      });
    });
  }

  // Unlocked primitives.
  private rawRun(sql: string, params: SqlValue[] = []): Promise<{ changes: number; lastID: number }> {
    return new Promise((resolve, reject) => {
      this.raw.run(sql, params, function (err) {
        if (err) reject(err);
        else resolve({ changes: this.changes, lastID: this.lastID });
      });
    });
  }

  private rawGet<T>(sql: string, params: SqlValue[] = []): Promise<T | undefined> {
    return new Promise((resolve, reject) => {
      this.raw.get(sql, params, (err: Error | null, row: T | undefined) => (err ? reject(err) : resolve(row)));
    });
  }

  private rawAll<T>(sql: string, params: SqlValue[] = []): Promise<T[]> {
    return new Promise((resolve, reject) => {
      this.raw.all(sql, params, (err: Error | null, rows: T[]) => (err ? reject(err) : resolve(rows)));
    });
  }

  private rawExec(sql: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.raw.exec(sql, (err) => (err ? reject(err) : resolve()));
    });
  }

  private readonly unlocked: Sql = {
    run: (sql, params) => this.rawRun(sql, params),
    get: <T>(sql: string, params?: SqlValue[]) => this.rawGet<T>(sql, params),
    all: <T>(sql: string, params?: SqlValue[]) => this.rawAll<T>(sql, params),
    exec: (sql) => this.rawExec(sql),
  };

  /** Runs f alone on this connection. Storage failures come out in plain words, naming the file (errors.ts). */
  locked<T>(f: (sql: Sql) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error(`the history database ${this.file} is closed`));
    const p = this.queue
      .then(() => f(this.unlocked))
      .catch((e: unknown) => {
        throw this.readOnlyBecause && sqliteCode(e) === 'SQLITE_READONLY' ? this.readOnlyBecause : storageError(e, this.file);
      });
    this.queue = p.catch(() => undefined);
    return p;
  }

  run(sql: string, params?: SqlValue[]): Promise<{ changes: number; lastID: number }> {
    return this.locked((s) => s.run(sql, params));
  }

  get<T = Row>(sql: string, params?: SqlValue[]): Promise<T | undefined> {
    return this.locked((s) => s.get<T>(sql, params));
  }

  all<T = Row>(sql: string, params?: SqlValue[]): Promise<T[]> {
    return this.locked((s) => s.all<T>(sql, params));
  }

  exec(sql: string): Promise<void> {
    return this.locked((s) => s.exec(sql));
  }

  /** A read transaction: every statement of f sees the same snapshot (other processes may write meanwhile). */
  read<T>(f: (sql: Sql) => Promise<T>): Promise<T> {
    return this.locked(async (s) => {
      await s.exec('BEGIN');
      try {
        return await f(s);
      } finally {
        await s.exec('COMMIT').catch(() => undefined);
      }
    });
  }

  /**
   * A write transaction: BEGIN IMMEDIATE … COMMIT, rolled back when f throws. When another process holds the write
   * lock past the busy timeout, or SQLite reports SQLITE_BUSY for another reason, the whole transaction is retried
   * (f must therefore be safe to run again: it only touches the database and files it checks under the lock).
   */
  transaction<T>(f: (sql: Sql) => Promise<T>): Promise<T> {
    return this.locked(async (s) => {
      const deadline = Date.now() + Math.max(this.busyTimeoutMs, 1000) * 2;
      for (let attempt = 0; ; attempt++) {
        try {
          await s.exec('BEGIN IMMEDIATE');
        } catch (e) {
          if (sqliteCode(e) === 'SQLITE_BUSY' && Date.now() < deadline) {
            await sleep(Math.min(500, 10 * 2 ** attempt) * (0.5 + Math.random()));
            continue;
          }
          throw e;
        }
        try {
          const out = await f(s);
          await s.exec('COMMIT');
          return out;
        } catch (e) {
          await s.exec('ROLLBACK').catch(() => undefined);
          if (sqliteCode(e) === 'SQLITE_BUSY' && Date.now() < deadline) {
            await sleep(Math.min(500, 10 * 2 ** attempt) * (0.5 + Math.random()));
            continue;
          }
          throw e;
        }
      }
    });
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    const p = this.queue.then(
      () =>
        new Promise<void>((resolve, reject) => {
          this.raw.close((err) => (err ? reject(err) : resolve()));
        }),
    );
    this.closed = true;
    return p;
  }
}
