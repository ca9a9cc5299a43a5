/**
 * The check states of a path (experiment/check-state.ts, experiment/path-checks.ts), issue 13 item 2: Theorems 2 and 3 used
 * to bound the path by max(L_A + ε_A, L_B + ε_B) with ε the measured excess on the Algorithm 1 segments, so whenever
 * the maximum lay on those segments the bound equalled it and the check passed. Now the Lemma 2 middle is checked
 * against the loss of the networks it joins (PASS/FAIL), and the Algorithm 1 segments against the recipe's tolerance
 * (over it: WARNING, neither PASS nor FAIL).
 */
import { describe, expect, it } from 'vitest';
import type { PathPoint } from '../../src-main/engine/eval/barrier';
import type { HostParams } from '../../src-main/engine/nn/params';
import type { ParamPath } from '../../src-main/engine/paths/path';
import type { PathVerification } from '../../src-main/engine/paths/structured-eval';
import { CHECK_STATE_LABEL, checkStateOf, worstState } from '../../src-main/engine/experiment/check-state';
import { algorithm1SegmentsCheck, buildCheck, lemma2MiddleBound } from '../../src-main/engine/experiment/path-checks';

const net = (v: number): HostParams => ({ 'A1.w': { shape: [1], data: new Float32Array([v]) } });
const A = net(0);
const B = net(1);
const S = 10;
/** A Theorem 2 shaped path: 10 segments, θ_A first and θ_B last. */
const path: ParamPath = {
  name: 'theorem2',
  method: 'theorem2',
  vertices: Array.from({ length: S + 1 }, (_, k) => (k === 0 ? A : k === S ? B : net(0.5))),
  segments: Array.from({ length: S }, (_, k) => ({ from: k, to: k + 1, kind: k === 0 || k === S - 1 ? ('line' as const) : ('b' as const) })),
};
const verification: PathVerification = {
  functionPreserving: { segments: 7, maxAbsDiff: 0, maxRelDiff: 0, tolerance: 1e-4, pass: true },
  topLayerOnly: { segments: 1, violations: [], affineMaxRelDiff: 0, tolerance: 1e-4, pass: true },
};

/** Train losses at 4 points per segment: `onFirst` at the middle of segment 1, `middle` inside the Lemma 2 part,
 *  0.10 at the Algorithm 1 networks (t = 1/S, (S−1)/S), L_A = L_B = 0.05 at the ends. */
function points(onFirst: number, middle: number): PathPoint[] {
  const out: PathPoint[] = [];
  for (let k = 0; k <= 4 * S; k++) {
    const t = k / (4 * S);
    let loss = 0.1;
    if (k === 0 || k === 4 * S) loss = 0.05;
    else if (k === 2) loss = onFirst;
    else if (k === 4 * S - 2) loss = 0.08;
    else if (k === 20) loss = middle;
    out.push({ t, train: { loss, acc: 0.9 }, test: { loss, acc: 0.9 } });
  }
  return out;
}

function check(pts: PathPoint[], tolerance = 0.1) {
  const maxTrain = pts.reduce((m, p) => (p.train.loss > m.value ? { value: p.train.loss, t: p.t } : m), { value: -Infinity, t: NaN });
  return buildCheck(
    {
      path,
      expectedSegments: 10,
      bound: (p) => lemma2MiddleBound(path, p, { LA1: 0.1, LB1: 0.1 }),
      algorithm1Segments: (p) =>
        algorithm1SegmentsCheck(path, p, tolerance, [
          { endpoint: 'A', loss: 0.05, theoryScale: 3.2 },
          { endpoint: 'B', loss: 0.05, theoryScale: null },
        ], false),
    },
    A,
    B,
    verification,
    pts,
    maxTrain,
  );
}

describe('path check states', () => {
  it('the maximum on an Algorithm 1 segment over the tolerance is a WARNING, not a PASS', () => {
    const c = check(points(0.9, 0.1));
    expect(c.state).toBe('warning');
    expect(c.pass).toBe(false);
    // The proven part holds: the Lemma 2 middle stays at the Algorithm 1 networks' loss …
    expect(c.lossBound).toMatchObject({ pass: true, bound: 0.1, maxTrainLoss: 0.1, over: 'segments 2–9 (Lemma 2)' });
    // … and the excess on θ_A's segment (0.85) is reported against the tolerance, with the theorem's Õ(ε) scale.
    const [a, b] = c.algorithm1Segments!.segments;
    expect(a).toMatchObject({ endpoint: 'A', maxLoss: 0.9, withinTolerance: false, theoryScale: 3.2 });
    expect(a!.excess).toBeCloseTo(0.85, 12);
    expect(b).toMatchObject({ endpoint: 'B', maxLoss: 0.1, withinTolerance: true, theoryScale: null });
    expect(c.algorithm1Segments!.state).toBe('warning');
  });

  it('a Lemma 2 middle above the Algorithm 1 networks’ loss is a FAIL', () => {
    const c = check(points(0.1, 0.3));
    expect(c.lossBound).toMatchObject({ pass: false, maxTrainLoss: 0.3, bound: 0.1 });
    expect(c.state).toBe('fail');
    expect(c.pass).toBe(false);
  });

  it('both within their bounds is a PASS; a fail outranks a warning', () => {
    const ok = check(points(0.12, 0.1));
    expect(ok.state).toBe('pass');
    expect(ok.pass).toBe(true);
    expect(check(points(0.9, 0.3)).state).toBe('fail');
  });

  it('states combine and read back from documents that have only `pass`', () => {
    expect(worstState(['pass', 'warning', 'pass'])).toBe('warning');
    expect(worstState(['warning', 'fail'])).toBe('fail');
    expect(worstState([])).toBe('pass');
    expect(checkStateOf({ pass: true })).toBe('pass');
    expect(checkStateOf({ pass: false })).toBe('fail');
    expect(checkStateOf({ pass: false, state: 'warning' })).toBe('warning');
    expect(CHECK_STATE_LABEL.warning).toBe('WARNING');
  });
});
