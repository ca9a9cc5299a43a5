/** Deleting runs and collecting what no run refers to any more: artifact rows and files, stale staged files. */
import { ensureSpaceReserve } from './space-reserve';
import { type StoreParts, marks } from './store-parts';

/**
 * Removes the rows and files of artifacts no run refers to any more, under the write lock (a concurrent job placing
 * the same content either sees the file still there or places it again after us). Without `candidates`, every
 * artifact row without references.
 */
export async function dropOrphans(s: StoreParts, candidates?: string[]): Promise<number> {
  return s.db.transaction(async (sql) => {
    const orphans =
      candidates === undefined
        ? (await sql.all<{ hash: string }>('SELECT hash FROM artifacts a WHERE NOT EXISTS (SELECT 1 FROM artifact_refs r WHERE r.hash = a.hash)')).map((r) => r.hash)
        : candidates;
    let n = 0;
    for (const h of orphans) {
      if (await sql.get('SELECT 1 FROM artifact_refs WHERE hash = ? LIMIT 1', [h])) continue;
      await sql.run('DELETE FROM artifacts WHERE hash = ?', [h]);
      s.artifacts.remove(h);
      n++;
    }
    return n;
  });
}

/** Deletes runs (rows, curves, paths, tags) and every artifact file no other run refers to. */
export async function deleteRuns(s: StoreParts, ids: string[]): Promise<{ runs: number; artifactsRemoved: number }> {
  if (!ids.length) return { runs: 0, artifactsRemoved: 0 };
  const { runs, hashes } = await s.db.transaction(async (sql) => {
    const hashes = (await sql.all<{ hash: string }>(`SELECT DISTINCT hash FROM artifact_refs WHERE run_id IN (${marks(ids)})`, ids)).map((r) => r.hash);
    const r = await sql.run(`DELETE FROM runs WHERE id IN (${marks(ids)})`, ids);
    return { runs: r.changes, hashes };
  });
  const artifactsRemoved = await dropOrphans(s, hashes);
  return { runs, artifactsRemoved };
}

export interface GcOptions {
  /** Also remove stored files no row knows (a crash between placing a file and committing its row). */
  scanFiles?: boolean;
  /** Staged files older than this are left by crashed processes (default a day). */
  stagedOlderThanMs?: number;
}

/**
 * Housekeeping: artifact rows without references, staged files left by crashed processes (older than a day), and —
 * with `scanFiles` — stored files no row knows.
 */
export async function collectGarbage(s: StoreParts, opts: GcOptions = {}): Promise<{ orphans: number; staged: number; files: number }> {
  if (s.db.readonly) return { orphans: 0, staged: 0, files: 0 };
  ensureSpaceReserve(s.location);
  const orphans = await dropOrphans(s);
  let staged = 0;
  for (const f of s.artifacts.staleStaged(opts.stagedOlderThanMs ?? 86_400_000)) {
    s.artifacts.discard({ file: f, hash: '', size: 0 });
    staged++;
  }
  let files = 0;
  if (opts.scanFiles) {
    files = await s.db.transaction(async (sql) => {
      const known = new Set((await sql.all<{ hash: string }>('SELECT hash FROM artifacts')).map((r) => r.hash));
      let n = 0;
      for (const h of s.artifacts.listStored()) {
        if (!known.has(h)) {
          s.artifacts.remove(h);
          n++;
        }
      }
      return n;
    });
  }
  return { orphans, staged, files };
}
