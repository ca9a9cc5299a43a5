/**
 * `--out` destinations checked before any work starts: a run or an export must not compute for minutes and then fail
 * because the place it writes to is a folder, a file, missing, read-only or not allowed.
 */
import { closeSync, existsSync, openSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { InputError } from '../engine/util/errors';
import { fsReason } from '../store/errors';

/**
 * Checks that `out` can be written as a `file` (its folder must exist) or a `folder` (made with its parents as
 * needed), by creating and removing a probe file where the output goes. Throws a one-line InputError.
 */
export function checkOutPath(out: string, as: 'file' | 'folder'): void {
  const target = path.resolve(out);
  const st = statSync(target, { throwIfNoEntry: false });
  if (st && as === 'file' && st.isDirectory()) throw new InputError(`--out ${out} is a folder: give a file name`);
  if (st && as === 'folder' && !st.isDirectory()) throw new InputError(`--out ${out} is a file, not a folder`);
  let dir = st && as === 'folder' ? target : path.dirname(target);
  if (as === 'file' && !existsSync(dir)) throw new InputError(`--out ${out}: the folder ${dir} does not exist`);
  while (!existsSync(dir)) dir = path.dirname(dir);
  if (!statSync(dir).isDirectory()) throw new InputError(`--out ${out}: ${dir} is not a folder`);
  const probe = path.join(dir, `.modelab-write-check-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    closeSync(openSync(probe, 'wx'));
  } catch (e) {
    const code = (e as { code?: string }).code ?? '';
    // ENOENT for a folder that exists: a file system where files cannot be made (/proc).
    const why = code === 'ENOENT' ? 'files cannot be made there' : (fsReason(code) ?? (e as Error).message);
    throw new InputError(`--out ${out} cannot be written: ${why} (in ${dir})`);
  }
  rmSync(probe, { force: true });
}
