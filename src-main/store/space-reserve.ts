/**
 * The space reserve: a file kept beside the artifacts so that, when the disk runs full, a run's final status and reason
 * still fit (the job frees it, then records the failure).
 */
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeDirs } from '../engine/io/mkdirs';
import type { HistoryLocation } from './location';

const SPACE_RESERVE_FILE = '.space-reserve';
/** Far more than a status update needs. */
const SPACE_RESERVE_BYTES = 1024 * 1024;

export function spaceReservePath(location: HistoryLocation): string {
  return path.join(location.artifactsDir, SPACE_RESERVE_FILE);
}

/** Makes the space reserve if it is missing (best effort: on a disk already full there is nothing to reserve). */
export function ensureSpaceReserve(location: HistoryLocation): void {
  const file = spaceReservePath(location);
  if (existsSync(file)) return;
  try {
    makeDirs(location.artifactsDir);
    writeFileSync(file, Buffer.alloc(SPACE_RESERVE_BYTES));
  } catch {
    rmSync(file, { force: true });
  }
}

/** Frees the space reserve (the disk is full); returns whether there was one. It is made again at the next open. */
export function releaseSpaceReserve(location: HistoryLocation): boolean {
  const file = spaceReservePath(location);
  if (!existsSync(file)) return false;
  rmSync(file, { force: true });
  return true;
}
