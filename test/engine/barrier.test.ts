/**
 * Barrier metrics (eval/barrier.ts) on hand-made curves, every expected value worked out by hand:
 *   lossOverInterpolation  = max_t L(t) − [(1−t)·L(0) + t·L(1)]
 *   lossOverEndpointMean   = max_t L(t) − ½[L(0) + L(1)]
 *   errorOverInterpolation = max_t e(t) − [(1−t)·e(0) + t·e(1)],  e = 1 − acc
 *   errorOverEndpointMean  = max_t e(t) − ½[e(0) + e(1)]
 *   maxLoss, maxError      = raw maxima; each with the first t where its maximum occurs.
 */
import { describe, expect, it } from 'vitest';
import { type PathPoint, barrierOf, splitBarrier } from '../../src-main/engine/eval/barrier';

const curve = (ts: number[], loss: number[], acc: number[]): { t: number; loss: number; acc: number }[] =>
  ts.map((t, i) => ({ t, loss: loss[i]!, acc: acc[i]! }));

describe('splitBarrier', () => {
  it('symmetric bump: every loss metric peaks at t = ½', () => {
    // L = 1, 2, 3, 2, 1 on t = 0, ¼, ½, ¾, 1; acc = 0.9, 0.8, 0.5, 0.8, 0.9 (e = 0.1, 0.2, 0.5, 0.2, 0.1).
    const b = splitBarrier(curve([0, 0.25, 0.5, 0.75, 1], [1, 2, 3, 2, 1], [0.9, 0.8, 0.5, 0.8, 0.9]));
    // Equal endpoints: interpolation and mean baselines are both 1 → 3 − 1 = 2.
    expect(b.lossOverInterpolation).toEqual({ value: 2, t: 0.5 });
    expect(b.lossOverEndpointMean).toEqual({ value: 2, t: 0.5 });
    expect(b.maxLoss).toEqual({ value: 3, t: 0.5 });
    // Errors: 0.5 − 0.1 = 0.4.
    expect(b.errorOverInterpolation.value).toBeCloseTo(0.4, 12);
    expect(b.errorOverInterpolation.t).toBe(0.5);
    expect(b.errorOverEndpointMean.value).toBeCloseTo(0.4, 12);
    expect(b.errorOverEndpointMean.t).toBe(0.5);
    expect(b.maxError.value).toBeCloseTo(0.5, 12);
    expect(b.maxError.t).toBe(0.5);
  });

  it('straight line between unequal endpoints: no barrier over the interpolation, a positive one over the mean', () => {
    // L(t) = 1 + 2t exactly on the line between L(0) = 1 and L(1) = 3.
    const ts = [0, 0.25, 0.5, 0.75, 1];
    const b = splitBarrier(curve(ts, ts.map((t) => 1 + 2 * t), [1, 1, 1, 1, 1]));
    expect(b.lossOverInterpolation.value).toBeCloseTo(0, 12);
    // max_t L(t) − ½(1 + 3) = 3 − 2 = 1, at the upper endpoint.
    expect(b.lossOverEndpointMean).toEqual({ value: 1, t: 1 });
    expect(b.maxLoss).toEqual({ value: 3, t: 1 });
  });

  it('asymmetric bump: the two loss definitions disagree in value and in where the maximum is', () => {
    // t = 0, ⅓, ⅔, 1; L = 1, 2.6, 3.1, 3.
    // Interpolation 1, 1 + ⅔, 1 + 4⁄3, 3 → excess 0, 0.9333…, 0.7666…, 0  → max 14/15 at t = ⅓.
    // Mean ½(1 + 3) = 2                   → excess −1, 0.6, 1.1, 1         → max 1.1 at t = ⅔.
    const ts = [0, 1 / 3, 2 / 3, 1];
    // Errors: e = 0.1, 0.3, 0.6, 0.5. Interpolation 0.1, 0.2333…, 0.3666…, 0.5 → excess 0, 0.0666…, 0.2333…, 0 → 0.2333… at ⅔.
    //         Mean 0.3 → excess −0.2, 0, 0.3, 0.2 → 0.3 at ⅔. Max error 0.6 at ⅔.
    const b = splitBarrier(curve(ts, [1, 2.6, 3.1, 3], [0.9, 0.7, 0.4, 0.5]));
    expect(b.lossOverInterpolation.value).toBeCloseTo(14 / 15, 12);
    expect(b.lossOverInterpolation.t).toBe(1 / 3);
    expect(b.lossOverEndpointMean.value).toBeCloseTo(1.1, 12);
    expect(b.lossOverEndpointMean.t).toBe(2 / 3);
    expect(b.maxLoss).toEqual({ value: 3.1, t: 2 / 3 });
    expect(b.errorOverInterpolation.value).toBeCloseTo(0.6 - (0.1 + (2 / 3) * 0.4), 12);
    expect(b.errorOverInterpolation.t).toBe(2 / 3);
    expect(b.errorOverEndpointMean.value).toBeCloseTo(0.3, 12);
    expect(b.errorOverEndpointMean.t).toBe(2 / 3);
    expect(b.maxError.value).toBeCloseTo(0.6, 12);
    expect(b.maxError.t).toBe(2 / 3);
  });

  it('monotone (convex, decreasing) path: barrier 0 at an endpoint', () => {
    // L = 2, 1.5, 1.2, 1 on t = 0, ⅓, ⅔, 1: below the chord everywhere → max excess 0 at t = 0 (first of the ties 0 and 1).
    const ts = [0, 1 / 3, 2 / 3, 1];
    const b = splitBarrier(curve(ts, [2, 1.5, 1.2, 1], [0.6, 0.7, 0.8, 0.9]));
    expect(b.lossOverInterpolation.value).toBeCloseTo(0, 12);
    expect(b.lossOverInterpolation.t).toBe(0);
    // Over the mean 1.5: the higher endpoint sits 0.5 above it.
    expect(b.lossOverEndpointMean).toEqual({ value: 0.5, t: 0 });
    expect(b.maxLoss).toEqual({ value: 2, t: 0 });
    // Error 0.4 → 0.1 linearly: 0 over the interpolation (all ties, first t), 0.15 over the mean at t = 0.
    expect(b.errorOverInterpolation.value).toBeCloseTo(0, 12);
    expect(b.errorOverEndpointMean.value).toBeCloseTo(0.15, 12);
    expect(b.errorOverEndpointMean.t).toBe(0);
    expect(b.maxError.value).toBeCloseTo(0.4, 12);
    expect(b.maxError.t).toBe(0);
  });

  it('error metrics can peak where the loss does not', () => {
    // Loss peaks at t = ¼, error at t = ¾.
    const b = splitBarrier(curve([0, 0.25, 0.5, 0.75, 1], [0.1, 0.9, 0.5, 0.4, 0.1], [0.99, 0.9, 0.8, 0.5, 0.99]));
    expect(b.maxLoss).toEqual({ value: 0.9, t: 0.25 });
    expect(b.lossOverInterpolation.value).toBeCloseTo(0.8, 12);
    expect(b.lossOverInterpolation.t).toBe(0.25);
    expect(b.errorOverInterpolation.value).toBeCloseTo(0.5 - 0.01, 12);
    expect(b.errorOverInterpolation.t).toBe(0.75);
    expect(b.errorOverEndpointMean.value).toBeCloseTo(0.49, 12);
    expect(b.maxError.t).toBe(0.75);
  });

  it('reports the first t on ties and does not depend on the order of the points', () => {
    const pts = curve([0, 0.25, 0.5, 0.75, 1], [1, 2, 1.5, 2, 1], [1, 1, 1, 1, 1]);
    const b = splitBarrier(pts);
    expect(b.maxLoss).toEqual({ value: 2, t: 0.25 });
    const shuffled = [pts[3]!, pts[0]!, pts[4]!, pts[1]!, pts[2]!];
    expect(splitBarrier(shuffled)).toEqual(b);
  });

  it('needs at least two points', () => {
    expect(() => splitBarrier([{ t: 0, loss: 1, acc: 1 }])).toThrow(/two/);
  });
});

