/** The one rule for how many processes compute at once and how many threads each takes; the helper relay's checks. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type BenchResult, threadCap } from '../../src-main/engine/bench/record';
import { benchDirIn, keepBenchResult } from '../../src-main/engine/bench/stored';
import { HelperHost } from '../../src-main/jobs/helpers';
import { applyWorkersOption, jobEnv, measuredThreadCap, threadsPerProcess, workerCount, workerEnv } from '../../src-main/jobs/parallelism';
import type { JobProcess, Launcher } from '../../src-main/jobs/process';
import { JobRunner } from '../../src-main/jobs/runner';
import { tempStore } from '../store/helpers';
import { InputError } from '../../src-main/engine/util/errors';

describe('parallelism', () => {
  it('workers: MODELAB_WORKERS when set, else the cores present', () => {
    expect(workerCount({})).toBe(os.availableParallelism());
    expect(workerCount({ MODELAB_WORKERS: '6' })).toBe(6);
    for (const bad of ['0', '-1', '2.5', 'many', '1e3']) {
      expect(() => workerCount({ MODELAB_WORKERS: bad }), bad).toThrow(InputError);
    }
  });

  it('--workers N: checked, one line naming the flag, and set for every process started from here', () => {
    const env: NodeJS.ProcessEnv = {};
    applyWorkersOption('3', env);
    expect(env['MODELAB_WORKERS']).toBe('3');
    expect(() => applyWorkersOption('zero', env)).toThrow(/^--workers must be a positive integer/);
    expect(() => applyWorkersOption(undefined, { MODELAB_WORKERS: 'x' })).toThrow(/^MODELAB_WORKERS must be a positive integer/);
  });

  it('threads per process: the cores shared evenly among the processes running at once, at least one', () => {
    expect(threadsPerProcess(1, 16)).toBe(16);
    expect(threadsPerProcess(3, 16)).toBe(5);
    expect(threadsPerProcess(4, 2)).toBe(1);
    expect(threadsPerProcess(0, 8)).toBe(8);
    expect(workerEnv(2, { A: 'b' })).toEqual({ A: 'b', MODELAB_THREADS_PER_PROCESS: String(threadsPerProcess(2)) });
    expect(jobEnv({ MODELAB_WORKERS: '3' })).toEqual({ MODELAB_WORKERS: '3', MODELAB_THREADS_PER_PROCESS: String(threadsPerProcess(3)) });
  });

  it('threads are capped at what the newest onnx-cpu bench found one process to gain from', () => {
    // The fewest threads within 10% of the fastest count's throughput.
    const scaling = (rates: number[]) => ({ threadScaling: rates.map((samplesPerSec, k) => ({ threads: k + 1, samplesPerSec })) });
    expect(threadCap(scaling([1000, 1950, 2700, 2800]))).toBe(3);
    expect(threadCap(scaling([1000, 950]))).toBe(1);
    expect(threadCap(scaling([1000, 1050]))).toBe(1);
    expect(threadCap(scaling([1000, 1200]))).toBe(2);
    expect(threadCap({ threadScaling: null })).toBeNull();
    expect(threadCap({})).toBeNull();
    expect(threadsPerProcess(1, 16, 3)).toBe(3);
    expect(threadsPerProcess(8, 16, 3)).toBe(2);
    expect(threadsPerProcess(1, 16, null)).toBe(16);

    const home = mkdtempSync(path.join(os.tmpdir(), 'modelab-threads-'));
    try {
      const env = { MODELAB_HOME: home };
      expect(measuredThreadCap(env)).toBeNull();
      expect(workerEnv(1, env)['MODELAB_THREADS_PER_PROCESS']).toBe(String(os.availableParallelism()));
      const kept = (backend: string, startedAt: string, rates: number[]): BenchResult =>
        ({ schema: 'modelab.bench/1', backend, startedAt, training: { mlp: {} }, lineEval: {}, ...scaling(rates) }) as unknown as BenchResult;
      keepBenchResult(benchDirIn(home), kept('onnx-cpu', '2026-11-29T06:00:00.000Z', [1000, 1950]));
      // A newer bench of another backend does not count; the newest onnx-cpu one does.
      keepBenchResult(benchDirIn(home), kept('wasm', '2026-11-29T08:00:00.000Z', [1000]));
      expect(measuredThreadCap(env)).toBe(2);
      keepBenchResult(benchDirIn(home), kept('onnx-cpu', '2026-11-29T07:00:00.000Z', [1000, 980]));
      expect(measuredThreadCap(env)).toBe(1);
      expect(workerEnv(1, env)['MODELAB_THREADS_PER_PROCESS']).toBe('1');
      expect(jobEnv({ ...env, MODELAB_WORKERS: '1' })['MODELAB_THREADS_PER_PROCESS']).toBe('1');
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('the job process the runner starts gets its share of the cores, by the same rule as the workers', async () => {
    const { store, cleanup } = await tempStore();
    const envs: (NodeJS.ProcessEnv | undefined)[] = [];
    // A job process that never starts computing and exits when killed.
    const launcher: Launcher = (_entry, opts) => {
      envs.push(opts?.env);
      const exits: ((code: number | null, signal: string | null) => void)[] = [];
      return { pid: 4243, send: () => undefined, onMessage: () => undefined, onExit: (cb) => void exits.push(cb), kill: () => exits.forEach((cb) => cb(null, 'SIGKILL')) };
    };
    try {
      const runner = new JobRunner({ store, launcher, cancelGraceMs: 0, env: { BASE: '1', MODELAB_WORKERS: '4' } });
      const id = await store.createRun({ name: 'threads', preset: null, config: {} });
      const done = runner.submit(id, { recipe: {}, preset: null });
      while (!envs.length) await new Promise((r) => setTimeout(r, 10));
      expect(envs[0]).toEqual({ BASE: '1', MODELAB_WORKERS: '4', MODELAB_THREADS_PER_PROCESS: String(threadsPerProcess(4)) });
      await runner.cancel(id);
      await done;
    } finally {
      await cleanup();
    }
  });
});

describe('helpers started by the owner', () => {
  /** A launcher that records what it starts and starts nothing. */
  function recording(): { launcher: Launcher; started: { entry: string; env?: NodeJS.ProcessEnv }[] } {
    const started: { entry: string; env?: NodeJS.ProcessEnv }[] = [];
    const launcher: Launcher = (entry, opts) => {
      started.push({ entry, env: opts?.env });
      const p: JobProcess = { pid: 4242, send: () => undefined, onMessage: () => undefined, onExit: () => undefined, kill: () => undefined };
      return p;
    };
    return { launcher, started };
  }

  it('starts only the helper workers it knows, from its own entries, with the threads asked for', () => {
    const { launcher, started } = recording();
    const replies: unknown[] = [];
    const host = new HelperHost({ launcher, entry: (w) => `/built/${w}.cjs`, env: { BASE: '1' }, reply: (m) => replies.push(m) });
    expect(host.handle({ type: 'helper-start', id: 1, worker: 'train-worker', threads: '3' })).toBe(true);
    expect(started).toEqual([{ entry: '/built/train-worker.cjs', env: { BASE: '1', MODELAB_THREADS_PER_PROCESS: '3' } }]);
    expect(replies).toEqual([{ type: 'helper-started', id: 1, pid: 4242 }]);
    // A path, an unknown module or garbage threads: nothing is started from what the job sends.
    expect(host.handle({ type: 'helper-start', id: 2, worker: '../../evil' })).toBe(true);
    expect(host.handle({ type: 'helper-start', id: 3, worker: 'point-worker', threads: '1; rm -rf' })).toBe(true);
    expect(started.map((s) => s.entry)).toEqual(['/built/train-worker.cjs', '/built/point-worker.cjs']);
    expect(started[1]!.env).toEqual({ BASE: '1' });
    expect(replies).toContainEqual({ type: 'helper-exit', id: 2, code: null, signal: 'refused: not a helper worker' });
    // Not a helper message: left to the runner.
    expect(host.handle({ type: 'progress' })).toBe(false);
    expect(host.handle(null)).toBe(false);
  });
});
