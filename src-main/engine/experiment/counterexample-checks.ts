/**
 * The checks of a Theorem 4 counterexample path, each one that can fail: the path's own function at t = 0 and t = 1
 * is the teacher and the student minimizer, bit for bit (not the vertex list it was built from); its segments are the
 * ones its kind is defined by; and the theorem's claim — no path joins the two global minimizers at zero loss — holds
 * on it: its maximum training loss is above zero. Nothing is function-preserving or top-layer-only here, so those
 * parts of the check cover no segments.
 */
import type { PathPoint } from '../eval/barrier';
import type { CurveKind } from '../theory/counterexample';
import type { CheckState } from './check-state';
import type { PathCheck } from './result';

export type CounterexamplePathKind = 'linear' | CurveKind;

/** The segments each counterexample path kind is made of: the straight line and the Bézier curve are one, the
 *  polygonal chain two (through its bend). */
export const COUNTEREXAMPLE_SEGMENTS: Record<CounterexamplePathKind, number> = { linear: 1, bezier: 1, polychain: 2 };

const sameBits = (x: number[], y: number[]): boolean => x.length === y.length && x.every((v, i) => Object.is(v, y[i]));

export function counterexamplePathCheck(o: {
  kind: CounterexamplePathKind;
  /** θ(t) of the path. */
  at: (t: number) => number[];
  /** The teacher's and the student's parameters (the path's from and to). */
  from: number[];
  to: number[];
  segments: number;
  points: PathPoint[];
}): PathCheck {
  const endpoints = { startsAtA: sameBits(o.at(0), o.from), endsAtB: sameBits(o.at(1), o.to) };
  const expected = COUNTEREXAMPLE_SEGMENTS[o.kind];
  const segmentCount = { expected, actual: o.segments, pass: o.segments === expected };
  // The highest training loss on the path and where; a loss that is not finite is no evidence of a barrier.
  let top: PathPoint | null = null;
  for (const p of o.points) if (!top || p.train.loss > top.train.loss) top = p;
  const finite = o.points.every((p) => Number.isFinite(p.train.loss));
  const theorem4 = { maxLoss: top?.train.loss ?? Number.NaN, t: top?.t ?? 0, pass: finite && !!top && top.train.loss > 0 };
  const held = endpoints.startsAtA && endpoints.endsAtB && segmentCount.pass && theorem4.pass;
  const state: CheckState = held ? 'pass' : 'fail';
  return {
    state,
    pass: state === 'pass',
    endpoints,
    segmentCount,
    functionPreserving: { segments: 0, maxAbsDiff: 0, maxRelDiff: 0, tolerance: 0, pass: true },
    topLayerOnly: { segments: 0, violations: [], affineMaxRelDiff: 0, tolerance: 0, pass: true },
    theorem4,
  };
}
