/**
 * What a run reports as it goes, in one vocabulary: the experiment (experiment/run.ts, experiment/counterexample-run.ts)
 * emits these events in order instead of calling a hook per kind, and each consumer handles them in one switch over
 * `kind` — the run document is their fold (experiment/run-so-far.ts applyRunEvent); the job worker (jobs/worker.ts) stages the weights they carry and forwards them to its owner; the CLI's
 * `run --no-store --out DIR` writes each finished stage to DIR (experiment/export.ts RunDirWriter.apply).
 *
 * Weights travel as host arrays here; the worker replaces them by staged files (jobs/protocol.ts).
 */
import type { Split } from '../data/dataset';
import type { HostParams } from '../nn/params';
import type { ParamPath } from '../paths/path';
import type { RunPlan } from '../recipe/plan';
import type { CurvePoint } from '../train/loop';
import type { ProgressEvent } from '../util/progress';
import type { EndpointResult, PathResult, PlaneResult, RunResult, RunStart, StabilityReport } from './result';

export type RunEvent =
  /** First: the document's header as the run starts (versions, name, backend and device, the recipe). */
  | { kind: 'environment'; start: RunStart }
  /** At setup, once the architecture and the dataset are known: the stages the run will go through, the path names,
   *  the architecture and what it records of the dataset. */
  | { kind: 'plan'; plan: RunPlan; architecture: RunResult['architecture']; dataset: Omit<RunResult['dataset'], 'evalTrainSize' | 'evalTestSize'> }
  /** How far a stage has come (its stage key: recipe/plan.ts stageKey); told often, and not awaited. */
  | { kind: 'progress'; progress: ProgressEvent }
  /** Training curve points of an endpoint as they are logged (one at a time here, in batches over the job protocol);
   *  not awaited. The endpoint event carries the whole curve again. */
  | { kind: 'curve'; endpoint: string; points: CurvePoint[] }
  /** A training checkpoint (`training.checkpointEvery`) of an endpoint trained in this process. */
  | { kind: 'checkpoint'; endpoint: string; epoch: number; step: number; params: HostParams }
  /** The exact evaluation sets, once drawn. */
  | { kind: 'eval-data'; sets: { train: Split; test: Split } }
  /** An endpoint trained and evaluated (index: its place in the recipe). */
  | { kind: 'endpoint'; index: number; endpoint: EndpointResult; params: HostParams }
  | { kind: 'stability'; stability: StabilityReport }
  /** A path built and evaluated (index: its place among the run's paths), with its vertices. */
  | { kind: 'path'; index: number; result: PathResult; path: ParamPath }
  | { kind: 'plane'; plane: PlaneResult }
  /** Last, when the run finished: its finishing time and the wall-clock seconds per stage. */
  | { kind: 'done'; finishedAt: string; timings: Record<string, number> };

export type RunEventKind = RunEvent['kind'];

/** Where a run sends its events; awaited, so that a consumer's write finishes before the run goes on — except
 *  'progress' and 'curve', which come from inside synchronous loops: a sink handles those at once. */
export type RunEventSink = (e: RunEvent) => void | Promise<void>;

/** Tells a 'progress' or 'curve' event without waiting for the sink. */
export function tellNow(sink: RunEventSink | undefined, e: Extract<RunEvent, { kind: 'progress' | 'curve' }>): void {
  void sink?.(e);
}

/**
 * What the fold (run-so-far.ts applyRunEvent) reads of each event: the results without the weights and data they
 * carry. A RunEvent is one, and so is an event as the job protocol forwards it (store/recorded-event.ts, weights
 * staged as files), so that every front end folds what it is sent with the one reducer.
 */
export type FoldableRunEvent =
  | Extract<RunEvent, { kind: 'environment' | 'plan' | 'progress' | 'curve' | 'stability' | 'plane' | 'done' }>
  | { kind: 'checkpoint'; endpoint: string; epoch: number; step: number }
  | { kind: 'eval-data'; sets: { train: { n: number }; test: { n: number } } }
  | { kind: 'endpoint'; index: number; endpoint: EndpointResult }
  | { kind: 'path'; index: number; result: PathResult };
