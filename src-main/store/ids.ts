/**
 * Run ids: 16 characters of lowercase Crockford base32 — 10 for the creation time in milliseconds (so ids sort by
 * creation) and 6 random (30 bits). Commands accept any unique prefix of at least 4 characters.
 */
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
export const RUN_ID = /^[0-9a-hjkmnp-tv-z]{16}$/;

export function newRunId(now = Date.now()): string {
  let t = now;
  let time = '';
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32]! + time;
    t = Math.floor(t / 32);
  }
  const r = randomBytes(4).readUInt32BE(0);
  let rand = '';
  for (let i = 0; i < 6; i++) rand += ALPHABET[(r >>> (i * 5)) & 31]!;
  return time + rand;
}

export function isRunId(s: string): boolean {
  return RUN_ID.test(s);
}
