/**
 * Downloads one file over HTTP(S) into `<dest>.part`, resuming a partial file with an HTTP Range request, and
 * verifies it against an MD5 before renaming it to `dest`. What fails leaves either nothing (a wrong checksum: the
 * file is removed) or a resumable `.part` (a dropped connection, being offline).
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, renameSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { CancelledError, InputError } from '../util/errors';
import { VERSION } from '../version';

export interface DownloadProgress {
  /** Bytes on disk, the resumed part included. */
  received: number;
  /** The file's whole size, when the server says. */
  total: number | null;
  /** Bytes per second over this session's transfer so far. */
  rate: number;
  /** Bytes the partial file held when this session started (0: a fresh download). */
  resumedFrom: number;
}

export interface DownloadOptions {
  md5: string;
  onProgress?: (p: DownloadProgress) => void;
  signal?: AbortSignal;
}

/** A failure that leaves a resumable partial download: said in one line, with what to do. */
export class DownloadError extends Error {
  override name = 'DownloadError';
}

/** Network failures that mean "cannot reach the server" (DNS, no route, refused), as Node names them. */
const OFFLINE_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN', 'ETIMEDOUT', 'EAI_FAIL']);

export function isOfflineError(e: unknown): boolean {
  return OFFLINE_CODES.has((e as { code?: string } | null)?.code ?? '');
}

const MAX_REDIRECTS = 5;

/** The file's MD5, read from disk. */
export function md5OfFile(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('md5');
    createReadStream(file)
      .on('data', (c) => h.update(c))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

const sizeOf = (file: string): number => statSync(file, { throwIfNoEntry: false })?.size ?? 0;

/** One GET of `url` (following redirects), appending from `offset` when the server honours the range. */
function get(url: string, offset: number, opts: DownloadOptions, redirects = 0): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return reject(new InputError(`not a URL: ${url}`));
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return reject(new InputError(`${url}: only http and https downloads are supported`));
    const headers: Record<string, string> = { 'user-agent': `modelab/${VERSION}` };
    if (offset > 0) headers['range'] = `bytes=${offset}-`;
    const req = (u.protocol === 'https:' ? https : http).get(u, { headers, signal: opts.signal }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        if (redirects >= MAX_REDIRECTS) return reject(new DownloadError(`${url}: more than ${MAX_REDIRECTS} redirects`));
        return get(new URL(res.headers.location, u).toString(), offset, opts, redirects + 1).then(resolve, reject);
      }
      resolve(res);
    });
    req.on('error', reject);
  });
}

/**
 * Downloads `url` to `dest` (via `dest.part`) and checks its MD5. Returns the bytes transferred in this session.
 * Throws an InputError for a wrong checksum (nothing left behind), a DownloadError when the transfer broke off (the
 * part kept to resume), the network error itself when the server cannot be reached (isOfflineError).
 */
export async function downloadVerified(url: string, dest: string, opts: DownloadOptions): Promise<{ transferred: number; resumedFrom: number }> {
  const part = `${dest}.part`;
  let offset = sizeOf(part);
  let res = await get(url, offset, opts);
  if (res.statusCode === 416 && offset > 0) {
    // The part is at least as long as the file: it may be whole (verified below), else it is started afresh.
    res.resume();
    if ((await md5OfFile(part)) === opts.md5) return finish(part, dest, opts.md5, 0, offset);
    rmSync(part, { force: true });
    offset = 0;
    res = await get(url, 0, opts);
  }
  const status = res.statusCode ?? 0;
  if (status !== 200 && status !== 206) {
    res.resume();
    throw new DownloadError(`${url}: the server answered ${status} ${res.statusMessage ?? ''}`.trim());
  }
  // A server that ignores the range sends the whole file (200): start over. One that answers another range than
  // asked for (206 from elsewhere) is not trusted to continue the part: start over too.
  const range = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(String(res.headers['content-range'] ?? ''));
  if (status === 206 && (!range || Number(range[1]) !== offset)) {
    res.resume();
    if (offset === 0) throw new DownloadError(`${url}: the server answered a partial response (206) to a request for the whole file`);
    rmSync(part, { force: true });
    return downloadVerified(url, dest, opts);
  }
  if (status === 200) offset = 0;
  const length = Number(res.headers['content-length']);
  const total = range && range[2] !== '*' ? Number(range[2]) : res.headers['content-length'] !== undefined && Number.isFinite(length) ? offset + length : null;
  const started = process.hrtime.bigint();
  let received = offset;
  let transferred = 0;
  const out = createWriteStream(part, { flags: offset > 0 ? 'a' : 'w' });
  const report = (): void => {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    opts.onProgress?.({ received, total, rate: seconds > 0 ? transferred / seconds : 0, resumedFrom: offset });
  };
  report();
  try {
    await new Promise<void>((resolve, reject) => {
      res.on('data', (chunk: Buffer) => {
        received += chunk.length;
        transferred += chunk.length;
        if (!out.write(chunk)) {
          res.pause();
          out.once('drain', () => res.resume());
        }
        report();
      });
      res.on('end', () => (res.complete ? resolve() : reject(new DownloadError('the connection closed early'))));
      res.on('aborted', () => reject(new DownloadError('the connection closed early')));
      res.on('error', reject);
      out.on('error', reject);
    });
  } catch (e) {
    await new Promise<void>((r) => out.end(r));
    if (opts.signal?.aborted || (e as Error).name === 'AbortError') throw new CancelledError(`download cancelled after ${mb(received)} (run it again to resume)`);
    if (isOfflineError(e)) throw e;
    throw new DownloadError(`the download broke off after ${mb(received)}${total ? ` of ${mb(total)}` : ''} (${(e as Error).message}); run the command again to resume it`);
  }
  await new Promise<void>((r, j) => out.end((err?: Error | null) => (err ? j(err) : r())));
  if (total !== null && received !== total) {
    throw new DownloadError(`the download stopped at ${mb(received)} of ${mb(total)}; run the command again to resume it`);
  }
  return finish(part, dest, opts.md5, transferred, offset);
}

async function finish(part: string, dest: string, md5: string, transferred: number, resumedFrom: number): Promise<{ transferred: number; resumedFrom: number }> {
  const got = await md5OfFile(part);
  if (got !== md5) {
    rmSync(part, { force: true });
    throw new InputError(`the downloaded file's MD5 is ${got}, expected ${md5}: it was removed (a corrupt or substituted download; try again)`);
  }
  renameSync(part, dest);
  return { transferred, resumedFrom };
}

/** Bytes in MB with one decimal. */
export function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
