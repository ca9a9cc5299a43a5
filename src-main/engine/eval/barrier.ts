/**
 * Barrier metrics of an evaluated path (anchors.md, "Barrier definitions differ"). For a split with points
 * (t, L(t), acc(t)), t ∈ [0, 1], endpoint values L(0), L(1), and error e(t) = 1 − acc(t):
 * - lossOverInterpolation  = max_t L(t) − [(1−t)·L(0) + t·L(1)]   (Entezari et al.; Git Re-Basin paper)
 * - lossOverEndpointMean   = max_t L(t) − ½[L(0) + L(1)]           (git-re-basin code)
 * - errorOverInterpolation = max_t e(t) − [(1−t)·e(0) + t·e(1)]
 * - errorOverEndpointMean  = max_t e(t) − ½[e(0) + e(1)]           (Frankle et al.)
 * - maxLoss, maxError      = the raw maxima (Draxler et al.'s saddle loss)
 * Each comes with the t where the maximum occurs (the first such t on ties).
 */
import type { Metrics } from './evaluate';

export interface BarrierValue {
  value: number;
  t: number;
}

export interface SplitBarrier {
  lossOverInterpolation: BarrierValue;
  lossOverEndpointMean: BarrierValue;
  errorOverInterpolation: BarrierValue;
  errorOverEndpointMean: BarrierValue;
  maxLoss: BarrierValue;
  maxError: BarrierValue;
}

export interface PathPoint {
  t: number;
  train: Metrics;
  test: Metrics;
}

export interface Barrier {
  train: SplitBarrier;
  test: SplitBarrier;
}

function argmax(ts: number[], vals: number[]): BarrierValue {
  let best = 0;
  for (let i = 1; i < vals.length; i++) if (vals[i]! > vals[best]!) best = i;
  return { value: vals[best]!, t: ts[best]! };
}

export function splitBarrier(points: { t: number; loss: number; acc: number }[]): SplitBarrier {
  if (points.length < 2) throw new Error('a barrier needs at least the two end points');
  const sorted = [...points].sort((a, b) => a.t - b.t);
  const ts = sorted.map((p) => p.t);
  const first = sorted[0]!;
  const last = sorted[sorted.length - 1]!;
  const t0 = first.t;
  const span = last.t - t0 || 1;
  const loss = sorted.map((p) => p.loss);
  const err = sorted.map((p) => 1 - p.acc);
  const interp = (a: number, b: number, t: number): number => a + ((t - t0) / span) * (b - a);
  const [l0, l1, e0, e1] = [first.loss, last.loss, 1 - first.acc, 1 - last.acc];
  return {
    lossOverInterpolation: argmax(ts, sorted.map((p) => p.loss - interp(l0, l1, p.t))),
    lossOverEndpointMean: argmax(ts, loss.map((l) => l - (l0 + l1) / 2)),
    errorOverInterpolation: argmax(ts, sorted.map((p) => 1 - p.acc - interp(e0, e1, p.t))),
    errorOverEndpointMean: argmax(ts, err.map((e) => e - (e0 + e1) / 2)),
    maxLoss: argmax(ts, loss),
    maxError: argmax(ts, err),
  };
}

export function barrierOf(points: PathPoint[]): Barrier {
  return {
    train: splitBarrier(points.map((p) => ({ t: p.t, ...p.train }))),
    test: splitBarrier(points.map((p) => ({ t: p.t, ...p.test }))),
  };
}
