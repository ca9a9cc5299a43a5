/** storageError: SQLite's and the file system's codes in plain words that name the path; anything else unchanged. */
import { describe, expect, it } from 'vitest';
import { DatabaseFileError, StorageError, isDiskFull, storageError } from '../../src-main/store/errors';

const fail = (code: string, message = `${code}: something`, path?: string): Error => Object.assign(new Error(message), { code, ...(path ? { path } : {}) });

describe('storageError', () => {
  it('a full disk, from SQLite or the file system', () => {
    for (const e of [fail('SQLITE_FULL'), fail('ENOSPC')]) {
      const s = storageError(e, '/data/history.sqlite');
      expect(s).toBeInstanceOf(StorageError);
      expect((s as Error).message).toBe('no space left on the disk holding /data/history.sqlite');
      expect(isDiskFull(s)).toBe(true);
    }
  });

  it('names the path of a file-system error over the fallback', () => {
    const s = storageError(fail('ENOSPC', 'ENOSPC: no space left on device, write', '/data/h.artifacts/tmp/x.tmp'), '/data/h.sqlite') as Error;
    expect(s.message).toBe('no space left on the disk holding /data/h.artifacts/tmp/x.tmp');
  });

  it('an I/O error on a disk with room is an I/O error, not a full disk', () => {
    const s = storageError(fail('SQLITE_IOERR', 'SQLITE_IOERR: disk I/O error'), process.cwd()) as StorageError;
    expect(s.code).toBe('EIO');
    expect(s.message).toBe(`a disk I/O error on ${process.cwd()} (disk I/O error)`);
  });

  it('read-only, permission, corruption', () => {
    expect((storageError(fail('SQLITE_READONLY'), '/h.sqlite') as Error).message).toMatch(/^the history \/h\.sqlite is read-only here: read commands/);
    expect((storageError(fail('EROFS', 'x', '/mnt/out.json'), '/h.sqlite') as Error).message).toBe('cannot write /mnt/out.json: its disk is read-only');
    expect((storageError(fail('EACCES', 'x', '/etc/x'), '/h.sqlite') as Error).message).toBe('permission denied: /etc/x');
    const c = storageError(fail('SQLITE_CORRUPT', 'SQLITE_CORRUPT: database disk image is malformed'), '/h.sqlite');
    expect(c).toBeInstanceOf(DatabaseFileError);
    expect((c as Error).message).toBe(
      '/h.sqlite: the database is corrupt (database disk image is malformed). ModeLab did not change it. Restore one of its backups (*.backup-v*.sqlite beside it), or use --db to pick another database.',
    );
  });

  it('leaves other errors as they are', () => {
    const busy = fail('SQLITE_BUSY');
    const plain = new Error('boom');
    expect(storageError(busy, '/h.sqlite')).toBe(busy);
    expect(storageError(plain, '/h.sqlite')).toBe(plain);
  });
});
