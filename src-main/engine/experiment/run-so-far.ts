/**
 * A run as its events (events.ts) have told it so far, and the one pure reducer that folds an event into it. Every
 * consumer that follows a run's events folds the same way, and the experiment itself returns its own fold
 * (`finishedRun`: experiment/run.ts, experiment/counterexample-run.ts), so folding all of a finished run's events gives the
 * document the run returns (`completedRun`). The job's owner re-emits the events (jobs/runner.ts), so the live run page
 * (src-renderer) and `modelab run` fold them here too.
 *
 * Imports nothing at run time, so that the sandboxed renderer may import it (test/renderer/boundaries.test.ts).
 */
import type { RunPlan } from '../recipe/plan';
import type { CurvePoint } from '../train/loop';
import type { ProgressEvent } from '../util/progress';
import type { EndpointResult, PathResult, PlaneResult, RunHeader, RunResult, RunStart, StabilityReport } from './result';
import type { FoldableRunEvent } from './events';

/** What the dataset record holds before the evaluation sets are drawn: their sizes come with them. */
export type DatasetSoFar = Omit<RunResult['dataset'], 'evalTrainSize' | 'evalTestSize'> & Partial<Pick<RunResult['dataset'], 'evalTrainSize' | 'evalTestSize'>>;

/** Honestly partial: null until the event that tells it; endpoints and paths by their index, in the order they came. */
export interface RunSoFar {
  start: RunStart | null;
  plan: RunPlan | null;
  architecture: RunResult['architecture'] | null;
  dataset: DatasetSoFar | null;
  endpoints: EndpointResult[];
  stability: StabilityReport | null;
  paths: PathResult[];
  plane: PlaneResult | null;
  /** The latest progress of each stage, by stage key, in the order the stages first reported. */
  progress: Record<string, ProgressEvent>;
  /** Each endpoint's training curve as its points arrive, in step order (the endpoint event carries it whole). */
  curves: Record<string, CurvePoint[]>;
  /** Set by the last event, 'done'. */
  finished: { at: string; timings: Record<string, number> } | null;
}

export const emptyRun: RunSoFar = Object.freeze({
  start: null,
  plan: null,
  architecture: null,
  dataset: null,
  endpoints: [],
  stability: null,
  paths: [],
  plane: null,
  progress: {},
  curves: {},
  finished: null,
});

function placed<T>(list: readonly T[], index: number, item: T): T[] {
  const next = list.slice();
  next[index] = item;
  return next;
}

/** A curve with `points` merged in, kept in step order: a point at a step already there replaces it (the same point
 *  may come twice: from a stored run's curve, then in an event). A new array. */
export function mergeCurve(curve: readonly CurvePoint[], points: readonly CurvePoint[]): CurvePoint[] {
  const next = curve.slice();
  for (const p of points) {
    let i = next.length;
    while (i > 0 && next[i - 1]!.step > p.step) i--;
    if (i > 0 && next[i - 1]!.step === p.step) next[i - 1] = p;
    else next.splice(i, 0, p);
  }
  return next;
}

/** The run after one more event (a new object; `run` is left as it was). Checkpoints change nothing in the document. */
export function applyRunEvent(run: RunSoFar, e: FoldableRunEvent): RunSoFar {
  switch (e.kind) {
    case 'environment':
      return { ...run, start: e.start };
    case 'plan':
      return { ...run, plan: e.plan, architecture: e.architecture, dataset: { ...e.dataset } };
    case 'progress':
      return { ...run, progress: { ...run.progress, [e.progress.stage]: e.progress } };
    case 'curve':
      return { ...run, curves: { ...run.curves, [e.endpoint]: mergeCurve(run.curves[e.endpoint] ?? [], e.points) } };
    case 'eval-data':
      return run.dataset ? { ...run, dataset: { ...run.dataset, evalTrainSize: e.sets.train.n, evalTestSize: e.sets.test.n } } : run;
    case 'checkpoint':
      return run;
    case 'endpoint':
      return { ...run, endpoints: placed(run.endpoints, e.index, e.endpoint) };
    case 'stability':
      return { ...run, stability: e.stability };
    case 'path':
      return { ...run, paths: placed(run.paths, e.index, e.result) };
    case 'plane':
      return { ...run, plane: e.plane };
    case 'done':
      return { ...run, finished: { at: e.finishedAt, timings: e.timings } };
  }
}

/** The header of a finished run, its fields in the document's order. */
function finishedHeader(s: RunStart, finishedAt: string): RunHeader {
  return {
    schema: s.schema,
    modelab: s.modelab,
    name: s.name,
    preset: s.preset,
    startedAt: s.startedAt,
    finishedAt,
    backend: s.backend,
    device: s.device,
    tfjsVersion: s.tfjsVersion,
    backendDetails: s.backendDetails,
    config: s.config,
  };
}

/** The run's document once it finished and every part of the header is known; null before. */
export function completedRun(run: RunSoFar): RunResult | null {
  const { start, architecture, dataset, finished } = run;
  if (!start || !architecture || !dataset || !finished) return null;
  const { evalTrainSize, evalTestSize } = dataset;
  if (evalTrainSize === undefined || evalTestSize === undefined) return null;
  return {
    ...finishedHeader(start, finished.at),
    architecture,
    dataset: { ...dataset, evalTrainSize, evalTestSize },
    endpoints: run.endpoints,
    ...(run.stability ? { stability: run.stability } : {}),
    paths: run.paths,
    ...(run.plane ? { plane: run.plane } : {}),
    timings: finished.timings,
  };
}

/** The document of a run that emitted all its events (the experiment's own fold); a missing part is a defect here. */
export function finishedRun(run: RunSoFar): RunResult {
  const doc = completedRun(run);
  if (!doc) throw new Error('internal: the run ended without the events its document needs (environment, plan, eval-data, done)');
  return doc;
}
