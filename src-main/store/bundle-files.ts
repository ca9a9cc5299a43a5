/**
 * The files of a bundle, read as untrusted input. A bundle folder (given, or unpacked from a zip into a staging folder)
 * may hold only plain files and folders: symbolic links, devices, FIFOs and sockets are refused, never followed, and
 * unzipping never creates one. Sizes are limited per file and in total, counted on the bytes actually read or
 * unpacked (a zip's declared sizes are checked too, but not trusted). Every refusal is an InputError naming the entry.
 */
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readSync, readdirSync, statSync, writeSync, type Stats } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { InputError } from '../engine/util/errors';

export interface BundleLimits {
  /** Bytes of one file. */
  entryBytes: number;
  /** Bytes of all files of one import (a folder or zip of several bundles included). */
  totalBytes: number;
  /** Files and folders of one import. */
  entries: number;
}

const GiB = 1024 ** 3;

/**
 * The largest file a preset's run makes is eval-data.safetensors of cifar10-vgg11-paper evaluated exactly
 * (50,000 + 10,000 images of 32×32×3 float32: 737.5 MB); its endpoint weights are 39 MB each (9.75 M parameters). 1 GiB a file leaves room
 * for that; 8 GiB in all for a zip of several such runs.
 */
export const BUNDLE_LIMITS: BundleLimits = { entryBytes: 1 * GiB, totalBytes: 8 * GiB, entries: 100_000 };
/** For listing what this process wrote itself (export): links and special files are still refused. */
export const NO_LIMITS: BundleLimits = { entryBytes: Infinity, totalBytes: Infinity, entries: Infinity };

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

const mb = (n: number): string => `${(n / 1e6).toFixed(n < 1e7 ? 1 : 0)} MB`;

function kindOf(s: Stats): string {
  if (s.isSymbolicLink()) return 'a symbolic link';
  if (s.isCharacterDevice()) return 'a character device';
  if (s.isBlockDevice()) return 'a block device';
  if (s.isFIFO()) return 'a FIFO';
  if (s.isSocket()) return 'a socket';
  return 'not a plain file';
}

function modeKind(mode: number): string {
  const t = mode & S_IFMT;
  if (t === S_IFLNK) return 'a symbolic link';
  if (t === 0o020000) return 'a character device';
  if (t === 0o060000) return 'a block device';
  if (t === 0o010000) return 'a FIFO';
  if (t === 0o140000) return 'a socket';
  return `of file type 0${t.toString(8)}`;
}

