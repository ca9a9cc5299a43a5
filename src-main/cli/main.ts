/** The `modelab` command. Everything the app does is reachable from here, without a window. */
import { probeAll } from '../engine/backend/backends';
import { listPresets } from '../engine/recipe/presets';
import { CancelledError, InputError } from '../engine/util/errors';
import { VERSION } from '../engine/version';
import { BENCH_HELP, benchCommand } from './bench-command';
import { RUN_HELP, runCommand } from './run-command';
import { table } from './table';

const HELP = `ModeLab ${VERSION}: a laboratory for mode connectivity.

Usage: modelab <command> [options]

Commands:
  run        train two networks and evaluate the paths between them (modelab run --help)
  presets    list the built-in experiment presets
  backends   list the compute backends and which are available here
  bench      measure this machine's backend (modelab bench --help)
  help       this help; 'modelab help run' for a command's options

Quick start: modelab run --preset smoke     (seconds, synthetic data)
             modelab run --preset mnist-mlp (minutes, MNIST)`;

async function backendsCommand(): Promise<number> {
  const probes = await probeAll();
  process.stdout.write(`${table(['backend', 'available', 'note'], probes.map((p) => [p.name, p.available ? 'yes' : 'no', p.reason ?? '']))}\n`);
  return 0;
}

function presetsCommand(): number {
  for (const p of listPresets()) process.stdout.write(`${p.name}\n    ${p.description}\n`);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  const controller = new AbortController();
  let interrupts = 0;
  process.on('SIGINT', () => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    process.stderr.write('\ncancelling (Ctrl-C again to quit at once)…\n');
    controller.abort();
  });
  switch (cmd) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${rest[0] === 'run' ? RUN_HELP : rest[0] === 'bench' ? BENCH_HELP : HELP}\n`);
      return 0;
    case '--version':
    case '-v':
      process.stdout.write(`${VERSION}\n`);
      return 0;
    case 'run':
      return runCommand(rest, controller.signal);
    case 'presets':
      return presetsCommand();
    case 'backends':
      return backendsCommand();
    case 'bench':
      return benchCommand(rest);
    default:
      throw new InputError(`unknown command '${cmd}' (commands: run, presets, backends, bench, help)`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof InputError) {
      process.stderr.write(`modelab: ${e.message}\n`);
      process.exitCode = 2;
    } else if (e instanceof CancelledError) {
      process.stderr.write('modelab: cancelled\n');
      process.exitCode = 130;
    } else {
      process.stderr.write(`modelab: ${(e as Error).stack ?? String(e)}\n`);
      process.exitCode = 1;
    }
  },
);
