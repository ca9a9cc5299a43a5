/**
 * A small reader of (gzip-compressed) tar archives, enough for dataset archives: POSIX ustar and GNU headers,
 * regular files and folders, long names (GNU 'L' entries, pax 'path' records). Anything else — links, devices,
 * absolute names, names with '..' — is refused in one line, so that unpacking never writes outside its folder.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { InputError } from '../util/errors';

const BLOCK = 512;

export interface TarEntry {
  /** The name inside the archive, '/'-separated, checked to stay inside the folder it unpacks into. */
  name: string;
  type: 'file' | 'dir';
  data: Uint8Array;
}

function text(buf: Uint8Array, at: number, len: number): string {
  const field = buf.subarray(at, at + len);
  const end = field.indexOf(0);
  return Buffer.from(end < 0 ? field : field.subarray(0, end)).toString('utf8');
}

function octal(buf: Uint8Array, at: number, len: number, what: string): number {
  if (buf[at]! & 0x80) throw new InputError(`${what}: a size in base-256 (a file over 8 GB) is not supported`);
  const s = text(buf, at, len).trim();
  if (!/^[0-7]*$/.test(s)) throw new InputError(`${what}: not a tar archive (a header's number field reads ${JSON.stringify(s)})`);
  return s === '' ? 0 : parseInt(s, 8);
}

/** The entry's name, checked: relative, no '..', no empty or '.' segments after normalising. */
function safeName(raw: string, what: string): string {
  const name = raw.replace(/\/+$/, '');
  if (name === '' || name.startsWith('/') || /^[A-Za-z]:/.test(name) || name.includes('\\') || name.includes('\0')) {
    throw new InputError(`${what}: refused the entry ${JSON.stringify(raw)} (an absolute or unusual name)`);
  }
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.length === 0 || parts.includes('..')) throw new InputError(`${what}: refused the entry ${JSON.stringify(raw)} (a name that leaves the folder)`);
  return parts.join('/');
}

/** The pax extended header's records ("LEN key=value\n"): only 'path' is used. */
function paxPath(data: Uint8Array): string | undefined {
  let found: string | undefined;
  const s = Buffer.from(data).toString('utf8');
  let i = 0;
  while (i < s.length) {
    const sp = s.indexOf(' ', i);
    const len = Number(s.slice(i, sp));
    if (sp < 0 || !Number.isInteger(len) || len <= 0) break;
    const rec = s.slice(sp + 1, i + len - 1);
    const eq = rec.indexOf('=');
    if (rec.slice(0, eq) === 'path') found = rec.slice(eq + 1);
    i += len;
  }
  return found;
}

/** The entries of a tar archive (gzip-compressed or not). `what` names the archive in errors. */
export function readTar(archive: Uint8Array, what: string): TarEntry[] {
  let buf = archive;
  if (buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      buf = gunzipSync(buf);
    } catch (e) {
      throw new InputError(`${what}: cannot be decompressed (${(e as Error).message})`);
    }
  }
  const out: TarEntry[] = [];
  let longName: string | undefined;
  let at = 0;
  while (at + BLOCK <= buf.length) {
    const h = buf.subarray(at, at + BLOCK);
    if (h.every((b) => b === 0)) break; // the end-of-archive blocks
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
    if (sum !== octal(h, 148, 8, what)) throw new InputError(`${what}: not a tar archive, or a corrupt one (a header's checksum does not match, at byte ${at})`);
    const size = octal(h, 124, 12, what);
    const type = String.fromCharCode(h[156]!);
    const start = at + BLOCK;
    if (start + size > buf.length) throw new InputError(`${what}: truncated (an entry of ${size} bytes runs past the end)`);
    const data = buf.subarray(start, start + size);
    at = start + Math.ceil(size / BLOCK) * BLOCK;
    // The name's prefix field exists in POSIX ustar headers (magic "ustar\0") only; GNU headers ("ustar ") keep
    // other fields there (access and change times).
    const prefix = text(h, 257, 6) === 'ustar' ? text(h, 345, 155) : '';
    const headerName = prefix ? `${prefix}/${text(h, 0, 100)}` : text(h, 0, 100);
    if (type === 'L') {
      longName = text(data, 0, data.length);
      continue;
    }
    if (type === 'x') {
      longName = paxPath(data) ?? longName;
      continue;
    }
    if (type === 'g') continue; // pax global header: nothing ModeLab needs
    const raw = longName ?? headerName;
    longName = undefined;
    if (type === '0' || type === '\0' || type === '7') out.push({ name: safeName(raw, what), type: 'file', data });
    else if (type === '5') out.push({ name: safeName(raw, what), type: 'dir', data: new Uint8Array(0) });
    else {
      const kind = type === '1' ? 'a hard link' : type === '2' ? 'a symbolic link' : `an entry of type '${type}'`;
      throw new InputError(`${what}: refused ${JSON.stringify(raw)}, ${kind} (only files and folders are unpacked)`);
    }
  }
  return out;
}

/** Writes the entries under `dir` (which the caller owns: a fresh folder it renames into place once complete). */
export function writeEntries(entries: TarEntry[], dir: string): void {
  for (const e of entries) {
    const target = path.join(dir, ...e.name.split('/'));
    if (e.type === 'dir') mkdirSync(target, { recursive: true });
    else {
      mkdirSync(path.dirname(target), { recursive: true });
      writeFileSync(target, e.data);
    }
  }
}
