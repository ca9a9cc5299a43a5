/** Small, hand-made run data for the chart-option tests (shapes as in docs/run-json.md). */
import type { PathConstruction } from '../../src-main/engine/experiment/construction';
import type { PathResult, PlaneResult } from '../../src-main/engine/experiment/result';
import type { Segment } from '../../src-main/engine/paths/path';

const m = (loss: number, acc: number) => ({ loss, acc });
const bv = (value: number, t: number) => ({ value, t });

export function path(name: string, made: PathConstruction, segments: Segment[], f: (t: number) => number, n = 11): PathResult {
  const points = Array.from({ length: n }, (_, i) => {
    const t = i / (n - 1);
    return { t, train: m(f(t), 1 - f(t) / 4), test: m(f(t) * 1.2, 1 - (f(t) * 1.2) / 4) };
  });
  // Barrier over the interpolation of the ends on the train split.
  let best = { value: -Infinity, t: 0 };
  for (const p of points) {
    const chord = (1 - p.t) * points[0]!.train.loss + p.t * points[n - 1]!.train.loss;
    if (p.train.loss - chord > best.value) best = { value: p.train.loss - chord, t: p.t };
  }
  const split = { lossOverInterpolation: best, lossOverEndpointMean: bv(best.value, best.t), errorOverInterpolation: bv(0.02, 0.5), errorOverEndpointMean: bv(0.02, 0.5), maxLoss: bv(1, 0.5), maxError: bv(0.2, 0.5) };
  return {
    name,
    from: 'A',
    to: 'B',
    segments,
    points,
    barrier: { train: split, test: { ...split, lossOverInterpolation: bv(best.value * 1.1, best.t) } },
    cost: { fullPassEquivalents: 4.2, naive: n, distinctFunctions: 2, pointwise: 0 },
    check: {
      pass: true,
      endpoints: { startsAtA: true, endsAtB: true },
      segmentCount: { expected: segments.length, actual: segments.length, pass: true },
      functionPreserving: { segments: 0, maxAbsDiff: 0, maxRelDiff: 0, tolerance: 1e-4, pass: true },
      topLayerOnly: { segments: 0, violations: [], affineMaxRelDiff: 0, tolerance: 1e-4, pass: true },
    },
    ...made,
  };
}

export const linear = path('linear', { kind: 'linear', construction: { renormalize: 'none' } }, [{ from: 0, to: 1, kind: 'line' }], (t) => 0.1 + 0.5 * Math.sin(Math.PI * t));
export const theorem1 = path(
  'theorem1',
  {
    kind: 'theorem1',
    construction: {
      foldedBatchNorm: null,
      keepFraction: 0.5,
      r: 2,
      epsilon: { A: 0.01, B: 0.02 },
      kept: { A: [[0, 1]], B: [[2, 3]] },
      keptSizes: [2],
      chosen: { A: 'random', B: 'random' },
      dropoutStable: 'ε = 0.02000',
    },
  },
  [
    { from: 0, to: 1, kind: 'b', label: 'S1' },
    { from: 1, to: 2, kind: 'a', label: 'S2' },
    { from: 2, to: 3, kind: 'c', label: 'S3' },
    { from: 3, to: 4, kind: 'a', label: 'S4' },
  ],
  (t) => 0.1 + 0.05 * Math.sin(Math.PI * t),
  17,
);

export const plane: PlaneResult = {
  points: [
    { role: 'origin', label: 'θ_A', x: 0, y: 0, train: m(0.1, 0.97), test: m(0.12, 0.96) },
    { role: 'axis', label: 'θ_B', x: 10, y: 0, train: m(0.1, 0.97), test: m(0.12, 0.96) },
    { role: 'third', label: 'π(θ_B)', x: 4, y: 6, train: m(0.11, 0.97), test: m(0.13, 0.96) },
  ],
  third: { path: 'aligned-linear', vertex: -1 },
  basis: { lengthAB: 10, thirdAlong: 4, thirdAcross: 6 },
  grid: { size: 3, margin: 0.2, xs: [-2, 5, 12], ys: [-1, 3, 7] },
  train: { loss: [[1, 2, 3], [0.5, 0.2, 0.6], [1, Number.NaN, 2]], acc: [[0.5, 0.6, 0.7], [0.9, 0.95, 0.9], [0.6, 0.5, 0.4]] },
  test: { loss: [[1, 2, 3], [0.5, 0.3, 0.6], [1, 2, 2]], acc: [[0.5, 0.6, 0.7], [0.9, 0.94, 0.9], [0.6, 0.5, 0.4]] },
  paths: [
    { name: 'linear', t: [0, 0.5, 1], x: [0, 5, 10], y: [0, 0, 0], offPlane: [0, 0, 0] },
    { name: 'bezier', t: [0, 0.5, 1], x: [0, 5, 10], y: [0, 2, 0], offPlane: [0, 3, 0] },
  ],
  samples: { train: 100, test: 100 },
  batchNorm: 'none',
  cost: { points: 12, fullPassEquivalents: 1.2, factored: true },
  seconds: 0.5,
};
