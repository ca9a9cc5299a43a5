/**
 * The straight-line path (paths/path.ts, paths/evaluate-path.ts) between two trained networks: the t grid, the
 * exact endpoints, and path evaluation agreeing with evaluating the endpoints on their own.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src-main/engine/backend/backends';
import { featureCount } from '../../src-main/engine/data/dataset';
import { gaussianMixture } from '../../src-main/engine/data/synthetic';
import { barrierOf } from '../../src-main/engine/eval/barrier';
import { DeviceSplit, type Metrics, evaluate } from '../../src-main/engine/eval/evaluate';
import { type HostParams, disposeParams, paramsEqual, toDevice } from '../../src-main/engine/nn/params';
import type { ArchSpec } from '../../src-main/engine/nn/spec';
import { evaluatePathPoints } from '../../src-main/engine/paths/evaluate-path';
import { linearPath, locate, pointAt, tGrid } from '../../src-main/engine/paths/path';
import { train } from '../../src-main/engine/train/loop';
import { CancelledError } from '../../src-main/engine/util/errors';

const data = gaussianMixture({ classes: 4, dim: 8, train: 400, test: 300, separation: 4, noise: 1, clustersPerClass: 2, seed: 1 });
const spec: ArchSpec = {
  input: data.inputShape,
  layers: [
    { type: 'dense', units: 24, bias: true, dropout: 0 },
    { type: 'dense', units: 24, bias: true, dropout: 0 },
    { type: 'dense', units: 4, bias: true, dropout: 0 },
  ],
};

describe('straight line between two trained networks (wasm)', () => {
  let A: HostParams;
  let B: HostParams;
  let splits: { train: DeviceSplit; test: DeviceSplit };

  beforeAll(async () => {
    await selectBackend('wasm');
    const cfg = { optimizer: { type: 'sgd' as const, lr: 0.05, momentum: 0.9, nesterov: false, weightDecay: 0 }, schedule: { type: 'constant' as const }, batchSize: 32, steps: 150 };
    A = (await train(spec, data, cfg, { seed: 1 })).params;
    B = (await train(spec, data, cfg, { seed: 2 })).params;
    const f = featureCount(data);
    // Batch sizes that do not divide the split sizes, so the last batch is partial.
    splits = { train: new DeviceSplit(data.train, f, 128), test: new DeviceSplit(data.test, f, 128) };
    return () => {
      splits.train.dispose();
      splits.test.dispose();
    };
  });

  async function own(p: HostParams): Promise<{ train: Metrics; test: Metrics }> {
    const dev = toDevice(p);
    try {
      return { train: await evaluate(spec, dev, splits.train), test: await evaluate(spec, dev, splits.test) };
    } finally {
      disposeParams(dev);
    }
  }

  it('tGrid gives 61 evenly spaced points by default, from exactly 0 to exactly 1', () => {
    const path = linearPath(A, B);
    const ts = tGrid(path, {});
    expect(ts.length).toBe(61);
    expect(ts[0]).toBe(0);
    expect(ts[60]).toBe(1);
    ts.forEach((t, k) => expect(t).toBeCloseTo(k / 60, 15));
    for (let k = 1; k < ts.length; k++) expect(ts[k]! - ts[k - 1]!).toBeCloseTo(1 / 60, 12);
    expect(tGrid(path, { points: 5 })).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(tGrid(path, { points: 1 })).toEqual([0, 1]); // at least the two ends
  });

  it('pointAt(0) and pointAt(1) are the endpoints exactly; inside, the parameter-wise mix', () => {
    const path = linearPath(A, B);
    expect(paramsEqual(pointAt(path, 0), A)).toBe(true);
    expect(paramsEqual(pointAt(path, 1), B)).toBe(true);
    expect(locate(path, 1)).toEqual({ segment: 0, local: 1 });
    const mid = pointAt(path, 0.25);
    for (const k of Object.keys(A)) {
      const a = A[k]!.data;
      const b = B[k]!.data;
      expect(mid[k]!.shape).toEqual(A[k]!.shape);
      for (let i = 0; i < a.length; i += 7) expect(mid[k]!.data[i]).toBeCloseTo(0.75 * a[i]! + 0.25 * b[i]!, 6);
    }
    // Outside [0, 1], t is clamped to the ends.
    expect(paramsEqual(pointAt(path, -0.5), A)).toBe(true);
    expect(paramsEqual(pointAt(path, 1.5), B)).toBe(true);
  });

  it("the first and last path points equal the endpoints' own evaluate() metrics exactly", async () => {
    const path = linearPath(A, B);
    const ts = tGrid(path, {});
    const points = await evaluatePathPoints(spec, path, ts, splits);
    expect(points.map((p) => p.t)).toEqual(ts);
    const ea = await own(A);
    const eb = await own(B);
    expect(points[0]!.train).toEqual(ea.train);
    expect(points[0]!.test).toEqual(ea.test);
    expect(points[60]!.train).toEqual(eb.train);
    expect(points[60]!.test).toEqual(eb.test);
    // Both endpoints are trained (well above chance 25 %), and an interior point matches its own evaluation too.
    expect(ea.test.acc).toBeGreaterThan(0.8);
    expect(eb.test.acc).toBeGreaterThan(0.8);
    expect(points[30]!.test).toEqual((await own(pointAt(path, ts[30]!))).test);
    // Independently trained ReLU networks: the loss rises somewhere between them.
    const b = barrierOf(points);
    expect(b.train.maxLoss.value).toBeGreaterThan(Math.max(ea.train.loss, eb.train.loss));
    expect(b.train.lossOverInterpolation.t).toBeGreaterThan(0);
    expect(b.train.lossOverInterpolation.t).toBeLessThan(1);
    for (const p of points) {
      expect(p.train.acc).toBeGreaterThanOrEqual(0);
      expect(p.train.acc).toBeLessThanOrEqual(1);
      expect(Number.isFinite(p.test.loss)).toBe(true);
    }
  });

  it('reports progress per point and can be cancelled between points', async () => {
    const path = linearPath(A, B, 'AB');
    const ctl = new AbortController();
    const seen: string[] = [];
    const run = evaluatePathPoints(spec, path, tGrid(path, { points: 11 }), splits, {
      signal: ctl.signal,
      onProgress: (e) => {
        seen.push(`${e.stage}:${e.done}/${e.total}`);
        if (e.done === 3) ctl.abort();
      },
    });
    await expect(run).rejects.toBeInstanceOf(CancelledError);
    expect(seen).toEqual(['path:AB:1/11', 'path:AB:2/11', 'path:AB:3/11']);
  });
});
