/**
 * `mkdir -p` that always ends. Node's `mkdirSync(dir, { recursive: true })` loops forever when mkdir answers ENOENT
 * although the parent exists — as /proc, /sys and other pseudo file systems do (`mkdir /proc/nope` → ENOENT,
 * `mkdir /proc` → EEXIST, repeat): `modelab list --db /proc/nope/h.sqlite` spun at full CPU. Here the nearest
 * existing ancestor is found by stat (one step per path component), then each missing folder is made once, and the
 * first error is thrown as it is.
 */
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';

function code(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | null)?.code;
}

function notADirectory(p: string): NodeJS.ErrnoException {
  const e = new Error(`ENOTDIR: not a directory, '${p}' is a file`) as NodeJS.ErrnoException;
  e.code = 'ENOTDIR';
  e.path = p;
  return e;
}

/** Makes `dir` and any missing parents. Throws ENOTDIR when a file is in the way, or mkdir's own error. */
export function makeDirs(dir: string): void {
  const missing: string[] = [];
  for (let p = path.resolve(dir); ; ) {
    try {
      if (!statSync(p).isDirectory()) throw notADirectory(p);
      break;
    } catch (e) {
      if (code(e) !== 'ENOENT') throw e;
    }
    missing.push(p);
    const parent = path.dirname(p);
    if (parent === p) break; // a missing root (a Windows drive): mkdir below reports it
    p = parent;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (e) {
      if (code(e) === 'EEXIST' && statSync(d).isDirectory()) continue; // made meanwhile by another process
      throw e;
    }
  }
}