/** What `src` is: a folder, or a zip file (by its first bytes, whatever its name). Anything else is refused. */
export function sourceKind(src: string): 'folder' | 'zip' {
  let s: Stats;
  try {
    s = statSync(src);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new InputError(`bundle not found: ${src}`);
    throw new InputError(`cannot read the bundle ${src} (${code ?? (e as Error).message})`);
  }
  if (s.isDirectory()) return 'folder';
  if (!s.isFile()) throw new InputError(`${src} is ${kindOf(s)}, not a bundle folder or .zip file`);
  const head = Buffer.alloc(4);
  let n = 0;
  try {
    const fd = openSync(src, 'r');
    try {
      n = readSync(fd, head, 0, 4, 0);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    throw new InputError(`cannot read the bundle ${src} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  // A local file header, or the end record of an empty zip.
  if (n === 4 && head.readUInt16LE(0) === 0x4b50 && (head.readUInt16LE(2) === 0x0403 || head.readUInt16LE(2) === 0x0605)) return 'zip';
  throw new InputError(`${src} is neither a bundle folder nor a .zip file`);
}

/** A bundle file: its path below the root ('/'-separated) and size. */
export interface TreeFile {
  rel: string;
  size: number;
}

/**
 * Every file under `root` (sorted, '/'-separated), looked at with lstat: a symbolic link or special file anywhere is
 * refused, named, and never followed. Checks the limits on the sizes lstat reports; readBounded checks them again on
 * the bytes read.
 */
export function listTree(root: string, limits: BundleLimits = BUNDLE_LIMITS): TreeFile[] {
  const out: TreeFile[] = [];
  let total = 0;
  let entries = 0;
  const unreadable = (r: string, e: unknown): InputError =>
    new InputError(`cannot read ${r ? path.join(root, r) : root} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  const walk = (rel: string): void => {
    let names: string[];
    try {
      names = readdirSync(rel ? path.join(root, rel) : root).sort();
    } catch (e) {
      throw unreadable(rel, e);
    }
    for (const name of names) {
      const r = rel ? `${rel}/${name}` : name;
      let s: Stats;
      try {
        s = lstatSync(path.join(root, r));
      } catch (e) {
        throw unreadable(r, e);
      }
      if (++entries > limits.entries) throw new InputError(`${root}: more than ${limits.entries} files and folders; not a ModeLab bundle`);
      if (s.isDirectory()) walk(r);
      else if (s.isFile()) {
        if (s.size > limits.entryBytes) throw new InputError(`${root}: '${r}' is ${mb(s.size)}, over the ${mb(limits.entryBytes)} a bundle file may hold`);
        total += s.size;
        if (total > limits.totalBytes) throw new InputError(`${root}: the bundle files pass ${mb(limits.totalBytes)} in all, the most one import takes`);
        out.push({ rel: r, size: s.size });
      } else throw new InputError(`${root}: refusing '${r}': it is ${kindOf(s)}; a bundle holds only plain files and folders`);
    }
  };
  walk('');
  return out;
}

/** O_NOFOLLOW where the platform has it: the file itself may not be a link (opened after listTree looked at it). */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0);

/** Reads a plain file of at most `limit` bytes, counting what it reads (a file that grew meanwhile is refused). */
export function readBounded(file: string, limit: number, what = file): Buffer {
  let fd: number;
  try {
    fd = openSync(file, OPEN_FLAGS);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ELOOP' ? `refusing ${what}: it is a symbolic link` : `cannot read ${what} (${code ?? (e as Error).message})`);
  }
  try {
    const s = fstatSync(fd);
    if (!s.isFile()) throw new InputError(`refusing ${what}: it is ${kindOf(s)}`);
    if (s.size > limit) throw new InputError(`${what} is ${mb(s.size)}, over the ${mb(limit)} a bundle file may hold`);
    const buf = Buffer.alloc(s.size);
    let off = 0;
    while (off < buf.length) {
      const n = readSync(fd, buf, off, buf.length - off, off);
      if (n === 0) throw new InputError(`${what} shrank while it was read`);
      off += n;
    }
    if (readSync(fd, Buffer.alloc(1), 0, 1, off) !== 0) throw new InputError(`${what} grew while it was read`);
    return buf;
  } finally {
    closeSync(fd);
  }
}

/** A zip entry's name as a relative '/'-separated path, or the reason it is refused. */
function entryPath(raw: string): string | { refused: string } {
  const name = raw.replace(/\\/g, '/');
  if (name.includes('\0')) return { refused: 'its name holds a NUL character' };
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name) || name.split('/').includes('..')) return { refused: 'it points outside the bundle' };
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (!parts.length) return { refused: 'it has no name' };
  return parts.join('/');
}

/**
 * Unpacks a zip into `dest` (an empty folder this process made). Refuses, naming the entry: links and special files
 * (by the entry's Unix mode), names outside the bundle, a file where a folder is needed (`a` then `a/b`), duplicate
 * names, and files or totals over the limits — counted on the bytes as they are unpacked. Writes synchronously, so
 * nothing is left writing once the promise settles (the caller then removes `dest`).
 */
