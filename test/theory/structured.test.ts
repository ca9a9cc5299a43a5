import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { DeviceSplit } from '../../src-main/engine/eval/evaluate';
import { evaluateHost } from '../../src-main/engine/eval/host';
import { initParams } from '../../src-main/engine/nn/params';
import { forwardMacs, layerMacs } from '../../src-main/engine/nn/spec';
import { evaluatePathPoints } from '../../src-main/engine/paths/evaluate-path';
import { tGrid } from '../../src-main/engine/paths/path';
import { evaluatePathStructured } from '../../src-main/engine/paths/structured-eval';
import { compact } from '../../src-main/engine/nn/compact';
import { droppedLosses, measureDropoutStability } from '../../src-main/engine/theory/dropout-stability';
import { drop } from '../../src-main/engine/theory/kept';
import { theorem1Path } from '../../src-main/engine/theory/theorem1';
import { hiddenWidths } from '../../src-main/engine/nn/units';
import { Rng } from '../../src-main/engine/util/rng';
import { close, outputs, randomCnn, randomInputs, randomMlp, useCpu } from './helpers';

beforeAll(useCpu);

function randomSplit(spec: Parameters<typeof randomInputs>[0], n: number, seed: number, classes = 3): DeviceSplit {
  const f = spec.input[0] * spec.input[1] * spec.input[2];
  const rng = new Rng(seed);
  return new DeviceSplit({ x: Float32Array.from({ length: n * f }, () => rng.normal()), y: Int32Array.from({ length: n }, () => rng.int(classes)), n }, f, 40);
}

describe('compaction', () => {
  it('computes the same function as the full network with the dropped units removed', () => {
    for (const { spec, theta } of [randomMlp(4, true, 1, 10), randomCnn(4, true, 2)]) {
      const K = hiddenWidths(spec).map((h, k) => new Rng(k).sample(h, Math.floor(h / 2)));
      const dropped = drop(spec, theta, K, [2, 2, 2], 1);
      const c = compact(spec, dropped);
      expect(c.live.map((l) => l.length)).toEqual(K.map((k) => k.length));
      expect(forwardMacs(c.spec)).toBeLessThan(forwardMacs(spec));
      const x = randomInputs(spec, 9, 3);
      expect(close(outputs(spec, dropped, x), outputs(c.spec, c.params, x))).toBe(true);
      x.dispose();
    }
  });
});

describe('dropout stability search', () => {
  it('reports ε = max_i L(θ_i) − L(θ) for the kept sets it returns, keeping at most half of each layer', async () => {
    const { spec, theta } = randomMlp(4, false, 3, 12);
    const train = randomSplit(spec, 200, 1);
    const x = randomInputs(spec, 32, 2);
    const s = await measureDropoutStability(spec, theta, { keepFraction: 0.5, masks: 6, heuristic: true, seed: 1 }, { train, search: train, sample: x });
    expect(s.r).toBe(2);
    expect(s.candidates).toHaveLength(7);
    s.kept.forEach((k, idx) => expect(k.length).toBe(Math.floor(hiddenWidths(spec)[idx]! / 2)));
    const base = await evaluateHost(spec, theta, train);
    const direct = await Promise.all([1, 2, 3].map((i) => evaluateHost(spec, drop(spec, theta, s.kept, [2, 2, 2], i), train)));
    expect(s.base.loss).toBeCloseTo(base.loss, 6);
    direct.forEach((m, k) => expect(s.perLayer[k]!.train.loss).toBeCloseTo(m.loss, 5));
    expect(s.epsilon).toBeCloseTo(Math.max(...direct.map((m) => m.loss)) - base.loss, 5);
    // The winner is the candidate with the smallest ε on the search set (here the same set).
    expect(s.epsilon).toBeCloseTo(Math.min(...s.candidates.map((c) => c.epsilon)), 5);
    const compactLosses = await droppedLosses(spec, theta, s.kept, [2, 2, 2], train);
    compactLosses.forEach((m, k) => expect(m.loss).toBeCloseTo(direct[k]!.loss, 5));
    train.dispose();
    x.dispose();
  });
});

