/** The Slurm executor's command-line options (`modelab study run --executor slurm …`), parsed and checked. */
import { InputError } from '../engine/util/errors';
import { checkSlurmOptions } from '../study/slurm/script';
import type { SlurmExecutorOptions } from '../study/slurm/study-executor';
import { type Options, intOption } from './args';

export const SLURM_CLI_OPTIONS: Options = {
  'slurm-dir': { type: 'string' },
  partition: { type: 'string' },
  time: { type: 'string' },
  'cpus-per-task': { type: 'string' },
  'gpus-per-task': { type: 'string' },
  sbatch: { type: 'string', multiple: true },
  setup: { type: 'string', multiple: true },
  'slurm-command': { type: 'string' },
  'no-follow': { type: 'boolean' },
};

export const SLURM_CLI_HELP = `Options of study run --executor slurm (docs/studies-slurm.md):
  --slurm-dir DIR      the study folder, shared with the compute nodes: cells, runs, logs, the job
                       script (default: $MODELAB_HOME/studies/<study id>)
  --partition P        Slurm partition(s), comma-separated (default: the cluster's default)
  --time T             time limit per cell: MM, HH:MM:SS, D-HH:MM… (default: the partition's)
  --cpus-per-task N    CPUs per cell (default 1; each cell's run computes with that many processes)
  --gpus-per-task N    GPUs per cell (default none)
  --sbatch=OPT         a further #SBATCH option, e.g. --sbatch=--mem=8G (with '=': the value starts
                       with a dash; repeatable)
  --setup LINE         a shell line each task runs first, e.g. --setup 'module load nodejs' (repeatable)
  --slurm-command CMD  the modelab command on the nodes, words separated by spaces (default: this
                       installation's node and bin/modelab.mjs, absolute)
  --no-follow          return once submitted; 'modelab study collect ID' brings the runs in later
                       (default: follow the job, collecting cells as they finish)`;

/** True when any Slurm option was given (they need --executor slurm). */
export const hasSlurmOptions = (values: Record<string, unknown>): boolean => Object.keys(SLURM_CLI_OPTIONS).some((k) => values[k] !== undefined);

/** The executor's options from parsed flags; every value checked (one-line InputError). */
export function slurmOptionsFrom(values: Record<string, unknown>): SlurmExecutorOptions {
  const str = (k: string): string | undefined => values[k] as string | undefined;
  const cmd = str('slurm-command');
  const o: SlurmExecutorOptions = {
    dir: str('slurm-dir'),
    partition: str('partition'),
    time: str('time'),
    cpusPerTask: intOption(str('cpus-per-task'), 'cpus-per-task'),
    gpusPerTask: intOption(str('gpus-per-task'), 'gpus-per-task'),
    extra: values['sbatch'] as string[] | undefined,
    setup: values['setup'] as string[] | undefined,
    command: cmd === undefined ? undefined : cmd.split(' ').filter(Boolean),
    follow: !values['no-follow'],
  };
  if (cmd !== undefined && !o.command!.length) throw new InputError('--slurm-command needs a command');
  checkSlurmOptions(o);
  return o;
}
