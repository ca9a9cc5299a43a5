/**
 * The message protocol between a job's owner (CLI, app, server) and its processes. Plain JSON objects with a `type`,
 * identical over `child_process.fork` (process.send) and Electron's `utilityProcess` (process.parentPort):
 *
 *   owner → experiment worker:  start, cancel
 *   experiment worker → owner:  ready, heartbeat, environment, event (every run event — plan, progress, curve,
 *                               checkpoint, endpoint, eval-data, stability, path, plane, …: store/recorded-event.ts),
 *                               result, error, cancelled
 *   experiment worker → training worker: train, cancel
 *   training worker → experiment worker: ready, heartbeat, progress, curve, checkpoint, trained, error, cancelled
 *   experiment worker → point worker:    init, data, open, vertices, point, plane, cell, withdraw, close
 *   point worker → experiment worker:    ready, point, withdrawn, error
 *
 * Weights never travel in messages: the worker stages them as files in the artifact folder (StagedArtifact) and the
 * owner places them in the same transaction that records them. Checkpoints (training.checkpointEvery) are staged the
 * same way by whichever process trains the endpoint; the owner keeps the latest of each endpoint.
 */
import type { RunResult } from '../engine/experiment/result';
import type { TrainConfig, CurvePoint } from '../engine/train/loop';
import type { ArchSpec } from '../engine/nn/spec';
import type { Metrics } from '../engine/eval/evaluate';
import type { Segment } from '../engine/paths/path';
import type { ProgressEvent } from '../engine/util/progress';
import type { StagedArtifact } from '../store/artifacts';
import type { RecordedRunEvent } from '../store/recorded-event';
import type { RunEnvironment } from '../store/types';

/** Everything a worker needs to run one experiment. */
export interface JobSpec {
  runId: string;
  /** The resolved recipe (validated again by the worker). */
  recipe: unknown;
  preset: string | null;
  /** Backend name, or undefined for the default (MODELAB_BACKEND in the job's environment, else the fastest available). */
  backend?: string;
  dataDir?: string;
  /** The artifact folder: the worker stages files in its tmp/ subfolder. */
  artifactsDir: string;
  /** Train the endpoints in parallel processes: 'auto' when more than one core is available. */
  parallelEndpoints: 'auto' | 'on' | 'off';
  /** Evaluate path points in a helper process too (points.ts): 'auto' (default) with a second core, a one-core backend
   *  and enough work. */
  parallelPoints?: 'auto' | 'on' | 'off';
  heartbeatMs: number;
}

export type ToWorker = { type: 'start'; job: JobSpec } | { type: 'cancel' };

/** Why a job stopped: bad input (exit 2 in the CLI), the file system, or anything else. */
export type ErrorKind = 'input' | 'io' | 'internal';

export type FromWorker =
  | { type: 'ready'; pid: number }
  | { type: 'heartbeat'; at: number }
  /** The environment record, each time what the events told completes it (store/environment.ts). */
  | { type: 'environment'; environment: RunEnvironment }
  /** A run event with its weights staged; curve points go in batches, and a checkpoint or an endpoint is sent after
   *  the curve points up to it. */
  | { type: 'event'; event: RecordedRunEvent }
  | { type: 'result'; result: RunResult }
  | { type: 'error'; kind: ErrorKind; message: string; code?: string; stack?: string }
  | { type: 'cancelled' };

/** One endpoint's training, as a training worker receives it. */
export interface TrainJobSpec {
  name: string;
  seed: number;
  config: TrainConfig;
  spec: ArchSpec;
  stage: string;
  label: string;
  /** The recipe's dataset section, loaded again in the training process. */
  dataset: unknown;
  dataDir?: string;
  /** The dataset checksum the experiment process computed (the training process must load the same data). */
  checksum: string;
  backend: string;
  /** Where to write the trained weights (safetensors). */
  outFile: string;
  /** The artifact folder to stage checkpoints in (training.checkpointEvery); absent: checkpoints are not kept. */
  checkpointsDir?: string;
  heartbeatMs: number;
}

