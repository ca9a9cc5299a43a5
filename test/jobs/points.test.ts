/**
 * Path points and a loss plane's grid shared with point workers (jobs/points.ts, jobs/point-worker.ts): the same
 * points as evaluating every one here; cancelling stops the worker; a crashed worker's points are evaluated here; the
 * worker exits with its owner; no process, file or tensor is left behind; the 'auto' decision.
 */
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend, type BackendRecord } from '../../src-main/engine/backend/backends';
import { featureCount } from '../../src-main/engine/data/dataset';
import { loadDataset } from '../../src-main/engine/data/load';
import { gaussianMixture } from '../../src-main/engine/data/synthetic';
import { DeviceSplit } from '../../src-main/engine/eval/evaluate';
import { initParams } from '../../src-main/engine/nn/params';
import type { ArchSpec } from '../../src-main/engine/nn/spec';
import { linearPath, tGrid } from '../../src-main/engine/paths/path';
import { type PlaneGridResult, evaluatePlaneGrid, planeFrame, planeGrid } from '../../src-main/engine/plane/plane';
import { evaluatePathStructured } from '../../src-main/engine/paths/structured-eval';
import { pointwiseWorkEstimate } from '../../src-main/engine/experiment/paths';
import { loadPreset } from '../../src-main/engine/recipe/presets';
import { parseRecipe, resolveArchitecture } from '../../src-main/engine/recipe/resolve';
import type { RunResult } from '../../src-main/engine/experiment/result';
import { runRecipe } from '../../src-main/engine/experiment/run';
import type { Recipe } from '../../src-main/engine/recipe/schema';
import { CancelledError } from '../../src-main/engine/util/errors';
import { POINTS_MIN_WORK, PointProcessPool, SpreadPointPool, pointWorkerPool, useParallelPoints } from '../../src-main/jobs/points';
import { forkLauncher } from '../../src-main/jobs/process';
import { JobRunner } from '../../src-main/jobs/runner';
import type { HistoryStore } from '../../src-main/store/history';
import { tempStore } from '../store/helpers';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Child processes of `pid` (Linux /proc). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(d));
    } catch {
      // gone
    }
  }
  return out;
}

/** Whether a process exists and is not a zombie (an orphan's zombie may never be reaped in a container). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function gone(pid: number, timeoutMs = 10_000): Promise<boolean> {
  const t0 = Date.now();
  while (running(pid)) {
    if (Date.now() - t0 > timeoutMs) return false;
    await sleep(50);
  }
  return true;
}

/** A few seconds: a straight line, a polygonal chain (two 'line' segments) and a quadratic Bézier curve, on
 *  evaluation sets of three batches. */
function sharedRecipe(): Recipe {
  return parseRecipe({
    name: 'shared-points',
    seed: 3,
    dataset: { name: 'gaussian-mixture', classes: 3, dim: 16, train: 600, test: 300, seed: 0 },
    architecture: { type: 'mlp', hidden: [32, 32] },
    training: { optimizer: 'sgd', lr: 0.05, batchSize: 50, epochs: 2 },
    paths: [
      { type: 'linear', points: 11 },
      { type: 'polychain', bends: 1, epochs: 1, batchSize: 50, points: 11 },
      { type: 'bezier', order: 2, epochs: 1, batchSize: 50, points: 9 },
    ],
    evaluation: { trainSamples: null, testSamples: null, batchSize: 256 },
  });
}

/** A few seconds of path evaluation (61 points of a 256-256 MLP on 4,000 samples), hardly any training. */
function slowPathRecipe(): Recipe {
  return parseRecipe({
    name: 'slow-path',
    seed: 1,
    dataset: { name: 'gaussian-mixture', classes: 4, dim: 64, train: 3000, test: 1000, seed: 0 },
    architecture: { type: 'mlp', hidden: [256, 256] },
    training: { optimizer: 'sgd', lr: 0.05, batchSize: 64, steps: 3 },
    paths: [{ type: 'linear', points: 61 }],
    evaluation: { trainSamples: null, testSamples: null, batchSize: 1000 },
  });
}

function expectSamePoints(a: RunResult, b: RunResult): void {
  expect(b.paths.map((p) => [p.name, p.points.length])).toEqual(a.paths.map((p) => [p.name, p.points.length]));
  let worst = 0;
  a.paths.forEach((p, i) =>
    p.points.forEach((x, k) => {
      const y = b.paths[i]!.points[k]!;
      expect(y.t).toBe(x.t);
      for (const s of ['train', 'test'] as const) worst = Math.max(worst, Math.abs(x[s].loss - y[s].loss), Math.abs(x[s].acc - y[s].acc));
    }),
  );
  expect(worst).toBeLessThanOrEqual(1e-6);
}

