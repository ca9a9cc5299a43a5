/** Test metrics on the training curve (train/test-probe.ts, issue 13 item 10). */
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src-main/engine/backend/backends';
import { featureCount, subset } from '../../src-main/engine/data/dataset';
import { gaussianMixture } from '../../src-main/engine/data/synthetic';
import { DeviceSplit } from '../../src-main/engine/eval/evaluate';
import { evaluateHost } from '../../src-main/engine/eval/host';
import type { ArchSpec } from '../../src-main/engine/nn/spec';
import { type CurvePoint, train } from '../../src-main/engine/train/loop';
import { TEST_PROBE_MAX, testProbeSize } from '../../src-main/engine/train/test-probe';
import { deriveSeed } from '../../src-main/engine/util/rng';

const data = gaussianMixture({ classes: 4, dim: 8, train: 512, test: 300, separation: 4, noise: 1, clustersPerClass: 2, seed: 3 });
const mlp = (batchNorm: boolean): ArchSpec => ({
  input: data.inputShape,
  layers: [{ type: 'dense', units: 16, bias: true, dropout: 0.2, ...(batchNorm ? { batchNorm } : {}) }, { type: 'dense', units: 4, bias: true, dropout: 0 }],
});
const cfg = { optimizer: { type: 'sgd' as const, lr: 0.1, momentum: 0.9, nesterov: false, weightDecay: 0 }, schedule: { type: 'constant' as const }, batchSize: 32, steps: 60 };

describe('test metrics on the training curve', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  });

  it('every curve point carries the test loss and accuracy of the weights at that point, on a fixed subsample', async () => {
    const spec = mlp(false);
    const curve: CurvePoint[] = [];
    const r = await train(spec, data, cfg, { seed: 4, logPoints: 10, onCurvePoint: (p) => curve.push(p) });
    expect(curve).toHaveLength(10);
    for (const p of curve) {
      expect(Number.isFinite(p.testLoss)).toBe(true);
      expect(p.testAcc).toBeGreaterThanOrEqual(0);
    }
    expect(curve.at(-1)!.testAcc!).toBeGreaterThan(curve[0]!.testAcc!);
    // The last point's test metrics are the final weights' on the subsample: min(300, 2000, 32 × 6 steps) = 192.
    const n = testProbeSize(spec, data.test.n, 32, 6);
    expect(n).toBe(192);
    const split = new DeviceSplit(subset(data.test, n, deriveSeed(4, 'test-probe'), featureCount(data)), featureCount(data), 500);
    const m = await evaluateHost(spec, r.params, split);
    split.dispose();
    expect(curve.at(-1)!.testLoss).toBeCloseTo(m.loss, 5);
    expect(curve.at(-1)!.testAcc).toBe(m.acc);
  });

  it('sizes the subsample by the test set, the cap and the samples between points; none for BatchNorm', async () => {
    expect(testProbeSize(mlp(false), 10_000, 128, 1173)).toBe(TEST_PROBE_MAX);
    expect(testProbeSize(mlp(false), 1000, 64, 6)).toBe(384);
    expect(testProbeSize(mlp(false), 100, 64, 6)).toBe(100);
    expect(testProbeSize(mlp(true), 1000, 64, 6)).toBe(0);
    const curve: CurvePoint[] = [];
    await train(mlp(true), data, cfg, { seed: 4, logPoints: 5, onCurvePoint: (p) => curve.push(p) });
    expect(curve.every((p) => p.testLoss === undefined && p.testAcc === undefined)).toBe(true);
  });
});
