/**
 * manifest.sha256: the SHA-256 of every other file of a bundle, one `<hex>  <path>` line each in path order — the
 * format `sha256sum` writes, so `sha256sum -c manifest.sha256` checks a bundle without ModeLab. Written on export,
 * verified on import. It catches damage and edits made after export; it cannot tell who wrote a bundle (anyone can
 * write a matching manifest), so import checks every file's content as well.
 */
import { createHash } from 'node:crypto';
import { closeSync, constants, openSync, readSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../engine/io/atomic';
import { InputError } from '../engine/util/errors';
import { NO_LIMITS, listTree } from './bundle-files';

export const MANIFEST = 'manifest.sha256';

const LINE = /^([0-9a-f]{64}) {2}(\S.*)$/;

/** The SHA-256 of a file, read in 1 MiB chunks (never through a symbolic link). */
export function sha256OfFile(file: string): string {
  const h = createHash('sha256');
  const fd = openSync(file, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  try {
    const buf = Buffer.alloc(1 << 20);
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

/** Writes `dir`/manifest.sha256 over every other file under `dir`. */
export function writeManifest(dir: string): void {
  const lines = listTree(dir, NO_LIMITS)
    .filter((f) => f.rel !== MANIFEST)
    .map((f) => `${sha256OfFile(path.join(dir, ...f.rel.split('/')))}  ${f.rel}\n`);
  writeFileAtomic(path.join(dir, MANIFEST), lines.join(''));
}

/**
 * Checks a manifest against the bundle's files (paths relative to the bundle, without the manifest itself): the same
 * set of files, no line twice. Returns each file's expected hash; the content is compared as each file is read.
 */
export function parseManifest(text: string, files: string[], where: string): Map<string, string> {
  const expected = new Map<string, string>();
  for (const [i, line] of text.split('\n').entries()) {
    if (line === '') continue;
    const m = LINE.exec(line);
    if (!m) throw new InputError(`${where}/${MANIFEST}: line ${i + 1} is not '<sha256>  <path>'`);
    if (expected.has(m[2]!)) throw new InputError(`${where}/${MANIFEST}: '${m[2]}' is listed twice`);
    expected.set(m[2]!, m[1]!);
  }
  const present = new Set(files);
  for (const f of expected.keys()) if (!present.has(f)) throw new InputError(`${where}: '${f}' is listed in ${MANIFEST} but missing from the bundle`);
  for (const f of files) if (!expected.has(f)) throw new InputError(`${where}: '${f}' is not listed in ${MANIFEST} (added after export?)`);
  return expected;
}
