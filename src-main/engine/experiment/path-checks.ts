/**
 * A built path's check (PathCheck, result.ts): endpoints, segment count, the structure verification, the proven loss
 * bound, and for Theorems 2 and 3 the Algorithm 1 segments against the recipe's tolerance. A bound's value never comes
 * from the points it bounds: Theorem 1's from the measured dropout stability of the endpoints, the Lemma 2 middle's
 * from the networks it joins, evaluated on their own (issue 13 item 2: the old Theorem 2/3 bound was the measured
 * maximum itself, so it could not fail).
 */
import type { PathPoint } from '../eval/barrier';
import { type HostParams, paramsEqual } from '../nn/params';
import type { ParamPath } from '../paths/path';
import type { PathVerification } from '../paths/structured-eval';
import { worstState } from './check-state';
import type { Algorithm1SegmentsCheck, LossBoundCheck, PathCheck } from './result';

/** Slack for comparing a measured loss with a bound computed from the same float32 numbers. */
export const BOUND_SLACK = 1e-5;

export interface Bound {
  value: number;
  epsilon: number;
  formula: string;
  /** The bound covers only part of the path: its label and the measured max train loss there. */
  over?: { label: string; max: { value: number; t: number } };
}

/** What a check needs of a construction (experiment/paths.ts). */
export interface CheckedConstruction {
  path: ParamPath;
  expectedSegments: number;
  /** L ≤ bound along the path (or the part `over` names), when the construction proves one. */
  bound?: (points: PathPoint[]) => Bound;
  /** Theorems 2 and 3: the straight Algorithm 1 segments against the recipe's tolerance. */
  algorithm1Segments?: (points: PathPoint[]) => Algorithm1SegmentsCheck;
}

/** The max train loss over the points on segments first…last (0-based, inclusive), and its t. */
export function maxOnSegments(path: ParamPath, points: PathPoint[], first: number, last: number): { value: number; t: number } {
  const S = path.segments.length;
  let best = { value: -Infinity, t: NaN };
  for (const p of points) {
    if (p.t >= first / S - 1e-12 && p.t <= (last + 1) / S + 1e-12 && !(p.train.loss <= best.value)) best = { value: p.train.loss, t: p.t };
  }
  return best;
}

/** Theorems 2 and 3: the Lemma 2 part (every segment but the first and last) stays below the loss of the networks it
 *  joins — L(θ^A_1), L(θ^B_1) and, for Theorem 3, L(θ*) — by convexity in the top layer and exact function
 *  preservation (arXiv:1906.06247 §3, Lemma 2). */
export function lemma2MiddleBound(path: ParamPath, points: PathPoint[], L: { LA1: number; LB1: number; Lstar?: number }): Bound {
  const last = path.segments.length - 1;
  const narrow = L.Lstar !== undefined;
  return {
    value: Math.max(L.LA1, L.LB1, L.Lstar ?? -Infinity),
    epsilon: 0,
    formula: `${narrow ? 'max(L(θ^A_1), L(θ*), L(θ^B_1))' : 'max(L(θ^A_1), L(θ^B_1))'} over the Lemma 2 part (convex in the top layer, exact function preservation)`,
    over: { label: `segments 2–${last} (Lemma 2${narrow ? ' through θ*' : ''})`, max: maxOnSegments(path, points, 1, last - 1) },
  };
}

/** Theorems 2 and 3: the first and last straight segments θ_X ↔ θ^X_1, each one's excess over L(θ_X) against the
 *  tolerance. Over it is a warning: the theorems bound it only by Õ(ε) (Theorem 3: Õ(√p·ε)), ε of Definition 4,
 *  whose measured value (`theoryScale`) is shown beside it. */
export function algorithm1SegmentsCheck(
  path: ParamPath,
  points: PathPoint[],
  tolerance: number,
  ends: [{ endpoint: string; loss: number; theoryScale: number | null }, { endpoint: string; loss: number; theoryScale: number | null }],
  narrow: boolean,
): Algorithm1SegmentsCheck {
  const last = path.segments.length - 1;
  const segments = ends.map((e, k) => {
    const m = maxOnSegments(path, points, k === 0 ? 0 : last, k === 0 ? 0 : last);
    const excess = m.value - e.loss;
    return { endpoint: e.endpoint, loss: e.loss, maxLoss: m.value, t: m.t, excess, withinTolerance: excess <= tolerance + BOUND_SLACK, theoryScale: e.theoryScale };
  });
  return {
    tolerance,
    segments,
    theory: narrow
      ? 'Lemma 3 / Theorem 3: excess ≤ Õ(√p·ε), ε of Definition 4 (constants and log factors not given)'
      : 'Lemma 3 / Theorem 2: excess ≤ Õ(ε), ε of Definition 4 (constants and log factors not given)',
    state: segments.every((x) => x.withinTolerance) ? 'pass' : 'warning',
  };
}

export function buildCheck(
  c: CheckedConstruction,
  A: HostParams,
  B: HostParams,
  v: PathVerification,
  points: PathPoint[],
  maxTrain: { value: number; t: number },
  endFunction?: PathCheck['endFunction'],
): PathCheck {
  const path = c.path;
  const endpoints = {
    startsAtA: paramsEqual(path.vertices[0]!, A),
    endsAtB: paramsEqual(path.vertices[path.vertices.length - 1]!, B),
  };
  const bound = c.bound?.(points);
  const segmentCount = { expected: c.expectedSegments, actual: path.segments.length, pass: c.expectedSegments === path.segments.length };
  let lossBound: LossBoundCheck | undefined;
  if (bound) {
    const max = bound.over?.max ?? maxTrain;
    lossBound = {
      maxTrainLoss: max.value,
      t: max.t,
      bound: bound.value,
      epsilon: bound.epsilon,
      formula: bound.formula,
      pass: max.value <= bound.value + BOUND_SLACK,
      ...(bound.over ? { over: bound.over.label } : {}),
    };
  }
  const algorithm1Segments = c.algorithm1Segments?.(points);
  const proven =
    endpoints.startsAtA &&
    endpoints.endsAtB &&
    segmentCount.pass &&
    v.functionPreserving.pass &&
    v.topLayerOnly.pass &&
    (lossBound?.pass ?? true) &&
    (endFunction?.pass ?? true);
  const state = worstState([proven ? 'pass' : 'fail', algorithm1Segments?.state ?? 'pass']);
  return {
    state,
    pass: state === 'pass',
    endpoints,
    segmentCount,
    ...v,
    ...(lossBound ? { lossBound } : {}),
    ...(algorithm1Segments ? { algorithm1Segments } : {}),
    ...(endFunction ? { endFunction } : {}),
  };
}
