/**
 * A small, real file system for storage-fault tests: a tmpfs of a few MiB mounted on a temporary folder (as root, or
 * through `sudo -n`, as CI runs), which a test can fill to leave a given number of bytes free or remount read-only.
 * `unmount` always removes the mount and the folder; call it in afterEach/finally so a failing test cleans up too.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface SmallDisk {
  dir: string;
  /** Writes ballast files until only about `bytes` stay free; returns a function that deletes them. */
  leaveFree(bytes: number): () => void;
  remount(mode: 'ro' | 'rw'): void;
  unmount(): void;
}

function asRoot(cmd: string, args: string[]): void {
  const root = process.getuid?.() === 0;
  execFileSync(root ? cmd : 'sudo', root ? args : ['-n', cmd, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
}

export const freeBytes = (dir: string): number => {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
};

export function mountSmallDisk(sizeMiB: number): SmallDisk {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'modelab-small-disk-'));
  try {
    asRoot('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m,mode=1777`, 'tmpfs', dir]);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`these tests mount a small tmpfs and need root or passwordless sudo: ${(e as Error).message}`);
  }
  let n = 0;
  return {
    dir,
    leaveFree(bytes) {
      const f = path.join(dir, `ballast-${n++}`);
      const size = Math.floor((freeBytes(dir) - bytes) / 4096) * 4096;
      if (size > 0) writeFileSync(f, Buffer.alloc(size, 1));
      return () => rmSync(f, { force: true });
    },
    remount(mode) {
      asRoot('mount', ['-o', `remount,${mode}`, dir]);
    },
    unmount() {
      try {
        asRoot('umount', ['-l', dir]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
