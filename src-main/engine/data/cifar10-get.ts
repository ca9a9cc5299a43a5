/**
 * `modelab data get cifar10`: the official binary archive downloaded (resumable), verified against its published
 * MD5, unpacked into the folder CIFAR-10 recipes read by default (cifar10DefaultDir), the archive then removed.
 * Unpacking goes into a fresh folder renamed into place once complete: a failure leaves no half-written dataset.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { type Cifar10Batches, cifar10Batches } from './cifar10';
import { type DownloadProgress, downloadVerified } from './download';
import { readTar, writeEntries } from './tar';
import { InputError } from '../util/errors';

/** The archive as published on https://www.cs.toronto.edu/~kriz/cifar.html ("CIFAR-10 binary version"). */
export const CIFAR10_ARCHIVE = {
  url: 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz',
  md5: 'c32a1d4ab5d03f1284b67883e8d87530',
  file: 'cifar-10-binary.tar.gz',
  /** The folder the archive unpacks to. */
  folder: 'cifar-10-batches-bin',
} as const;

/** The archive's URL and MD5: the published ones, or MODELAB_CIFAR10_URL / MODELAB_CIFAR10_MD5 (for tests, against a
 *  local server: docs/datasets.md). */
export function cifar10Source(env: NodeJS.ProcessEnv = process.env): { url: string; md5: string } {
  return { url: env['MODELAB_CIFAR10_URL'] || CIFAR10_ARCHIVE.url, md5: (env['MODELAB_CIFAR10_MD5'] || CIFAR10_ARCHIVE.md5).toLowerCase() };
}

/** The CIFAR-10 batches in `dir`, or null when they are not (all) there. */
export function cifar10Present(dir: string): Cifar10Batches | null {
  if (!existsSync(dir)) return null;
  try {
    return cifar10Batches(dir);
  } catch (e) {
    if (e instanceof InputError) return null;
    throw e;
  }
}

/** Where a partial download of the archive into `dir` is kept until it is resumed. */
export function cifar10PartialFile(dir: string): string {
  return `${path.join(dir, CIFAR10_ARCHIVE.file)}.part`;
}

export interface GetCifar10Options {
  onProgress?: (p: DownloadProgress) => void;
  /** Called once the download is verified, before unpacking (a step of its own on a slow disk). */
  onUnpack?: () => void;
  signal?: AbortSignal;
  /** Download again even when the batches are there. */
  force?: boolean;
  env?: NodeJS.ProcessEnv;
}

export interface GetCifar10Result {
  batches: Cifar10Batches;
  /** False when the batches were there already (nothing downloaded). */
  downloaded: boolean;
  /** Bytes transferred by this call, and what a resumed partial file held before it. */
  transferred: number;
  resumedFrom: number;
}

/**
 * Downloads CIFAR-10 into `dir` (made when missing): `dir/cifar-10-batches-bin/` with the six batch files. Throws an
 * InputError for a wrong checksum or a bad archive (nothing left behind), a DownloadError when the transfer broke off
 * (the partial file kept), the network's error when the server cannot be reached (isOfflineError).
 */
export async function getCifar10(dir: string, opts: GetCifar10Options = {}): Promise<GetCifar10Result> {
  const present = cifar10Present(dir);
  if (present && !opts.force) return { batches: present, downloaded: false, transferred: 0, resumedFrom: 0 };
  const { url, md5 } = cifar10Source(opts.env);
  mkdirSync(dir, { recursive: true });
  // What an interrupted unpacking left (the process was killed): never a dataset, always safe to remove.
  for (const f of readdirSync(dir)) if (f.startsWith('.unpacking-')) rmSync(path.join(dir, f), { recursive: true, force: true });
  const archive = path.join(dir, CIFAR10_ARCHIVE.file);
  const got = await downloadVerified(url, archive, { md5, onProgress: opts.onProgress, signal: opts.signal });
  opts.onUnpack?.();
  const staging = path.join(dir, `.unpacking-${process.pid}`);
  const target = path.join(dir, CIFAR10_ARCHIVE.folder);
  const old = path.join(dir, `.replaced-${process.pid}`);
  try {
    const entries = readTar(readFileSync(archive), archive);
    writeEntries(entries, staging);
    const unpacked = path.join(staging, CIFAR10_ARCHIVE.folder);
    if (!existsSync(unpacked)) throw new InputError(`${archive} holds no ${CIFAR10_ARCHIVE.folder}/ folder: not the CIFAR-10 binary archive`);
    cifar10Batches(unpacked); // every batch there, in whole records
    if (existsSync(target)) renameSync(target, old);
    try {
      renameSync(unpacked, target);
    } catch (e) {
      if (existsSync(old)) renameSync(old, target); // the previous copy back in place
      throw e;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
    rmSync(old, { recursive: true, force: true });
    rmSync(archive, { force: true });
  }
  return { batches: cifar10Batches(target), downloaded: true, ...got };
}