describe('structure-aware path evaluation', () => {
  it.each([
    ['MLP', () => [randomMlp(3, true, 4, 10), randomMlp(3, true, 5, 10)] as const],
    ['CNN', () => [randomCnn(3, false, 6), randomCnn(3, false, 7)] as const],
  ])('agrees with naive point-by-point evaluation on the Theorem 1 path of a %s and costs fewer passes', async (_k, nets) => {
    const [a, b] = nets();
    const spec = a.spec;
    const KA = hiddenWidths(spec).map((h) => new Rng(1).sample(h, Math.floor(h / 2)));
    const KB = hiddenWidths(spec).map((h) => new Rng(2).sample(h, Math.floor(h / 2)));
    const path = theorem1Path(spec, a.theta, KA, b.theta, KB, [2, 2]);
    const splits = { train: randomSplit(spec, 120, 3), test: randomSplit(spec, 80, 4) };
    const checkX = randomInputs(spec, 16, 5);
    const ts = tGrid(path, { perSegment: 3 });
    const before = tf.memory().numTensors;
    const fast = await evaluatePathStructured(spec, path, ts, splits, checkX);
    expect(tf.memory().numTensors).toBe(before);
    const naive = await evaluatePathPoints(spec, path, ts, splits);
    fast.points.forEach((p, k) => {
      expect(p.t).toBe(naive[k]!.t);
      expect(p.train.loss).toBeCloseTo(naive[k]!.train.loss, 4);
      expect(p.test.acc).toBeCloseTo(naive[k]!.test.acc, 6);
    });
    expect(fast.cost.distinctFunctions).toBe(6);
    expect(fast.cost.naive).toBe(ts.length);
    expect(fast.cost.fullPassEquivalents).toBeLessThan(ts.length / 3);
    expect(fast.verification.functionPreserving.pass).toBe(true);
    expect(fast.verification.topLayerOnly.pass).toBe(true);
    splits.train.dispose();
    splits.test.dispose();
    checkX.dispose();
  });

  it.each([
    ['MLP', () => [randomMlp(3, true, 14, 10), randomMlp(3, true, 15, 10), randomMlp(3, true, 16, 10)] as const],
    ['CNN', () => [randomCnn(3, true, 17), randomCnn(3, true, 18), randomCnn(3, true, 19)] as const],
  ])('evaluates straight lines and Bézier curves of a %s with the first layer factored out, as a naive pass would', async (_k, nets) => {
    const [a, b, c] = nets();
    const spec = a.spec;
    const splits = { train: randomSplit(spec, 90, 6), test: randomSplit(spec, 50, 7) };
    const checkX = randomInputs(spec, 8, 8);
    for (const path of [
      { name: 'l', method: 'linear', vertices: [a.theta, b.theta], segments: [{ from: 0, to: 1, kind: 'line' as const }] },
      { name: 'q', method: 'bezier', vertices: [a.theta, c.theta, b.theta], segments: [{ from: 0, to: 2, kind: 'curve' as const }] },
    ]) {
      const ts = tGrid(path, { points: 9 });
      const before = tf.memory().numTensors;
      const fast = await evaluatePathStructured(spec, path, ts, splits, checkX);
      expect(tf.memory().numTensors).toBe(before);
      const naive = await evaluatePathPoints(spec, path, ts, splits);
      fast.points.forEach((p, k) => {
        expect(p.train.loss).toBeCloseTo(naive[k]!.train.loss, 4);
        expect(p.test.loss).toBeCloseTo(naive[k]!.test.loss, 4);
        expect(p.test.acc).toBeCloseTo(naive[k]!.test.acc, 6);
      });
      expect(fast.cost.pointwise).toBe(7);
      // Each end is evaluated once (plus the check batch); the first layer is paid once per control point, and each
      // interior point pays only for layers 2 … d.
      const macs = layerMacs(spec);
      const f1 = macs[0]! / macs.reduce((x, y) => x + y, 0);
      const check = checkX.shape[0] / (splits.train.n + splits.test.n);
      expect(fast.cost.fullPassEquivalents).toBeCloseTo(2 * (1 + check) + path.vertices.length * f1 + 7 * (1 - f1), 6);
    }
    splits.train.dispose();
    splits.test.dispose();
    checkX.dispose();
  });

  it('batches the points of a segment over stacked weights (MLP) with the same numbers as one by one', async () => {
    const a = randomMlp(4, true, 21, 12);
    const b = randomMlp(4, true, 22, 12);
    const c = randomMlp(4, true, 23, 12);
    const spec = a.spec;
    const splits = { train: randomSplit(spec, 130, 9), test: randomSplit(spec, 70, 10) };
    const checkX = randomInputs(spec, 8, 11);
    const before = process.env['MODELAB_BATCH_POINTS'];
    try {
      for (const path of [
        { name: 'l', method: 'linear', vertices: [a.theta, b.theta], segments: [{ from: 0, to: 1, kind: 'line' as const }] },
        { name: 'q', method: 'bezier', vertices: [a.theta, c.theta, b.theta], segments: [{ from: 0, to: 2, kind: 'curve' as const }] },
        {
          name: 'p',
          method: 'polychain',
          vertices: [a.theta, c.theta, b.theta],
          segments: [{ from: 0, to: 1, kind: 'line' as const }, { from: 1, to: 2, kind: 'line' as const }],
        },
      ]) {
        const ts = tGrid(path, { points: 13, perSegment: 6 });
        process.env['MODELAB_BATCH_POINTS'] = '1';
        const tensors = tf.memory().numTensors;
        const batched = await evaluatePathStructured(spec, path, ts, splits, checkX);
        expect(tf.memory().numTensors).toBe(tensors);
        process.env['MODELAB_BATCH_POINTS'] = '0';
        const single = await evaluatePathStructured(spec, path, ts, splits, checkX);
        batched.points.forEach((p, k) => {
          expect(p.t).toBe(single.points[k]!.t);
          expect(p.train.loss).toBeCloseTo(single.points[k]!.train.loss, 5);
          expect(p.test.acc).toBeCloseTo(single.points[k]!.test.acc, 6);
        });
        expect(batched.cost.fullPassEquivalents).toBeCloseTo(single.cost.fullPassEquivalents, 9);
      }
    } finally {
      if (before === undefined) delete process.env['MODELAB_BATCH_POINTS'];
      else process.env['MODELAB_BATCH_POINTS'] = before;
    }
    splits.train.dispose();
    splits.test.dispose();
    checkX.dispose();
  });

  it('flags a segment mislabelled as function-preserving', async () => {
    const { spec, theta } = randomMlp(3, false, 8, 8);
    const other = initParams(spec, 99);
    const path = { name: 'bad', method: 'test', vertices: [theta, other], segments: [{ from: 0, to: 1, kind: 'b' as const }] };
    const splits = { train: randomSplit(spec, 40, 1), test: randomSplit(spec, 40, 2) };
    const checkX = randomInputs(spec, 8, 3);
    const r = await evaluatePathStructured(spec, path, [0, 0.5, 1], splits, checkX);
    expect(r.verification.functionPreserving.pass).toBe(false);
    // And a mislabelled (a) segment that changes a lower layer.
    const path2 = { ...path, segments: [{ from: 0, to: 1, kind: 'a' as const }] };
    const r2 = await evaluatePathStructured(spec, path2, [0, 1], splits, checkX);
    expect(r2.verification.topLayerOnly.pass).toBe(false);
    expect(r2.verification.topLayerOnly.violations.length).toBeGreaterThan(0);
    splits.train.dispose();
    splits.test.dispose();
    checkX.dispose();
  });
});
