/**
 * Runs a recipe end to end in this process: load data, train every endpoint, evaluate them, build and evaluate every
 * path, and compute barrier metrics. Tells what it computes, its progress included, as run events (events.ts) through
 * one sink; cancellable through an AbortSignal.
 */
import { type BackendRecord } from '../backend/backends';
import type { Dataset } from '../data/dataset';
import { loadDataset } from '../data/load';
import { evaluateHost } from '../eval/host';
import { LOADED_TRAINING, loadedEndpoints } from './loaded-endpoints';
import type { HostParams } from '../nn/params';
import { type ArchSpec, describeArch, parameterCount } from '../nn/spec';
import type { ParamPath } from '../paths/path';
import type { CurvePoint } from '../train/loop';
import type { PointWorkerPool } from '../paths/point-workers';
import { type TrainConfig, type TrainResult, train } from '../train/loop';
import { throwIfCancelled } from '../util/errors';
import type { ProgressFn } from '../util/progress';
import { ExperimentContext } from './context';
import { buildAndEvaluatePath, pointwiseWorkEstimate } from './paths';
import { buildPlane } from './plane';
import { runPlan, stageKey } from '../recipe/plan';
import { type RunEvent, type RunEventSink, tellNow } from './events';
import { checkResources } from '../recipe/resources';
import { applyRunEvent, emptyRun, finishedRun } from './run-so-far';
import { type EndpointResult, type PathResult, type RunResult, describeDataset, runStart } from './result';
import { endpointSeed, pathName, resolveArchitecture, trainingFor } from '../recipe/resolve';
import { stabilityReport } from './stability';
import type { Recipe } from '../recipe/schema';

export interface RunOptions {
  backend: BackendRecord;
  preset?: string;
  dataDir?: string;
  signal?: AbortSignal;
  /** What the run computes, as it goes (experiment/events.ts): the plan at setup, progress, training curve points,
   *  the evaluation data, each endpoint, the stability report, each path, the plane, and each training checkpoint
   *  (`training.checkpointEvery`) when the endpoints train here (a `trainEndpoints` hook reports its own). */
  onEvent?: RunEventSink;
  /** Trains the endpoints (e.g. in parallel processes, src-main/jobs/); must give what `train` gives for each job,
   *  and report progress and curve points through `ctx`. Default: one after the other in this process. */
  trainEndpoints?: (
    jobs: EndpointTrainJob[],
    ctx: { spec: ArchSpec; data: Dataset; signal?: AbortSignal; onProgress?: ProgressFn; onCurvePoint?: (endpoint: string, p: CurvePoint) => void },
  ) => Promise<TrainResult[]>;
  /** Evaluates a share of the points inside 'line'/'curve' segments in a helper process (paths/point-workers.ts;
   *  src-main/jobs/points.ts). Told the estimated work before training and the evaluation sets once chosen; the
   *  caller owns it (closes it after the run). Default: every point in this process. */
  pointWorkers?: PointWorkerPool;
}

/** One endpoint's training, as `trainEndpoints` receives it. */
export interface EndpointTrainJob {
  name: string;
  seed: number;
  config: TrainConfig;
  stage: string;
  label: string;
}

async function timed<T>(timings: Record<string, number>, key: string, f: () => Promise<T> | T): Promise<T> {
  const t0 = performance.now();
  try {
    return await f();
  } finally {
    timings[key] = (performance.now() - t0) / 1000;
  }
}