export type ToTrainer = { type: 'train'; job: TrainJobSpec } | { type: 'cancel' };

export type FromTrainer =
  | { type: 'ready'; pid: number }
  | { type: 'heartbeat'; at: number }
  | { type: 'progress'; event: ProgressEvent }
  | { type: 'curve'; point: CurvePoint }
  | { type: 'checkpoint'; epoch: number; step: number; weights: StagedArtifact }
  | { type: 'trained'; file: string; steps: number; samples: number; seconds: number; samplesPerSec: number; curve: CurvePoint[] }
  | { type: 'error'; kind: ErrorKind; message: string; code?: string; stack?: string }
  | { type: 'cancelled' };

/**
 * The point worker (point-worker.ts) evaluates points inside 'line'/'curve' segments for the process that runs the
 * experiment (points.ts). Files carry the data: the evaluation sets once (`data`: evalDataSafetensors), and the
 * vertices a session needs (`vertices`: tensors `v<k>.<param>`, k the path's vertex index); the worker deletes each
 * file once read. Points (and a plane's cells) are queued in order; `withdraw` takes back a session's points not yet
 * started.
 */
export type ToPointWorker =
  | { type: 'init'; backend: string }
  | { type: 'data'; file: string; batchSize: number }
  | { type: 'open'; session: number; spec: ArchSpec; segments: Segment[] }
  | { type: 'vertices'; session: number; file: string }
  | { type: 'point'; session: number; id: number; segment: number; u: number }
  /** A loss plane's session: θ_A, θ_B, θ_C in `file` (tensors `a.<param>`, `b.…`, `c.…`), the frame's numbers, and
   *  the evaluation sets' first `train` / `test` samples; its cells come as `cell` and are answered as `point`. */
  | { type: 'plane'; session: number; spec: ArchSpec; file: string; lengthAB: number; p: number; q: number; train: number; test: number }
  | { type: 'cell'; session: number; id: number; x: number; y: number }
  | { type: 'withdraw'; session: number }
  | { type: 'close'; session: number };

/** Metrics over JSON: NaN and ±Infinity (a diverged point) as strings. */
export interface WireMetrics {
  loss: number | string;
  acc: number | string;
}

export type FromPointWorker =
  | { type: 'ready'; pid: number }
  | { type: 'point'; session: number; id: number; train: WireMetrics; test: WireMetrics; cost: number }
  | { type: 'withdrawn'; session: number; ids: number[] }
  /** A point failed (session and id), or the worker could not start or load its data (neither: it exits). */
  | { type: 'error'; session?: number; id?: number; message: string; stack?: string };

const wireNumber = (x: number): number | string => (Number.isFinite(x) ? x : String(x));
const fromWire = (x: number | string): number => (typeof x === 'number' ? x : Number(x));
export const toWireMetrics = (m: Metrics): WireMetrics => ({ loss: wireNumber(m.loss), acc: wireNumber(m.acc) });
export const fromWireMetrics = (m: WireMetrics): Metrics => ({ loss: fromWire(m.loss), acc: fromWire(m.acc) });

/** Classifies an error for the error message (InputError → input, file system codes → io). */
export function describeError(e: unknown): { kind: ErrorKind; message: string; code?: string; stack?: string } {
  const err = e as Error & { code?: string };
  const code = typeof err?.code === 'string' ? err.code : undefined;
  const io = code !== undefined && /^E[A-Z]+$/.test(code);
  const kind: ErrorKind = err?.name === 'InputError' || err?.name === 'DatabaseFileError' ? 'input' : io ? 'io' : 'internal';
  return { kind, message: err?.message ?? String(e), ...(code ? { code } : {}), ...(err?.stack ? { stack: err.stack } : {}) };
}
