/**
 * The Slurm executor's job script: one `sbatch --array` script for a whole study, one array task per cell. Every
 * option is checked here before anything is written: a value that could end a `#SBATCH` line or a shell word (a
 * newline, a quote) is refused with one line, so nothing the user types can add commands to the script.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../../engine/util/errors';
import { STUDY_LAYOUT } from './layout';

export interface SlurmOptions {
  /** Slurm partition(s), comma-separated (default: the cluster's default partition). */
  partition?: string;
  /** Time limit per task in one of Slurm's forms: MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS. */
  time?: string;
  /** CPUs per task (default 1); each task's run uses that many worker processes (MODELAB_WORKERS). */
  cpusPerTask?: number;
  /** GPUs per task (default none). */
  gpusPerTask?: number;
  /** Further `#SBATCH` options, one per entry, each starting with '-': '--mem=8G', '--account=lab'. */
  extra?: string[];
  /** Shell lines run at the start of every task, before the run: 'module load nodejs/20'. */
  setup?: string[];
  /** The modelab command as words (default: this installation, `node …/bin/modelab.mjs`, both absolute). */
  command?: string[];
  /** The job's name in squeue (default 'modelab-study'). */
  jobName?: string;
  /** Further arguments to every task's `modelab run`, e.g. ['--backend', 'tensorflow-gpu'] or ['--data', DIR]. */
  runArgs?: string[];
}

/** The installation's own entry point, absolute: what a task runs unless the options name another command. */
export const MODELAB_BIN = path.resolve(import.meta.dirname, '../../../bin/modelab.mjs');

export function defaultCommand(): string[] {
  if (!existsSync(MODELAB_BIN)) throw new InputError(`this installation has no ${MODELAB_BIN}: give the modelab command to run on the cluster`);
  return [process.execPath, MODELAB_BIN];
}

// Options the executor itself sets: given again as extra lines they would break how tasks are followed.
const RESERVED = ['--array', '-a', '--output', '-o', '--error', '-e', '--parsable', '--wrap', '--chdir', '-D', '--open-mode'];
const PARTITION = /^[A-Za-z0-9_.-]+(,[A-Za-z0-9_.-]+)*$/;
const TIME = /^(\d+-\d+(:\d+(:\d+)?)?|\d+(:\d+(:\d+)?)?)$/;
const JOB_NAME = /^[A-Za-z0-9_.+-]{1,64}$/;
// One option, its value without spaces, quotes, backslashes, '#' or '$': sbatch reads #SBATCH lines itself (no shell),
// splitting on blanks and honouring quotes and comments; node lists and constraints (node[01-04], a100|h100) pass.
const EXTRA = /^-[-A-Za-z0-9]*[A-Za-z0-9]([= ][A-Za-z0-9_.,:/@%+=[\]&|!-]+)?$/;
// Newlines and other control characters (C1 too: some terminals act on them) end or garble a script line.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** A value as the user gave it, on one line: newlines and control characters escaped as in JSON. */
const shown = (s: string): string => JSON.stringify(s).slice(1, -1);

function count(v: number | undefined, what: string, min: number): void {
  if (v === undefined) return;
  if (!Number.isSafeInteger(v) || v < min) throw new InputError(`${what} needs a whole number of at least ${min}, got ${String(v)}`);
}

/** Checks every option (throws a one-line InputError) and fills in the command. */
export function checkSlurmOptions(o: SlurmOptions): SlurmOptions & { command: string[] } {
  if (o.partition !== undefined && !PARTITION.test(o.partition)) {
    throw new InputError(`partition '${shown(o.partition)}' is not a Slurm partition name (letters, digits, '_', '.', '-'; several separated by commas)`);
  }
  if (o.time !== undefined && !TIME.test(o.time)) {
    throw new InputError(`time limit '${shown(o.time)}' is not one of Slurm's forms (MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS)`);
  }
  count(o.cpusPerTask, 'CPUs per task', 1);
  count(o.gpusPerTask, 'GPUs per task', 0);
  if (o.jobName !== undefined && !JOB_NAME.test(o.jobName)) throw new InputError(`job name '${shown(o.jobName)}' may only hold letters, digits, '_', '.', '+', '-' (64 at most)`);
  for (const x of o.extra ?? []) {
    if (!EXTRA.test(x)) throw new InputError(`extra #SBATCH option '${shown(x)}' is not one option such as --mem=8G (no spaces inside values, quotes, newlines or shell characters)`);
    const name = x.split(/[= ]/)[0]!;
    if (RESERVED.includes(name)) throw new InputError(`extra #SBATCH option '${x}': ${name} is set by ModeLab itself`);
  }
  for (const line of o.setup ?? []) {
    if (CONTROL.test(line)) throw new InputError(`setup line '${shown(line)}' holds a newline or control character: give one line per entry`);
  }
  for (const a of o.runArgs ?? []) if (CONTROL.test(a)) throw new InputError(`run argument '${shown(a)}' holds a newline or control character`);
  const command = o.command ?? defaultCommand();
  if (!command.length || command.some((w) => !w || CONTROL.test(w))) throw new InputError('the modelab command needs at least one word, none empty or holding a newline or control character');
  return { ...o, command };
}