export async function runRecipe(recipe: Recipe, opts: RunOptions): Promise<RunResult> {
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const timings: Record<string, number> = {};
  // The document is the fold of the run's events (experiment/run-so-far.ts), as every consumer folds them.
  let run = emptyRun;
  const emit = async (e: RunEvent): Promise<void> => {
    run = applyRunEvent(run, e);
    await opts.onEvent?.(e);
  };
  // Progress and curve points come from inside the computations' loops: told at once (the run's fold keeps neither).
  const onEvent = opts.onEvent;
  const onProgress: ProgressFn | undefined = onEvent && ((progress) => tellNow(onEvent, { kind: 'progress', progress }));
  const onCurvePoint = onEvent && ((endpoint: string, p: CurvePoint) => tellNow(onEvent, { kind: 'curve', endpoint, points: [p] }));
  await emit({ kind: 'environment', start: runStart(recipe, opts, startedAt) });
  checkResources(recipe);
  const data = await timed(timings, 'data', () => loadDataset(recipe.dataset, { dataDir: opts.dataDir }));
  const spec = resolveArchitecture(recipe.architecture, data.inputShape, data.classes);
  const architecture = { spec, description: describeArch(spec), parameters: parameterCount(spec) };
  await emit({ kind: 'plan', plan: runPlan(recipe), architecture, dataset: describeDataset(data) });
  if (opts.pointWorkers?.prepare) {
    const ev = recipe.evaluation;
    const evalSamples = Math.min(ev.trainSamples ?? data.train.n, data.train.n) + Math.min(ev.testSamples ?? data.test.n, data.test.n);
    opts.pointWorkers.prepare({ spec, pointwiseMacs: pointwiseWorkEstimate(recipe, spec, evalSamples) });
  }

  const endpoints: EndpointResult[] = [];
  const weights = new Map<string, HostParams>();
  // Endpoints with a weights file are read (and checked against the architecture) before anything trains.
  const loaded = loadedEndpoints(recipe, spec);
  const jobs: EndpointTrainJob[] = recipe.endpoints.flatMap((e, i) =>
    loaded.has(e.name) ? [] : [{ name: e.name, seed: endpointSeed(recipe, i), config: trainingFor(recipe, i), stage: stageKey.train(e.name), label: `train ${e.name}` }],
  );
  throwIfCancelled(opts.signal);
  const trained = opts.trainEndpoints && jobs.length ? await opts.trainEndpoints(jobs, { spec, data, signal: opts.signal, onProgress, onCurvePoint }) : null;
  for (let i = 0, j = -1; i < recipe.endpoints.length; i++) {
    throwIfCancelled(opts.signal);
    const e = recipe.endpoints[i]!;
    const file = loaded.get(e.name);
    if (file) {
      weights.set(e.name, file);
      endpoints.push({ name: e.name, seed: endpointSeed(recipe, i), train: { loss: NaN, acc: NaN }, test: { loss: NaN, acc: NaN }, training: LOADED_TRAINING });
      continue;
    }
    const { seed, config, stage, label } = jobs[++j]!;
    const r = trained
      ? trained[j]!
      : await timed(timings, stage, () =>
          train(spec, data, config, {
            seed,
            stage,
            label,
            onProgress,
            signal: opts.signal,
            ...(onCurvePoint ? { onCurvePoint: (p: CurvePoint) => onCurvePoint(e.name, p) } : {}),
            ...(opts.onEvent ? { onCheckpoint: (params: HostParams, epoch: number, step: number) => emit({ kind: 'checkpoint', endpoint: e.name, epoch, step, params }) } : {}),
          }),
        );
    if (trained) timings[stage] = r.seconds;
    weights.set(e.name, r.params);
    endpoints.push({
      name: e.name,
      seed,
      train: { loss: NaN, acc: NaN },
      test: { loss: NaN, acc: NaN },
      training: { steps: r.steps, samples: r.samples, seconds: r.seconds, samplesPerSec: r.samplesPerSec, curve: r.curve },
    });
  }

  const ctx = new ExperimentContext(recipe, spec, data, weights, onProgress, opts.signal, opts.pointWorkers);
  const built: { result: PathResult; path: ParamPath }[] = [];
  try {
    await emit({ kind: 'eval-data', sets: { train: ctx.evalTrain, test: ctx.evalTest } });
    await opts.pointWorkers?.setEvaluationData({ train: ctx.evalTrain, test: ctx.evalTest, inputShape: data.inputShape, batchSize: recipe.evaluation.batchSize });
    await timed(timings, 'eval:endpoints', async () => {
      // BatchNorm networks: statistics from the same training pass every path point gets (no-op without BN).
      await ctx.finalizeEndpointBatchNorm();
      for (const [index, e] of endpoints.entries()) {
        const theta = weights.get(e.name)!;
        e.train = await evaluateHost(spec, theta, ctx.splits.train);
        e.test = await evaluateHost(spec, theta, ctx.splits.test);
        ctx.endpointMetrics.set(e.name, { train: e.train, test: e.test });
        await emit({ kind: 'endpoint', index, endpoint: e, params: theta });
      }
    });
    const stability = await timed(timings, stageKey.stability, () => stabilityReport(ctx));
    if (stability) await emit({ kind: 'stability', stability });
    ctx.noiseStability = stability?.noise;
    for (let i = 0; i < recipe.paths.length; i++) {
      throwIfCancelled(opts.signal);
      const p = recipe.paths[i]!;
      const { result, path } = await timed(timings, stageKey.path(pathName(recipe, i)), () => buildAndEvaluatePath(ctx, p, i));
      built.push({ result, path });
      await emit({ kind: 'path', index: i, result, path });
    }
    if (recipe.plane) {
      const cfg = recipe.plane;
      const plane = await timed(timings, stageKey.plane, () => buildPlane(ctx, cfg, built));
      await emit({ kind: 'plane', plane });
    }
  } finally {
    ctx.dispose();
  }
  timings['total'] = (performance.now() - t0) / 1000;
  await emit({ kind: 'done', finishedAt: new Date().toISOString(), timings: { ...timings } });
  return finishedRun(run);
}
