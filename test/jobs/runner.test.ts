/**
 * Jobs: experiments in their own processes, streaming and persisting as they go; two at once; a queue behind the
 * concurrency limit; cancel; kill -9 of a job process (crashed, partial curves kept); a full or read-only disk (failed
 * with the reason, earlier runs intact).
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src-main/engine/backend/backends';
import { runRecipe } from '../../src-main/engine/experiment/run';
import { applyRunEvent, completedRun, emptyRun } from '../../src-main/engine/experiment/run-so-far';
import { storedDocument } from '../../src-main/store/bundle';
import { type JobEvent, JobRunner } from '../../src-main/jobs/runner';
import { type HistoryStore, pidAlive } from '../../src-main/store/history';
import { tempStore } from '../store/helpers';
import { longRecipe, tinyRecipe } from './recipes';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, f: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs = 60_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Child processes of `pid` (Linux /proc; empty elsewhere). */
export function childrenOf(pid: number): number[] {
  if (process.platform !== 'linux') return [];
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(d));
    } catch {
      // gone
    }
  }
  return out;
}

/** A process's command line ('' once it is gone). */
function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

let store: HistoryStore;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ store, cleanup } = await tempStore());
});
afterAll(async () => cleanup());

async function start(runner: JobRunner, recipe: ReturnType<typeof tinyRecipe>): Promise<{ id: string; done: ReturnType<JobRunner['submit']> }> {
  const id = await store.createRun({ name: recipe.name, preset: null, config: recipe });
  return { id, done: runner.submit(id, { recipe, preset: null, backend: 'wasm' }) };
}

describe('a job', () => {
  it('runs in its own process (endpoints in two more), streams events, and everything lands in the history: the same results as in process', async () => {
    const runner = new JobRunner({ store, parallelEndpoints: 'on' });
    const events: JobEvent[] = [];
    runner.on((e) => events.push(e));
    const recipe = tinyRecipe();
    const { id, done } = await start(runner, recipe);
    const outcome = await done;
    expect(outcome).toEqual({ runId: id, status: 'finished', error: null });
    const types = new Set<string>(events.map((e) => (e.type === 'run' ? e.event.kind : e.type)));
    for (const t of ['status', 'environment', 'plan', 'progress', 'curve', 'endpoint', 'eval-data', 'stability', 'path', 'done']) expect(types.has(t), t).toBe(true);
    // What a front end is sent folds, with the engine's reducer, into the document the history keeps.
    const folded = completedRun(events.flatMap((e) => (e.type === 'run' ? [e.event] : [])).reduce(applyRunEvent, emptyRun));
    expect(folded?.paths.map((p) => p.name)).toEqual(['linear', 'theorem1']);
    const statuses = events.filter((e): e is Extract<JobEvent, { type: 'status' }> => e.type === 'status').map((e) => e.status);
    expect(statuses).toEqual(['running', 'finished']);

    const d = await store.get(id);
    expect(d.status).toBe('finished');
    expect(d.pid).toBeNull();
    expect(d.environment).toMatchObject({ backend: 'wasm', dataset: { name: 'gaussian-mixture', evalTrainSize: 300 } });
    expect(d.artifacts.map((a) => a.role)).toEqual(['endpoint:A', 'endpoint:B', 'eval-data', 'path:linear', 'path:theorem1']);
    for (const a of d.artifacts) expect(store.artifacts.has(a.hash)).toBe(true);
    expect(readdirSync(store.artifacts.tmpDir)).toEqual([]);

    // The same recipe in this process, same backend: the same measurements.
    const backend = await selectBackend('wasm');
    const local = await runRecipe(recipe, { backend });
    expect(d.endpoints.map((e) => [e.name, e.seed, e.train, e.test, e.training.curve])).toEqual(
      local.endpoints.map((e) => [e.name, e.seed, e.train, e.test, e.training.curve]),
    );
    expect(d.paths.map((p) => p.points)).toEqual(local.paths.map((p) => p.points));
    expect(d.stability).toEqual(JSON.parse(JSON.stringify(local.stability)));
    expect(JSON.parse(JSON.stringify({ ...folded, runId: id }))).toEqual(JSON.parse(JSON.stringify(storedDocument(d))));
  });

  it('two jobs run at the same time', async () => {
    const runner = new JobRunner({ store, maxConcurrent: 2, parallelEndpoints: 'off' });
    const running = new Set<string>();
    let overlap = false;
    runner.on((e) => {
      if (e.type !== 'status') return;
      if (e.status === 'running') running.add(e.runId);
      else running.delete(e.runId);
      if (running.size === 2) overlap = true;
    });
    const a = await start(runner, tinyRecipe('first', 1));
    const b = await start(runner, tinyRecipe('second', 2));
    const [oa, ob] = await Promise.all([a.done, b.done]);
    expect([oa.status, ob.status]).toEqual(['finished', 'finished']);
    expect(overlap).toBe(true);
    const da = await store.get(a.id);
    const db = await store.get(b.id);
    expect(da.endpoints[0]!.seed).not.toBe(db.endpoints[0]!.seed);
  });

  it('beyond the limit, jobs wait in the queue', async () => {
    const runner = new JobRunner({ store, maxConcurrent: 1, parallelEndpoints: 'off' });
    const a = await start(runner, tinyRecipe('one', 3));
    const b = await start(runner, tinyRecipe('two', 4));
    await until('the first job to run', async () => (await store.summary(a.id)).status === 'running');
    expect((await store.summary(b.id)).status).toBe('queued');
    expect(runner.owned()).toEqual({ running: [a.id], queued: [b.id] });
    const oa = await a.done;
    expect(oa.status).toBe('finished');
    expect((await b.done).status).toBe('finished');
  });

  it('cancel stops the job within a training step: cancelled, process gone, curve so far kept', async () => {
    const runner = new JobRunner({ store });
    const { id, done } = await start(runner, longRecipe('to cancel'));
    const pid = await until('a curve point', async () => {
      const d = await store.get(id);
      return Object.values(d.curves).some((c) => c.length > 0) && d.pid;
    });
    const t0 = Date.now();
    expect(await runner.cancel(id)).toBe('stopping');
    const outcome = await done;
    const took = Date.now() - t0;
    expect(outcome.status).toBe('cancelled');
    expect(took).toBeLessThan(5000);
    await until('the job process to exit', () => !pidAlive(pid), 5000);
    const d = await store.get(id);
    expect(d.status).toBe('cancelled');
    expect(Object.values(d.curves).flat().length).toBeGreaterThan(0);
    expect(d.endpoints).toEqual([]);
  });

  it('cancelling a queued job cancels it at once', async () => {
    const runner = new JobRunner({ store, maxConcurrent: 1 });
    const a = await start(runner, longRecipe('blocking'));
    const b = await start(runner, tinyRecipe('waiting'));
    expect(await runner.cancel(b.id)).toBe('cancelled');
    expect((await b.done).status).toBe('cancelled');
    expect((await store.summary(b.id)).status).toBe('cancelled');
    await runner.cancel(a.id);
    expect((await a.done).status).toBe('cancelled');
  });

  it('kill -9 of the job process mid-training: crashed, with the partial curves kept', async () => {
    const runner = new JobRunner({ store, parallelEndpoints: 'on' });
    const recipe = longRecipe('to kill');
    recipe.endpoints = [{ name: 'A' }, { name: 'B' }];
    const { id, done } = await start(runner, recipe);
    const pid = await until('three curve points of each endpoint', async () => {
      const d = await store.get(id);
      return (d.curves['A']?.length ?? 0) >= 3 && (d.curves['B']?.length ?? 0) >= 3 && d.pid;
    });
    // One training process per endpoint, started by the runner (this process, the top one: jobs/helpers.ts), none
    // by the job process.
    const trainers = childrenOf(process.pid).filter((c) => cmdline(c).includes('train-worker'));
    if (process.platform === 'linux') {
      expect(trainers).toHaveLength(2);
      expect(childrenOf(pid)).toEqual([]);
    }
    const before = await store.get(id);
    process.kill(pid, 'SIGKILL');
    const outcome = await done;
    expect(outcome.status).toBe('crashed');
    expect(outcome.error).toMatch(/SIGKILL/);
    await store.detectCrashed();
    const d = await store.get(id);
    expect(d.status).toBe('crashed');
    expect(d.error).toMatch(new RegExp(`pid ${pid}.*killed by SIGKILL`));
    for (const e of ['A', 'B']) {
      expect(d.curves[e]!.length).toBeGreaterThanOrEqual(before.curves[e]!.length);
      expect(d.curves[e]!.slice(0, before.curves[e]!.length)).toEqual(before.curves[e]);
    }
    expect(d.environment?.dataset?.name).toBe('gaussian-mixture');
    // The training processes do not outlive their experiment process: the runner stops them when it dies.
    for (const t of trainers) await until(`training process ${t} to exit`, () => !pidAlive(t), 10_000);
  });
});