let backend: BackendRecord;
let tmp = '';
const envBefore = process.env['MODELAB_PARALLEL_POINTS'];
beforeAll(async () => {
  backend = await selectBackend('wasm');
  tmp = mkdtempSync(path.join(os.tmpdir(), 'modelab-points-'));
});
afterEach(() => {
  if (envBefore === undefined) delete process.env['MODELAB_PARALLEL_POINTS'];
  else process.env['MODELAB_PARALLEL_POINTS'] = envBefore;
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('path points in a point worker', () => {
  it('give the same points as in this process (MODELAB_PARALLEL_POINTS=1), and leave no process, file or tensor', async () => {
    const recipe = sharedRecipe();
    const local = await runRecipe(recipe, { backend });

    process.env['MODELAB_PARALLEL_POINTS'] = '1';
    const warnings: string[] = [];
    const pool = pointWorkerPool({ parallel: 'auto', backend: backend.backend, tmpDir: tmp, onWarning: (m) => warnings.push(m), workers: 2 }) as PointProcessPool;
    expect(pool).toBeInstanceOf(PointProcessPool);
    let pid: number | undefined;
    const tensors = tf.memory().numTensors;
    const shared = await runRecipe(recipe, { backend, pointWorkers: pool, onEvent: (e) => void (e.kind === 'progress' && (pid ??= pool.pid)) });
    expect(tf.memory().numTensors).toBe(tensors);
    expect(pid).toBeGreaterThan(0);
    expect(running(pid!)).toBe(true); // serves every path of the run, until closed
    expect(pool.served).toBeGreaterThan(0);
    expect(warnings).toEqual([]);
    await pool.close();
    expect(await gone(pid!)).toBe(true);
    expect(readdirSync(tmp)).toEqual([]);

    expectSamePoints(local, shared);
    expect(shared.paths.map((p) => p.cost.pointwise)).toEqual(local.paths.map((p) => p.cost.pointwise));
    expect(shared.endpoints.map((e) => [e.train, e.test])).toEqual(local.endpoints.map((e) => [e.train, e.test]));
  });

  const mlp: ArchSpec = {
    input: [4, 4, 1],
    layers: [
      { type: 'dense', units: 24, bias: true, dropout: 0 },
      { type: 'dense', units: 24, bias: true, dropout: 0 },
      { type: 'dense', units: 3, bias: true, dropout: 0 },
    ],
  };
  const cnn: ArchSpec = {
    input: [4, 4, 1],
    layers: [
      { type: 'conv', filters: 4, kernel: 3, stride: 1, padding: 'same', bias: true, pool: { size: 2, stride: 2 }, dropout: 0 },
      { type: 'dense', units: 3, bias: true, dropout: 0 },
    ],
  };
  it.each([
    ['an MLP', mlp],
    ['a CNN', cnn],
  ])('evaluatePathStructured with a pool (%s): the same points, no tensor left in this process', async (_name, spec) => {
    const base = gaussianMixture({ classes: 3, dim: 16, train: 500, test: 200, separation: 4, noise: 1, clustersPerClass: 1, seed: 2 });
    const data = { ...base, inputShape: [4, 4, 1] as [number, number, number] };
    const f = featureCount(data);
    const pool = new PointProcessPool({ parallel: true, backend: backend.backend, tmpDir: tmp });
    pool.setEvaluationData({ train: data.train, test: data.test, inputShape: data.inputShape, batchSize: 128 });
    const splits = { train: new DeviceSplit(data.train, f, 128), test: new DeviceSplit(data.test, f, 128) };
    const checkX = tf.tensor2d(data.train.x.subarray(0, 32 * f), [32, f]);
    const line = linearPath(initParams(spec, 1), initParams(spec, 2));
    const baseline = tf.memory().numTensors;
    const ts = tGrid(line, { points: 41 });
    const here = await evaluatePathStructured(spec, line, ts, splits, checkX);
    expect(tf.memory().numTensors).toBe(baseline);
    // The first session starts the worker (this process may well evaluate every point meanwhile); a later one
    // finds it ready and shares.
    for (let k = 0; k < 10 && pool.served === 0; k++) {
      const there = await evaluatePathStructured(spec, line, ts, splits, checkX, { pointWorkers: pool });
      expect(tf.memory().numTensors).toBe(baseline);
      expect(there.points).toEqual(here.points);
      if (!pool.served) await sleep(500);
    }
    expect(pool.served).toBeGreaterThan(0);
    await pool.close();
    checkX.dispose();
    splits.train.dispose();
    splits.test.dispose();
  });

  it('cancelling the run stops the worker at once', async () => {
    const idle = new PointProcessPool({ parallel: true, backend: backend.backend, tmpDir: tmp });
    await idle.close(); // a pool that never started closes at once
    const controller = new AbortController();
    const p2 = new PointProcessPool({ parallel: true, backend: backend.backend, tmpDir: tmp, signal: controller.signal });
    let pid: number | undefined;
    const run = runRecipe(slowPathRecipe(), {
      backend,
      signal: controller.signal,
      pointWorkers: p2,
      onEvent: (e) => {
        if (e.kind !== 'progress') return;
        pid ??= p2.pid;
        if (e.progress.stage === 'path:linear' && p2.served >= 2) controller.abort();
      },
    });
    await expect(run).rejects.toBeInstanceOf(CancelledError);
    expect(pid).toBeGreaterThan(0);
    expect(await gone(pid!, 5000)).toBe(true);
    await p2.close();
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('a crashed worker: its points are evaluated here, the same numbers, with one warning', async () => {
    const recipe = slowPathRecipe();
    const local = await runRecipe(recipe, { backend });
    const warnings: string[] = [];
    const pool = new PointProcessPool({ parallel: true, backend: backend.backend, tmpDir: tmp, onWarning: (m) => warnings.push(m) });
    let killed = 0;
    const shared = await runRecipe(recipe, {
      backend,
      pointWorkers: pool,
      onEvent: (e) => {
        if (!killed && e.kind === 'progress' && e.progress.stage === 'path:linear' && pool.served >= 2) {
          killed = pool.pid!;
          process.kill(killed, 'SIGKILL');
        }
      },
    });
    expect(killed).toBeGreaterThan(0);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/point worker stopped \(signal SIGKILL\).*evaluated in the experiment process/);
    expect(pool.served).toBeLessThan(shared.paths[0]!.cost.pointwise);
    expectSamePoints(local, shared);
    await pool.close();
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('the worker exits when its owner dies', async () => {
    const owner = forkLauncher(path.join(import.meta.dirname, 'point-owner.ts'));
    const pid = await new Promise<number>((resolve, reject) => {
      owner.onMessage((m) => resolve((m as { worker: number }).worker));
      owner.onExit((code) => reject(new Error(`the owner exited (${code})`)));
      owner.send({ tmpDir: tmp });
    });
    expect(running(pid)).toBe(true);
    owner.kill('SIGKILL');
    expect(await gone(pid)).toBe(true);
  });

  it('spread over several point workers (workers: 3, two beside this process): the same points, nothing left', async () => {
    const recipe = sharedRecipe();
    const local = await runRecipe(recipe, { backend });
    process.env['MODELAB_PARALLEL_POINTS'] = '1';
    const pool = pointWorkerPool({ parallel: 'auto', backend: backend.backend, tmpDir: tmp, workers: 3 }) as SpreadPointPool;
    expect(pool).toBeInstanceOf(SpreadPointPool);
    expect(pool.pools).toHaveLength(2);
    const pids = new Set<number>();
    const tensors = tf.memory().numTensors;
    const shared = await runRecipe(recipe, {
      backend,
      pointWorkers: pool,
      onEvent: (e) => void (e.kind === 'progress' && pool.pools.forEach((p) => p.pid && pids.add(p.pid))),
    });
    expect(tf.memory().numTensors).toBe(tensors);
    expect(pool.pools.every((p) => p.started)).toBe(true);
    expect(pids.size).toBe(2);
    expectSamePoints(local, shared);
    await pool.close();
    for (const pid of pids) expect(await gone(pid)).toBe(true);
    expect(readdirSync(tmp)).toEqual([]);
  });

  it("'auto': a second core, a one-core backend and enough work; MODELAB_PARALLEL_POINTS forces it", () => {
    delete process.env['MODELAB_PARALLEL_POINTS'];
    const multi = os.availableParallelism() > 1;
    expect(useParallelPoints('on', 'wasm', 0)).toBe(true);
    expect(useParallelPoints('off', 'wasm')).toBe(false);
    expect(useParallelPoints('auto', 'wasm')).toBe(multi);
    expect(useParallelPoints('auto', 'cpu', POINTS_MIN_WORK)).toBe(multi);
    expect(useParallelPoints('auto', 'wasm', POINTS_MIN_WORK - 1)).toBe(false);
    expect(useParallelPoints('auto', 'tensorflow')).toBe(false);
    expect(useParallelPoints('auto', 'webgpu')).toBe(false);
    expect(pointWorkerPool({ parallel: 'auto', backend: 'tensorflow', tmpDir: tmp })).toBeUndefined();
    expect(pointWorkerPool({ parallel: false, backend: 'wasm', tmpDir: tmp })).toBeUndefined();
    process.env['MODELAB_PARALLEL_POINTS'] = '0';
    expect(useParallelPoints('auto', 'wasm')).toBe(false);
    expect(pointWorkerPool({ parallel: 'auto', backend: 'wasm', tmpDir: tmp })).toBeUndefined();
    process.env['MODELAB_PARALLEL_POINTS'] = '1';
    expect(useParallelPoints('auto', 'tensorflow', 0)).toBe(true);

    // The mnist-mlp line (59 points × 20,000 samples) is far above the threshold, the smoke preset far below.
    const mnist = loadPreset('mnist-mlp') as Recipe;
    const mlp = resolveArchitecture(mnist.architecture, [28, 28, 1], 10);
    expect(pointwiseWorkEstimate(mnist, mlp, 20000)).toBeCloseTo(59 * 20000 * (512 * 512 + 512 * 10), -3);
    expect(pointwiseWorkEstimate(mnist, mlp, 20000)).toBeGreaterThan(50 * POINTS_MIN_WORK);
    const smoke = loadPreset('smoke') as Recipe;
    const data = loadDataset(smoke.dataset);
    const smokeSpec = resolveArchitecture(smoke.architecture, data.inputShape, data.classes);
    expect(pointwiseWorkEstimate(smoke, smokeSpec, data.train.n + data.test.n)).toBeLessThan(POINTS_MIN_WORK);
  });
});

describe("a loss plane's grid in point workers", () => {
  const spec: ArchSpec = {
    input: [4, 4, 1],
    layers: [
      { type: 'dense', units: 48, bias: true, dropout: 0 },
      { type: 'dense', units: 48, bias: true, dropout: 0 },
      { type: 'dense', units: 3, bias: true, dropout: 0 },
    ],
  };
  const base = gaussianMixture({ classes: 3, dim: 16, train: 900, test: 400, separation: 4, noise: 1, clustersPerClass: 1, seed: 5 });
  const data = { ...base, inputShape: [4, 4, 1] as [number, number, number] };
  const frame = planeFrame(initParams(spec, 1), initParams(spec, 2), initParams(spec, 3));
  const grid = planeGrid(frame, 9, 0.2);
  const extra = [{ x: 0, y: 0 }, { x: frame.lengthAB, y: 0 }, { x: frame.p, y: frame.q }];
  // The plane takes the evaluation sets' first samples (as experiment/plane.ts does): 600 of 900, 300 of 400.
  const samples = { train: 600, test: 300 };
  const first = (n: number, s: typeof data.train) => ({ x: s.x.subarray(0, n * 16), y: s.y.subarray(0, n), n });

  async function grids(pool: PointProcessPool | SpreadPointPool, onProgress?: () => void): Promise<{ here: PlaneGridResult; there: PlaneGridResult }> {
    await pool.setEvaluationData({ train: data.train, test: data.test, inputShape: data.inputShape, batchSize: 128 });
    const splits = { train: new DeviceSplit(first(samples.train, data.train), 16, 128), test: new DeviceSplit(first(samples.test, data.test), 16, 128) };
    const baseline = tf.memory().numTensors;
    const here = await evaluatePlaneGrid(spec, frame, grid, splits, { extra });
    let there = here;
    // The first grid starts the workers (this process may evaluate every cell meanwhile); a later one shares.
    for (let k = 0; k < 10 && pool.served === 0; k++) {
      there = await evaluatePlaneGrid(spec, frame, grid, splits, { extra, share: { pool, samples }, onProgress });
      expect(tf.memory().numTensors).toBe(baseline);
      if (!pool.served) await sleep(500);
    }
    splits.train.dispose();
    splits.test.dispose();
    return { here, there };
  }

  function expectSameGrid(here: PlaneGridResult, there: PlaneGridResult): void {
    expect(there.extra).toEqual(here.extra);
    expect(there.train).toEqual(here.train);
    expect(there.test).toEqual(here.test);
    expect(there.train.loss.flat().every(Number.isFinite)).toBe(true);
  }

  it('in one worker: the same cells and anchors as in this process, nothing left behind', async () => {
    const pool = new PointProcessPool({ parallel: true, backend: backend.backend, tmpDir: tmp });
    const { here, there } = await grids(pool);
    expect(pool.served).toBeGreaterThan(0);
    expectSameGrid(here, there);
    const pid = pool.pid!;
    await pool.close();
    expect(await gone(pid)).toBe(true);
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('spread over two workers: the same cells', async () => {
    const pool = new SpreadPointPool([0, 1].map(() => new PointProcessPool({ parallel: true, backend: backend.backend, tmpDir: tmp, workers: 3 })));
    const { here, there } = await grids(pool);
    expectSameGrid(here, there);
    expect(pool.pools.every((p) => p.started)).toBe(true);
    await pool.close();
    expect(readdirSync(tmp)).toEqual([]);
  });

  it("a worker killed mid-grid: its cells are evaluated here, the same numbers, with one warning", async () => {
    const warnings: string[] = [];
    const pool = new PointProcessPool({ parallel: true, backend: backend.backend, tmpDir: tmp, onWarning: (m) => warnings.push(m) });
    let killed = 0;
    const { here, there } = await grids(pool, () => {
      if (!killed && pool.served >= 2) {
        killed = pool.pid!;
        process.kill(killed, 'SIGKILL');
      }
    });
    expect(killed).toBeGreaterThan(0);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/point worker stopped \(signal SIGKILL\)/);
    expect(pool.served).toBeLessThan(there.cost.points);
    expectSameGrid(here, there);
    await pool.close();
    expect(readdirSync(tmp)).toEqual([]);
  });

  it("a recipe's plane in the run's point worker: the same plane as without it", async () => {
    const recipe = parseRecipe({
      ...JSON.parse(JSON.stringify(sharedRecipe())),
      name: 'shared-plane',
      paths: [{ type: 'bezier', order: 2, epochs: 1, batchSize: 50, points: 5 }],
      plane: { size: 7, trainSamples: 400, testSamples: 200 },
    });
    const local = await runRecipe(recipe, { backend });
    const pool = new PointProcessPool({ parallel: true, backend: backend.backend, tmpDir: tmp });
    // The plane's cells are shared with the worker through a plane session (which cells the worker then takes is a
    // matter of timing: this process takes back what it has not started, so that count is not asserted).
    const planeSession = pool.planeSession.bind(pool);
    let planeSessions = 0;
    pool.planeSession = (...a: Parameters<typeof planeSession>) => {
      const s = planeSession(...a);
      if (s) planeSessions++;
      return s;
    };
    try {
      const shared = await runRecipe(recipe, { backend, pointWorkers: pool });
      expect(planeSessions).toBe(1);
      // The same numbers; only the cost's summation order differs.
      const { seconds: _a, cost: c1, ...mine } = local.plane!;
      const { seconds: _b, cost: c2, ...theirs } = shared.plane!;
      expect(theirs).toEqual(mine);
      expect(c2.points).toBe(c1.points);
      expect(c2.fullPassEquivalents).toBeCloseTo(c1.fullPassEquivalents, 9);
    } finally {
      await pool.close();
    }
    expect(readdirSync(tmp)).toEqual([]);
  });
});

/** A process's command line, or '' once it is gone. */
function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

describe('a stored run', () => {
  let store: HistoryStore;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ store, cleanup } = await tempStore());
  });
  afterAll(async () => cleanup());

  it('evaluates points in a point worker started by the runner for its job process (MODELAB_PARALLEL_POINTS=1): the same points', async () => {
    const runner = new JobRunner({ store, parallelEndpoints: 'off', env: { ...process.env, MODELAB_PARALLEL_POINTS: '1' } });
    const recipe = sharedRecipe();
    const id = await store.createRun({ name: recipe.name, preset: null, config: recipe });
    const done = runner.submit(id, { recipe, preset: null, backend: 'wasm' });
    const workers = new Set<number>();
    let finished = false;
    void done.finally(() => (finished = true));
    while (!finished) {
      // The top process (here, this one) starts the job's point worker (jobs/helpers.ts): a utility process cannot.
      // (The job may run short-lived tools of its own, such as `ldconfig -p` when it looks for backends: only its
      // workers must not be its children.)
      const job = runner.pidOf(id);
      if (job) expect(childrenOf(job).filter((c) => /point-worker|train-worker/.test(cmdlineOf(c)))).toEqual([]);
      for (const c of childrenOf(process.pid)) if (cmdlineOf(c).includes('point-worker')) workers.add(c);
      await sleep(50);
    }
    expect((await done).status).toBe('finished');
    expect(workers.size).toBe(1);
    for (const w of workers) expect(await gone(w)).toBe(true);
    const d = await store.get(id);
    const local = await runRecipe(recipe, { backend });
    expect(d.paths.map((p) => p.points)).toEqual(JSON.parse(JSON.stringify(local.paths.map((p) => p.points))));
    expect(readdirSync(store.artifacts.tmpDir)).toEqual([]);
  });
});
