/** The `modelab` command. Everything the app does is reachable from here, without a window. */
// tfjs and the recipe schema load only for the commands that need them: history commands start in a fraction of
// the time.
import { CancelledError, InputError } from '../engine/util/errors';
import { VERSION } from '../engine/version';
import {
  HISTORY_HELP,
  cancelCommand,
  colourCommand,
  deleteCommand,
  exportCommand,
  importCommand,
  listCommand,
  noteCommand,
  renameCommand,
  showCommand,
  tagCommand,
} from './history-commands';
import { table } from './table';
import { terminalText } from './terminal-text';
import { storageError } from '../store/errors';

const HELP = `ModeLab ${VERSION}: a laboratory for mode connectivity.

Usage: modelab <command> [options]

Commands:
  run        train two networks and evaluate the paths between them (modelab run --help)
  presets    list the built-in experiment presets
  backends   list the compute backends and which are available here
  bench      measure this machine's backends side by side (modelab bench --help)
  serve      the app in a browser: UI and api over HTTP + WebSocket (modelab serve --help)
  study      many runs as one: sweeps and trials, mean ± std over seeds (modelab study --help)
  data       download CIFAR-10 (modelab data get cifar10), see what is there (modelab data list)

History (docs/history.md; --db FILE or MODELAB_HOME picks the database):
  list       the runs, newest first; filter by --status, --tag, --preset, --search
  show       a run's summary: environment, endpoints, paths and barriers
  tag        add (or --remove) tags          note     set a run's notes
  rename     rename a run                    colour   set a run's chart colour
  delete     delete runs and their artifact files
  export     runs as json, csv (one row per path point) or bundles (folder or .zip)
  import     bundles back into the history
  cancel     stop a queued or running run
  help       this help; 'modelab help run' for a command's options

Quick start: modelab run --preset smoke     (seconds, synthetic data)
             modelab run --preset mnist-mlp (minutes, MNIST)`;

async function backendsCommand(): Promise<number> {
  const [{ probeAll, defaultBackend }, { defaultBackendText }] = await Promise.all([import('../engine/backend/backends'), import('../engine/backend/names')]);
  const probes = await probeAll();
  process.stdout.write(`${table(['backend', 'available', 'note'], probes.map((p) => [p.name, p.available ? 'yes' : 'no', p.reason ?? '']))}\n`);
  // What a run without --backend computes on (selectBackend's rule).
  process.stdout.write(`default: ${defaultBackendText(await defaultBackend())}\n`);
  return 0;
}

async function presetsCommand(): Promise<number> {
  const { listPresets } = await import('../engine/recipe/presets');
  for (const p of listPresets()) process.stdout.write(`${p.name}\n    ${p.description}\n`);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  // For `run`, `serve`, `data` and `study run`, the first Ctrl-C, SIGTERM or SIGHUP cancels (a run stops within a
  // training step, a download keeps its partial file) and any later one quits at once (`run` records its run as cancelled first: run-command.ts). Other commands just exit.
  const controller = new AbortController();
  const quit = new AbortController();
  const cancellable = cmd === 'run' || cmd === 'serve' || cmd === 'data' || (cmd === 'study' && rest[0] === 'run');
  let interrupts = 0;
  const onSignal = (): void => {
    interrupts++;
    if (!cancellable) process.exit(130);
    if (interrupts > 1) {
      if (cmd === 'run') quit.abort();
      else process.exit(130);
      return;
    }
    try {
      process.stderr.write('\ncancelling (Ctrl-C again to quit at once)…\n');
    } catch {
      // no terminal any more (SIGHUP)
    }
    controller.abort();
  };
  // After SIGHUP the terminal may be gone: a failed write to it must not end the process before the run is recorded.
  process.stderr.on('error', () => undefined);
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, onSignal);
  switch (cmd) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(
        `${rest[0] === 'run' ? (await import('./run-command')).RUN_HELP : rest[0] === 'bench' ? (await import('./bench-command')).BENCH_HELP : rest[0] === 'serve' ? (await import('./serve-command')).SERVE_HELP : rest[0] === 'data' ? (await import('./data-command')).DATA_HELP : rest[0] === 'study' ? (await import('./study-command')).STUDY_HELP : (HISTORY_HELP[rest[0] ?? ''] ?? HELP)}\n`,
      );
      return 0;
    case '--version':
    case '-v':
      process.stdout.write(`${VERSION}\n`);
      return 0;
    case 'run':
      return (await import('./run-command')).runCommand(rest, controller.signal, quit.signal);
    case 'presets':
      return presetsCommand();
    case 'backends':
      return backendsCommand();
    case 'bench':
      return (await import('./bench-command')).benchCommand(rest);
    case 'serve':
      if (rest.includes('--help') || rest.includes('-h')) {
        process.stdout.write(`${(await import('./serve-command')).SERVE_HELP}\n`);
        return 0;
      }
      return (await import('./serve-command')).serveCommand(rest, controller.signal);
    case 'data':
      return (await import('./data-command')).dataCommand(rest, controller.signal);
    case 'study':
      return (await import('./study-command')).studyCommand(rest, controller.signal);
    case 'list':
      return listCommand(rest);
    case 'show':
      return showCommand(rest);
    case 'tag':
      return tagCommand(rest);
    case 'note':
      return noteCommand(rest);
    case 'rename':
      return renameCommand(rest);
    case 'colour':
    case 'color':
      return colourCommand(rest);
    case 'delete':
      return deleteCommand(rest);
    case 'export':
      return exportCommand(rest);
    case 'import':
      return importCommand(rest);
    case 'cancel':
      return cancelCommand(rest);
    default:
      throw new InputError(
        `unknown command '${cmd}' (commands: run, presets, backends, bench, serve, study, data, list, show, tag, note, rename, colour, delete, export, import, cancel, help)`,
      );
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // Messages echo user text (names, paths, flag values): one line, control characters escaped (terminal-text.ts).
    const say = (m: string): void => void process.stderr.write(`modelab: ${terminalText(m)}\n`);
    // A file-system error that names its file (a full disk under --out): in plain words too (store/errors.ts).
    const e = typeof (err as { path?: unknown } | null)?.path === 'string' ? storageError(err, '') : err;
    if (e instanceof InputError) {
      say(e.message);
      process.exitCode = 2;
    } else if (e instanceof CancelledError) {
      say(e.message);
      process.exitCode = 130;
    } else if ((e as Error).name === 'RunFailedError' || (e as Error).name === 'StorageError') {
      // A run that failed, or a full, read-only or failing disk (store/errors.ts): one line that names the path.
      say((e as Error).message);
      process.exitCode = 1;
    } else {
      process.stderr.write(`modelab: ${(e as Error).stack ?? String(e)}\n`);
      process.exitCode = 1;
    }
  },
);
