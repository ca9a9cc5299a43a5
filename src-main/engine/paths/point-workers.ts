/**
 * Evaluating path points in another process: the hook through which `evaluatePathStructured` shares the points
 * inside 'line' and 'curve' segments with a helper process (src-main/jobs/points.ts implements it with a forked
 * worker; the engine itself starts no processes). The helper evaluates on the run's evaluation sets, batched the same
 * way, with the same backend and the same `SegmentPointEvaluator`, so a point has the same metrics wherever it is
 * evaluated (up to float summation order).
 *
 * Points are handed out one at a time: this process takes points from the front of a segment's list, the helper from
 * the back (with one queued ahead, so that it never waits for this process's busy event loop), and when this process
 * runs out it takes back what the helper has not started. Either side's speed, start-up or load is absorbed.
 * Points rewritten by a `PointTransform` (BatchNorm recomputation, REPAIR) and batched evaluation (GPU backends)
 * stay in this process. A loss plane's grid cells are shared the same way (`planeSession`, plane/plane.ts).
 */
import type { Split } from '../data/dataset';
import type { Metrics } from '../eval/evaluate';
import type { ArchSpec } from '../nn/spec';
import type { PlaneFrame } from '../plane/plane';
import type { ParamPath } from './path';

export interface PointMetrics {
  train: Metrics;
  test: Metrics;
}

/** The evaluation sets as the helper must batch them (DeviceSplit with `batchSize`). */
export interface PointEvaluationData {
  train: Split;
  test: Split;
  inputShape: [number, number, number];
  batchSize: number;
}

export interface PointWorkerPool {
  /** Called once the architecture and an estimate of the run's point-by-point work (multiply-accumulates over the
   *  evaluation sets) are known, before the endpoints train: a pool may start its process now, hidden by training. */
  prepare?(info: { spec: ArchSpec; pointwiseMacs: number }): void;
  /** The evaluation sets every session evaluates on; called once, before any session. */
  setEvaluationData(data: PointEvaluationData): void | Promise<void>;
  /** Which evaluation sets the pool holds (to check that a path is evaluated on them): sizes and batch size. */
  readonly evaluationData: { trainN: number; testN: number; batchSize: number } | null;
  /**
   * A session for the points of `path` (its 'line'/'curve' segments), or null when the pool declines: not enough work
   * (`macs`: the multiply-accumulates the points cost here), not enabled, or its process is gone.
   */
  session(spec: ArchSpec, path: ParamPath, macs: number): PointSession | null;
  /**
   * A session for the cells of a loss plane through `frame`, evaluated (PlaneEvaluator) on the first `samples.train`
   * / `samples.test` samples of the evaluation sets, batched alike; or null when the pool declines (as `session`).
   */
  planeSession?(spec: ArchSpec, frame: PlaneFrame, samples: { train: number; test: number }, macs: number): PlaneSession | null;
}

/** The result of one point from the helper: its metrics and the full-pass equivalents it cost there. */
export interface SharedPoint {
  metrics: PointMetrics;
  cost: number;
}

export interface PointSession {
  /** The helper processes serving this session (default 1): each is kept two points ahead. */
  readonly processes?: number;
  /**
   * Evaluates local parameter u of segment `segment` (an index into path.segments, a 'line' or 'curve'). Resolves
   * with null when the point was taken back (`withdraw`) before the helper started it; rejects when the helper fails
   * or stops (CancelledError when the run is cancelled).
   */
  evaluate(segment: number, u: number): Promise<SharedPoint | null>;
  /** Takes back every point sent and not yet started (their evaluate resolves with null). */
  withdraw(): void;
  /** Ends the session: points still queued are dropped, the helper frees what it cached. */
  close(): void;
}

/** A plane's cells in the helpers: as a PointSession, a cell being the plane point (x, y). */
export interface PlaneSession {
  readonly processes?: number;
  evaluate(x: number, y: number): Promise<SharedPoint | null>;
  withdraw(): void;
  close(): void;
}
