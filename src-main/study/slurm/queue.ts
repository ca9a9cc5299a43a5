/**
 * Talking to Slurm: sbatch to submit, squeue for tasks still queued or running, and for finished tasks sacct — or,
 * on a cluster without accounting storage, `scontrol show job` (which knows finished jobs for MinJobAge, 5 minutes by
 * default). The job script's own exit files (layout.ts) come first; these are the fallback for a task killed before
 * it could write one (time limit, cancel, node failure).
 */
import { execFile } from 'node:child_process';
import { InputError } from '../../engine/util/errors';

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

function slurm(cmd: string, args: string[]): Promise<Ran> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new InputError(`${cmd} is not installed here: run Slurm studies on a machine that can submit to the cluster (a login node)`));
        return;
      }
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

const firstLine = (s: string): string => s.trim().split('\n')[0] ?? '';

/** Submits `script`; `array` (e.g. '1,3') replaces the script's own --array. Returns the job id. */
export async function sbatch(script: string, array?: string): Promise<string> {
  const r = await slurm('sbatch', ['--parsable', ...(array ? [`--array=${array}`] : []), script]);
  // --parsable prints "<job id>" or "<job id>;<cluster>".
  const id = firstLine(r.stdout).split(';')[0] ?? '';
  if (r.code !== 0 || !/^\d+$/.test(id)) throw new InputError(`sbatch refused the study's job: ${firstLine(r.stderr) || firstLine(r.stdout) || `exit code ${r.code}`}`);
  return id;
}

/** Slurm's state of a task (JobState: PENDING, RUNNING, COMPLETED, FAILED, TIMEOUT, CANCELLED, …) and exit code. */
export interface TaskState {
  state: string;
  /** The script's exit code; null when Slurm has none (a task killed by a signal reports the signal instead). */
  exitCode: number | null;
  signal: number | null;
}

/** "exit:signal", as sacct and scontrol print ExitCode. */
function exitCodeOf(s: string | undefined): Pick<TaskState, 'exitCode' | 'signal'> {
  const m = /^(\d+):(\d+)$/.exec(s ?? '');
  return m ? { exitCode: Number(m[1]), signal: Number(m[2]) || null } : { exitCode: null, signal: null };
}

/** The tasks of `jobIds` that squeue still lists (pending, running, completing…), by task id `<job>_<i>`. */
export async function queuedTasks(jobIds: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (!jobIds.length) return out;
  const r = await slurm('squeue', ['--noheader', '--array', `--jobs=${jobIds.join(',')}`, '--format=%i|%T']);
  // Every job gone from the queue: squeue says "Invalid job id specified".
  if (r.code !== 0) {
    if (/invalid job id/i.test(r.stderr)) return out;
    throw new Error(`squeue failed: ${firstLine(r.stderr) || `exit code ${r.code}`}`);
  }
  for (const line of r.stdout.split('\n')) {
    const [id, state] = line.trim().split('|');
    if (id && state && /^\d+_\d+$/.test(id)) out.set(id, state);
  }
  return out;
}

/** sacct's view of every task of `jobIds`; null when the cluster keeps no accounting. */
async function sacctTasks(jobIds: string[]): Promise<Map<string, TaskState> | null> {
  const r = await slurm('sacct', ['--noheader', '--parsable2', '--allocations', `--jobs=${jobIds.join(',')}`, '--format=JobID,State,ExitCode']).catch(() => null);
  if (!r || r.code !== 0) return null;
  const out = new Map<string, TaskState>();
  for (const line of r.stdout.split('\n')) {
    const [id, state, code] = line.trim().split('|');
    // "CANCELLED by 0": the state is the first word.
    if (id && state && /^\d+_\d+$/.test(id)) out.set(id, { state: state.split(' ')[0]!, ...exitCodeOf(code) });
  }
  return out;
}

/** `scontrol show job`'s view of every task it still remembers of `jobIds`. */
async function scontrolTasks(jobIds: string[]): Promise<Map<string, TaskState>> {
  const out = new Map<string, TaskState>();
  for (const job of jobIds) {
    const r = await slurm('scontrol', ['--oneliner', 'show', 'job', job]);
    if (r.code !== 0) continue; // forgotten (older than MinJobAge)
    for (const line of r.stdout.split('\n')) {
      const f = new Map(line.trim().split(/\s+/).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as const));
      const array = f.get('ArrayJobId');
      const task = f.get('ArrayTaskId');
      const state = f.get('JobState');
      if (array && task && /^\d+$/.test(task) && state) out.set(`${array}_${task}`, { state, ...exitCodeOf(f.get('ExitCode')) });
    }
  }
  return out;
}

/** What Slurm knows of the tasks of `jobIds` that are no longer queued: sacct where it answers, else scontrol. */
export async function finishedTasks(jobIds: string[]): Promise<Map<string, TaskState>> {
  if (!jobIds.length) return new Map();
  return new Map([...(await scontrolTasks(jobIds)), ...((await sacctTasks(jobIds)) ?? [])]);
}

/** Cancels every task of `jobIds` still queued or running (scancel). */
export async function scancel(jobIds: string[]): Promise<void> {
  if (!jobIds.length) return;
  const r = await slurm('scancel', jobIds);
  if (r.code !== 0 && !/invalid job id/i.test(r.stderr)) throw new Error(`scancel failed: ${firstLine(r.stderr) || `exit code ${r.code}`}`);
}
