/**
 * How many processes compute at once, and how many threads each may use: the one home of the rule.
 *
 * - `workerCount()`: the cores ModeLab spreads work over: `MODELAB_WORKERS` when set (what `--workers N` on
 *   run/serve sets, so every job and worker process started from there inherits it), else os.availableParallelism().
 * - `threadsPerProcess(n)`: the intra-op threads each of n processes running at once may take (ONNX Runtime reads
 *   it as MODELAB_THREADS_PER_PROCESS): the cores shared evenly, at least one, and no more than the newest onnx-cpu
 *   bench on this machine found one process to gain from (`measuredThreadCap`: bench/record.ts threadCap, the
 *   fewest threads within 10% of the fastest). Without such a bench, no cap: the even share.
 * - `workerEnv(n)`: the environment every worker process is started with.
 * - `jobEnv()`: the environment the top process starts a job process with: one of workerCount() processes computing
 *   at once (its point workers and training processes beside it).
 */
import os from 'node:os';
import { threadCap } from '../engine/bench/record';
import { benchDirIn, latestBench } from '../engine/bench/stored';
import { InputError } from '../engine/util/errors';
import { modelabHome } from '../engine/util/home';

export const WORKERS_ENV = 'MODELAB_WORKERS';
export const THREADS_ENV = 'MODELAB_THREADS_PER_PROCESS';

/** Parses a worker count (`--workers N`, MODELAB_WORKERS): a positive integer, or a one-line InputError naming `what`. */
export function parseWorkerCount(text: string, what: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
    throw new InputError(`${what} must be a positive integer (the number of worker processes), got '${text.slice(0, 40)}'`);
  }
  return Number(text);
}

/** The number of processes ModeLab computes with at once: MODELAB_WORKERS, else the cores present. */
export function workerCount(env: NodeJS.ProcessEnv = process.env): number {
  const set = env[WORKERS_ENV];
  if (set !== undefined && set !== '') return parseWorkerCount(set, WORKERS_ENV);
  return os.availableParallelism();
}

/** Threads for each of `processes` processes running at once: max(1, min(floor(cores / processes), cap)). */
export function threadsPerProcess(processes: number, cores = os.availableParallelism(), cap: number | null = null): number {
  return Math.max(1, Math.min(Math.floor(cores / Math.max(1, processes)), cap ?? Infinity));
}

/** The most threads one process gains from, as the newest onnx-cpu bench kept under ModeLab's home (of `env`) measured
 *  it (BenchResult.threadScaling), or null where there is none. */
export function measuredThreadCap(env: NodeJS.ProcessEnv = process.env): number | null {
  let home: string;
  try {
    home = modelabHome(env);
  } catch {
    return null; // no home (tests without MODELAB_HOME): no bench to read
  }
  const r = latestBench(benchDirIn(home), 'onnx-cpu');
  return r ? threadCap(r) : null;
}

/** The environment a worker process is started with, one of `processes` computing at once. */
export function workerEnv(processes: number, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...base, [THREADS_ENV]: String(threadsPerProcess(processes, os.availableParallelism(), measuredThreadCap(base))) };
}

/** The environment a job process is started with (jobs/runner.ts): one of workerCount(base) processes at once. */
export function jobEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return workerEnv(workerCount(base), base);
}

/** `--workers N` on run and serve: checked (as is MODELAB_WORKERS when the flag is absent) before anything runs, and
 *  set as MODELAB_WORKERS so that every process started from here inherits it. */
export function applyWorkersOption(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): void {
  if (flag !== undefined) env[WORKERS_ENV] = String(parseWorkerCount(flag, '--workers'));
  else workerCount(env);
}

/** Cells of a study run at once on this machine (`--jobs` default): the cores ÷ the processes one cell computes with
 *  (its endpoints train side by side, one process each), at least one. */
export function cellsAtOnce(processesPerCell: number, env: NodeJS.ProcessEnv = process.env): number {
  return Math.max(1, Math.floor(workerCount(env) / Math.max(1, processesPerCell)));
}

/** The environment of a job that runs beside `jobs - 1` others: its share of the cores as its MODELAB_WORKERS. */
export function sharedJobEnv(jobs: number, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...base, [WORKERS_ENV]: String(Math.max(1, Math.floor(workerCount(base) / Math.max(1, jobs)))) };
}
