/**
 * History errors the user can act on, and the one place that turns SQLite and file-system failures into plain words
 * that name the file.
 */
import { statfsSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../engine/util/errors';

/** The database file cannot be used (not SQLite, corrupt, from a newer ModeLab, not ModeLab's). It was not changed.
 *  An InputError: the CLI prints one line and exits with 2. */
export class DatabaseFileError extends InputError {
  override name = 'DatabaseFileError';
}

/** A database file refused as it is: `why`, that it was not changed, and what to do. */
export function untouchedFileError(file: string, why: string, advice = 'Use --db (or MODELAB_HOME) to pick another database.'): DatabaseFileError {
  return new DatabaseFileError(`${file}: ${why}. ModeLab did not change it. ${advice}`);
}

export const RESTORE_ADVICE = 'Restore one of its backups (*.backup-v*.sqlite beside it), or use --db to pick another database.';

/** No run with that id (or the prefix matches several). */
export class RunNotFoundError extends InputError {
  override name = 'RunNotFoundError';
}

/**
 * The disk refused a read or write: full, read-only, no permission, an I/O error. The message is one line and names the
 * path; `code` is the errno-style code of the cause (ENOSPC, EROFS, EACCES, EIO), so callers classify it as I/O. The
 * CLI prints it and exits with 1.
 */
export class StorageError extends Error {
  override name = 'StorageError';
  constructor(
    message: string,
    readonly code: 'ENOSPC' | 'EROFS' | 'EACCES' | 'EIO',
  ) {
    super(message);
  }
}

/** Below this many free bytes an I/O error on a disk is taken to be the disk running full. */
const NEARLY_FULL_BYTES = 256 * 1024;

/** Whether the file system holding `file` (or its nearest existing parent) has (almost) no space left. */
export function diskIsFull(file: string): boolean {
  for (let p = path.resolve(file); ; p = path.dirname(p)) {
    try {
      const s = statfsSync(p);
      return s.bavail * s.bsize < NEARLY_FULL_BYTES;
    } catch {
      if (path.dirname(p) === p) return false;
    }
  }
}

/** What a file-system error code means, in words (undefined for codes that are no file-system condition). */
export function fsReason(code: string): string | undefined {
  const words: Record<string, string> = {
    ENOSPC: 'no space left on its disk',
    EDQUOT: 'the disk quota is used up',
    EROFS: 'its disk is read-only',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EISDIR: 'it is a folder',
    ENOTDIR: 'a part of the path is not a folder',
    ENOENT: 'a folder on the path does not exist',
    EEXIST: 'it already exists',
    ENAMETOOLONG: 'the name is too long',
    EINVAL: 'this file system does not allow it',
    EIO: 'a disk I/O error',
  };
  return words[code];
}

export const readOnlyHistoryMessage = (file: string): string =>
  `the history ${file} is read-only here: read commands (list, show, export) still work, commands that change it do not`;

export const noSpaceMessage = (file: string): string => `no space left on the disk holding ${file}`;

/**
 * The plain-words error for a storage failure `e` while ModeLab read or wrote `file` (for an errno error, its own
 * `path` is named instead), or `e` itself when it is no storage failure. SQLite's codes: FULL, READONLY, PERM, IOERR
 * (a full disk shows as IOERR when SQLite cannot grow its shared-memory file), CORRUPT, NOTADB.
 */
export function storageError(e: unknown, file: string): unknown {
  if (e instanceof StorageError || e instanceof DatabaseFileError) return e;
  const err = e as (Error & { code?: unknown; path?: unknown }) | null;
  const code = typeof err?.code === 'string' ? err.code : '';
  const where = typeof err?.path === 'string' ? err.path : file;
  const detail = (err?.message ?? '').replace(/^SQLITE_[A-Z_]+: /, '').replace(/\s+/g, ' ');
  switch (code) {
    case 'SQLITE_FULL':
    case 'ENOSPC':
    case 'EDQUOT':
      return new StorageError(noSpaceMessage(where), 'ENOSPC');
    case 'SQLITE_IOERR':
    case 'EIO':
      return diskIsFull(where) ? new StorageError(noSpaceMessage(where), 'ENOSPC') : new StorageError(`a disk I/O error on ${where} (${detail})`, 'EIO');
    case 'SQLITE_READONLY':
      return new StorageError(readOnlyHistoryMessage(where), 'EROFS');
    case 'EROFS':
      return new StorageError(`cannot write ${where}: ${fsReason('EROFS')}`, 'EROFS');
    case 'SQLITE_PERM':
    case 'EACCES':
    case 'EPERM':
      return new StorageError(`permission denied: ${where}`, 'EACCES');
    case 'SQLITE_CORRUPT':
      return untouchedFileError(where, `the database is corrupt (${detail})`, RESTORE_ADVICE);
    case 'SQLITE_NOTADB':
      return untouchedFileError(where, `not an SQLite database (${detail})`);
    default:
      return e;
  }
}

/** Whether `e` (as storageError returns it) says the disk is full. */
export const isDiskFull = (e: unknown): boolean => e instanceof StorageError && e.code === 'ENOSPC';