describe('barrierOf', () => {
  it('computes the train and test splits separately', () => {
    const points: PathPoint[] = [0, 0.5, 1].map((t, i) => ({
      t,
      train: { loss: [0.1, 0.6, 0.2][i]!, acc: [1, 0.75, 1][i]! },
      test: { loss: [0.3, 0.4, 0.5][i]!, acc: [0.9, 0.9, 0.9][i]! },
    }));
    const b = barrierOf(points);
    // Train: interpolation at ½ is 0.15 → 0.45; mean 0.15 → 0.45; error 0.25 over 0.
    expect(b.train.lossOverInterpolation.value).toBeCloseTo(0.45, 12);
    expect(b.train.lossOverEndpointMean.value).toBeCloseTo(0.45, 12);
    expect(b.train.errorOverInterpolation.value).toBeCloseTo(0.25, 12);
    expect(b.train.errorOverInterpolation.t).toBe(0.5);
    // Test: L is the straight line 0.3 → 0.5: 0 over the interpolation, 0.1 over the mean (at t = 1).
    expect(b.test.lossOverInterpolation.value).toBeCloseTo(0, 12);
    expect(b.test.lossOverEndpointMean.value).toBeCloseTo(0.1, 12);
    expect(b.test.lossOverEndpointMean.t).toBe(1);
    expect(b.test.maxError.value).toBeCloseTo(0.1, 12);
    expect(b.test.errorOverInterpolation.value).toBeCloseTo(0, 12);
  });
});
