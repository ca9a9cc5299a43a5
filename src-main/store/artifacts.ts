/**
 * The content-addressed artifact folder: weights and path vertices as safetensors files named by the sha256 of their
 * bytes, `<dir>/<aa>/<sha256>`. Files are staged (written to `<dir>/tmp/`, fsynced) by whichever process produced
 * the bytes — usually the job process — and then placed (renamed into place, or dropped when the same content is
 * already there) by the process recording the reference, inside the database transaction that records it. Removal
 * happens under the same write lock, only for hashes no row refers to, so a placement and a removal never race.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  rmdirSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { makeDirs } from '../engine/io/mkdirs';

/** Bytes written to the staging folder, not yet part of the store. */
export interface StagedArtifact {
  hash: string;
  size: number;
  /** Absolute path of the staged file. */
  file: string;
}

/**
 * Writes a whole file and fsyncs it. Throws the file system's error (ENOSPC, EROFS, EACCES …) unchanged.
 * MODELAB_FAULT_INJECT=artifact-write:<CODE> makes every artifact write fail with that code (fault tests).
 */
export function writeAndSync(file: string, data: Uint8Array): void {
  const fault = process.env['MODELAB_FAULT_INJECT'];
  if (fault?.startsWith('artifact-write:')) {
    const code = fault.slice('artifact-write:'.length) || 'ENOSPC';
    const e = new Error(`${code}: injected fault, write '${file}'`) as NodeJS.ErrnoException;
    e.code = code;
    throw e;
  }
  const fd = openSync(file, 'w');
  try {
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off, data.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some platforms (Windows) cannot open folders; the rename is still atomic there.
  }
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export class ArtifactStore {
  readonly tmpDir: string;

  constructor(readonly dir: string) {
    this.tmpDir = path.join(dir, 'tmp');
  }

  pathOf(hash: string): string {
    if (!/^[0-9a-f]{64}$/.test(hash)) throw new Error(`not an artifact hash: ${hash}`);
    return path.join(this.dir, hash.slice(0, 2), hash);
  }

  has(hash: string): boolean {
    return existsSync(this.pathOf(hash));
  }

  read(hash: string): Buffer {
    return readFileSync(this.pathOf(hash));
  }

  /** Writes bytes to the staging folder (fsynced). Any process may stage. */
  stage(data: Uint8Array): StagedArtifact {
    makeDirs(this.tmpDir);
    const hash = sha256Hex(data);
    const file = path.join(this.tmpDir, `${hash.slice(0, 16)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      writeAndSync(file, data);
    } catch (e) {
      rmSync(file, { force: true });
      throw e;
    }
    return { hash, size: data.length, file };
  }

  /**
   * Moves a staged file into place (or drops it when the content is already stored). Call under the database's
   * write lock, in the transaction that records the reference. Verifies the staged bytes still hash to `hash`.
   */
  place(staged: StagedArtifact): void {
    const target = this.pathOf(staged.hash);
    if (existsSync(target)) {
      rmSync(staged.file, { force: true });
      return;
    }
    if (!existsSync(staged.file)) throw new Error(`staged artifact ${staged.file} is missing`);
    const actual = sha256Hex(readFileSync(staged.file));
    if (actual !== staged.hash) throw new Error(`staged artifact ${staged.file} does not match its hash`);
    makeDirs(path.dirname(target));
    renameSync(staged.file, target);
    fsyncDir(path.dirname(target));
  }

  /** Writes bytes straight into place (import, tests). Call under the write lock. */
  put(data: Uint8Array): { hash: string; size: number } {
    const s = this.stage(data);
    this.place(s);
    return { hash: s.hash, size: s.size };
  }

  /** Deletes a stored file. Call under the write lock, for a hash no row refers to any more. */
  remove(hash: string): void {
    const p = this.pathOf(hash);
    if (existsSync(p)) unlinkSync(p);
    try {
      rmdirSync(path.dirname(p));
    } catch {
      // not empty (or already gone)
    }
  }

  discard(staged: StagedArtifact): void {
    rmSync(staged.file, { force: true });
  }

  /** Every stored hash on disk (for garbage collection and checks). */
  listStored(): string[] {
    if (!existsSync(this.dir)) return [];
    const out: string[] = [];
    for (const d of readdirSync(this.dir)) {
      if (!/^[0-9a-f]{2}$/.test(d)) continue;
      for (const f of readdirSync(path.join(this.dir, d))) if (/^[0-9a-f]{64}$/.test(f)) out.push(f);
    }
    return out;
  }

  /** Staged files older than `olderThanMs` (left by crashed processes). */
  staleStaged(olderThanMs: number, now = Date.now()): string[] {
    if (!existsSync(this.tmpDir)) return [];
    return readdirSync(this.tmpDir)
      .map((f) => path.join(this.tmpDir, f))
      .filter((f) => {
        try {
          return now - statSync(f).mtimeMs > olderThanMs;
        } catch {
          return false;
        }
      });
  }
}