describe('faults while saving', () => {
  let earlier: string;
  let earlierDetail: unknown;
  beforeAll(async () => {
    const runner = new JobRunner({ store, parallelEndpoints: 'off' });
    const { id, done } = await start(runner, tinyRecipe('earlier'));
    expect((await done).status).toBe('finished');
    earlier = id;
    earlierDetail = await store.get(id);
  });

  const faults: [string, NodeJS.ProcessEnv, RegExp][] = [
    // The reason in plain words, naming the folder (store/errors.ts), not the bare error code.
    ['a full disk (ENOSPC on every artifact write)', { MODELAB_FAULT_INJECT: 'artifact-write:ENOSPC' }, /^no space left on the disk holding .*history\.artifacts$/],
    ['a read-only file system (EROFS on every artifact write)', { MODELAB_FAULT_INJECT: 'artifact-write:EROFS' }, /^cannot write .*history\.artifacts: its disk is read-only$/],
  ];
  for (const [what, env, reason] of faults) {
    it(`${what}: the run is failed with the reason, earlier runs intact`, async () => {
      const runner = new JobRunner({ store, env: { ...process.env, ...env } });
      const { id, done } = await start(runner, tinyRecipe('doomed'));
      const outcome = await done;
      expect(outcome.status).toBe('failed');
      expect(outcome.error).toMatch(reason);
      const d = await store.get(id);
      expect(d.status).toBe('failed');
      expect(d.error).toMatch(reason);
      // What was computed before the failure is kept (the curves of the trained endpoints).
      expect(Object.keys(d.curves).length).toBeGreaterThan(0);
      expect(await store.get(earlier)).toEqual(earlierDetail);
    });
  }

  it('an artifact folder that cannot be written (its staging folder is a file): failed, earlier runs intact', async () => {
    const tmp = store.artifacts.tmpDir;
    rmSync(tmp, { recursive: true, force: true });
    writeFileSync(tmp, 'not a folder');
    try {
      const runner = new JobRunner({ store, parallelEndpoints: 'off' });
      const { id, done } = await start(runner, tinyRecipe('unwritable'));
      const outcome = await done;
      expect(outcome.status).toBe('failed');
      expect(outcome.error).toMatch(/EEXIST|ENOTDIR/);
      expect((await store.summary(id)).error).toMatch(/EEXIST|ENOTDIR/);
      expect(await store.get(earlier)).toEqual(earlierDetail);
    } finally {
      rmSync(tmp, { force: true });
    }
    expect(existsSync(tmp)).toBe(false);
  });
});