export function extractZip(file: string, dest: string, limits: BundleLimits = BUNDLE_LIMITS): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let zip: yauzl.ZipFile | null = null;
    let current: { stream: Readable; fd: number } | null = null;
    const kinds = new Map<string, 'file' | 'dir'>();
    let total = 0;
    let entries = 0;

    const release = (): void => {
      if (current) {
        current.stream.destroy();
        closeSync(current.fd);
        current = null;
      }
      zip?.close();
    };
    const fail = (message: string): void => {
      if (settled) return;
      settled = true;
      try {
        release();
      } finally {
        reject(new InputError(`${file}: ${message}`));
      }
    };
    const fsFail = (name: string, e: unknown): void => fail(`cannot unpack '${name}' (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);

    /** Makes the folders above `rel` (and `rel` itself for a folder), refusing a file in the way. */
    const makeFolders = (rel: string, self: boolean): boolean => {
      const parts = rel.split('/');
      const upto = self ? parts.length : parts.length - 1;
      for (let i = 1; i <= upto; i++) {
        const p = parts.slice(0, i).join('/');
        const k = kinds.get(p);
        if (k === 'file') {
          fail(`the entry '${rel}' needs '${p}' to be a folder, but '${p}' is a file`);
          return false;
        }
        if (k === 'dir') continue;
        try {
          mkdirSync(path.join(dest, ...p.split('/')));
        } catch (e) {
          fsFail(rel, e);
          return false;
        }
        kinds.set(p, 'dir');
      }
      return true;
    };

    const onEntry = (entry: yauzl.Entry): void => {
      if (settled) return;
      const rel = entryPath(entry.fileName);
      if (typeof rel !== 'string') return fail(`refusing the entry '${entry.fileName}' (${rel.refused})`);
      if (++entries > limits.entries) return fail(`more than ${limits.entries} entries; not a ModeLab bundle`);
      const mode = (entry.externalFileAttributes >>> 16) & S_IFMT;
      const isDir = entry.fileName.endsWith('/') || entry.fileName.endsWith('\\');
      if (mode !== 0 && mode !== S_IFREG && mode !== S_IFDIR) {
        return fail(`refusing the entry '${entry.fileName}': it is ${modeKind(mode)}; a bundle holds only plain files and folders`);
      }
      if ((mode === S_IFDIR) !== isDir && mode !== 0) return fail(`refusing the entry '${entry.fileName}': its type and its name disagree (file or folder)`);
      if (isDir) {
        if (kinds.get(rel) === 'file') return fail(`the entry '${rel}/' needs '${rel}' to be a folder, but '${rel}' is a file`);
        if (!makeFolders(rel, true)) return;
        zip!.readEntry();
        return;
      }
      if (kinds.has(rel)) return fail(`the entry '${rel}' appears twice (or is also a folder)`);
      if (entry.uncompressedSize > limits.entryBytes) return fail(`'${rel}' is ${mb(entry.uncompressedSize)}, over the ${mb(limits.entryBytes)} a bundle file may hold`);
      if (!makeFolders(rel, false)) return;
      let fd: number;
      try {
        // O_EXCL: never writes through anything already there (a link cannot be, but be sure).
        fd = openSync(path.join(dest, ...rel.split('/')), 'wx', 0o600);
      } catch (e) {
        return fsFail(rel, e);
      }
      kinds.set(rel, 'file');
      zip!.openReadStream(entry, (err, stream) => {
        if (settled) {
          stream?.destroy();
          closeSync(fd);
          return;
        }
        if (err || !stream) {
          closeSync(fd);
          return fail(`cannot read '${rel}' (${err?.message ?? 'no data'})`);
        }
        current = { stream, fd };
        let bytes = 0;
        stream.on('data', (chunk: Buffer) => {
          if (settled) return;
          bytes += chunk.length;
          total += chunk.length;
          if (bytes > limits.entryBytes) return fail(`'${rel}' unpacks to more than ${mb(limits.entryBytes)}, the most a bundle file may hold`);
          if (total > limits.totalBytes) return fail(`the bundle unpacks to more than ${mb(limits.totalBytes)} in all, the most one import takes`);
          try {
            let off = 0;
            while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
          } catch (e) {
            fsFail(rel, e);
          }
        });
        stream.on('error', (e: Error) => fail(`'${rel}': ${e.message}`));
        stream.on('end', () => {
          if (settled) return;
          current = null;
          try {
            closeSync(fd);
          } catch (e) {
            return fsFail(rel, e);
          }
          zip!.readEntry();
        });
      });
    };

    yauzl.open(file, { lazyEntries: true, strictFileNames: false, validateEntrySizes: true }, (err, z) => {
      if (err || !z) {
        settled = true;
        return reject(new InputError(`${file} is not a readable zip file (${err?.message ?? 'unknown error'})`));
      }
      zip = z;
      z.on('error', (e: Error) => fail(e.message));
      z.on('end', () => {
        if (settled) return;
        settled = true;
        z.close();
        resolve();
      });
      z.on('entry', onEntry);
      z.readEntry();
    });
  });
}