/** A word for the shell, quoted so that it stays one word whatever it holds. */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_./=:@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The array job script for `cells` cells in the study folder `dir` (absolute). Each task runs its cell's recipe with
 * `modelab run --config cells/<i>.json --no-store --out runs/<i>` (an importable run folder, docs/run-json.md) and
 * records its exit code in exit/<job>_<i> itself: a cluster without accounting (no sacct) still tells what happened.
 * `--array` may be given again on the sbatch command line, which takes precedence: that is how failed tasks are
 * resubmitted with the same script.
 */
export function sbatchScript(dir: string, cells: number, options: SlurmOptions): string {
  if (!path.isAbsolute(dir)) throw new Error(`the study folder must be absolute, got ${dir}`);
  // The folder appears in a #SBATCH --output line, which sbatch reads without a shell: it must be one plain word.
  if (CONTROL.test(dir) || /\s/.test(dir)) throw new InputError(`the study folder '${shown(dir)}' holds a space, newline or control character, which a #SBATCH line cannot carry`);
  if (!Number.isSafeInteger(cells) || cells < 1) throw new InputError(`a Slurm study needs at least one cell, got ${cells}`);
  const o = checkSlurmOptions(options);
  const L = STUDY_LAYOUT;
  const sbatch = [
    `--job-name=${o.jobName ?? 'modelab-study'}`,
    `--array=0-${cells - 1}`,
    // %A: the array's job id, %a: the task: a resubmitted task's log does not overwrite the failed one's.
    `--output=${path.join(dir, L.logs, '%A_%a.log')}`,
    ...(o.partition ? [`--partition=${o.partition}`] : []),
    ...(o.time ? [`--time=${o.time}`] : []),
    `--cpus-per-task=${o.cpusPerTask ?? 1}`,
    ...(o.gpusPerTask ? [`--gpus-per-task=${o.gpusPerTask}`] : []),
    ...(o.extra ?? []),
  ];
  // Only the cell's two paths are expanded by the shell ($i); every word the user gave is quoted.
  const run = [...o.command.map(shellWord), 'run', '--config', `"${L.cells}/$i.json"`, '--no-store', '--out', `"${L.runs}/$i"`, ...(o.runArgs ?? []).map(shellWord)];
  return `#!/bin/bash
# A ModeLab study: one array task per cell (written by ModeLab; docs/studies-slurm.md).
${sbatch.map((s) => `#SBATCH ${s}`).join('\n')}
${o.setup?.length ? `\n# setup\n${o.setup.join('\n')}\n` : ''}
cd ${shellWord(dir)} || exit 1
i="$SLURM_ARRAY_TASK_ID"
task="\${SLURM_ARRAY_JOB_ID}_$i"
# Each run computes with the CPUs Slurm gave its task, not with every core of the node.
export MODELAB_WORKERS="\${SLURM_CPUS_PER_TASK:-1}"
echo "modelab study task $task (cell $i) on $(hostname) at $(date -u +%FT%TZ)"
rm -rf "${L.runs}/$i"
${run.join(' ')}
code=$?
echo "modelab study task $task exited with $code at $(date -u +%FT%TZ)"
mkdir -p ${L.exit} && printf '%s\\n' "$code" > "${L.exit}/$task.tmp" && mv -f "${L.exit}/$task.tmp" "${L.exit}/$task"
exit "$code"
`;
}
