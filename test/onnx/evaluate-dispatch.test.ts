/**
 * Network evaluation follows the selected backend at its one seam (eval/host.ts): with onnx-cpu selected, a split's
 * loss and accuracy and a path's points (pointwise evaluator, evaluate-path) are computed by ONNX Runtime sessions,
 * and equal what tfjs' wasm backend computes for the same weights within float32 tolerance; a dense first layer is
 * factored out of a segment's points on both.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src-main/engine/backend/backends';
import { DeviceSplit, type Metrics } from '../../src-main/engine/eval/evaluate';
import { evaluateHost, evaluatesOnOnnx } from '../../src-main/engine/eval/host';
import { combineParams } from '../../src-main/engine/nn/params';
import { cachedSessionCount } from '../../src-main/engine/onnx/runtime';
import { evaluatePathPoints } from '../../src-main/engine/paths/evaluate-path';
import type { ParamPath } from '../../src-main/engine/paths/path';
import { SegmentPointEvaluator } from '../../src-main/engine/paths/pointwise';
import { batch, cnn, mlp, randomParams } from './helpers';

const close = (a: Metrics, b: Metrics): void => {
  expect(Math.abs(a.loss - b.loss)).toBeLessThan(1e-5 * Math.max(1, Math.abs(b.loss)));
  expect(a.acc).toBe(b.acc);
};

function split(spec: typeof cnn, n: number, seed: number, batchSize: number): DeviceSplit {
  const { x, y } = batch(spec, n, seed);
  return new DeviceSplit({ x, y, n }, spec.input[0] * spec.input[1] * spec.input[2], batchSize);
}

describe('evaluation on the selected backend', () => {
  // Both compute the rest on tfjs' wasm backend, which holds the splits' device batches.
  beforeAll(() => selectBackend('wasm'));

  it('a split (MLP and CNN with BatchNorm, a smaller last batch) on onnx-cpu equals wasm, computed by ONNX Runtime', async () => {
    for (const spec of [mlp(true), cnn]) {
      const data = split(spec, 23, 5, 10);
      const params = randomParams(spec, 6);
      await selectBackend('wasm');
      expect(evaluatesOnOnnx()).toBe(false);
      const sessions = cachedSessionCount();
      const onWasm = await evaluateHost(spec, params, data);
      expect(cachedSessionCount()).toBe(sessions);
      await selectBackend('onnx-cpu');
      expect(evaluatesOnOnnx()).toBe(true);
      const onOnnx = await evaluateHost(spec, params, data);
      // Two batch sizes (10 and the last 3): two sessions compiled for this spec.
      expect(cachedSessionCount()).toBe(sessions + 2);
      close(onOnnx, onWasm);
      data.dispose();
    }
  });

  const line = (spec: typeof cnn): ParamPath => ({
    name: 'line',
    method: 'linear',
    vertices: [randomParams(spec, 1), randomParams(spec, 2)],
    segments: [{ from: 0, to: 1, kind: 'line' }],
  });
  const curve = (spec: typeof cnn): ParamPath => ({
    name: 'curve',
    method: 'bezier',
    vertices: [randomParams(spec, 3), randomParams(spec, 4), randomParams(spec, 5)],
    segments: [{ from: 0, to: 2, kind: 'curve' }],
  });
  const cases = [
    { name: 'a straight segment, bias-free MLP', spec: mlp(false), path: line },
    { name: 'a quadratic Bézier segment, MLP with biases', spec: mlp(true), path: curve },
  ];

  it.each(cases)('path points ($name; pointwise and grid evaluation) on onnx-cpu equal wasm, the first layer factored on both', async ({ spec, path: make }) => {
    const splits = { train: split(spec, 30, 7, 16), test: split(spec, 20, 8, 16) };
    const path = make(spec);
    const ts = [0, 0.25, 0.5, 1];
    const pointsOn = async (backend: string) => {
      await selectBackend(backend);
      const ev = new SegmentPointEvaluator(spec, splits);
      const many = await ev.evaluateMany(path, 0, [0.3, 0.7]);
      return { factored: ev.factored, cost: ev.cost, many, grid: await evaluatePathPoints(spec, path, ts, splits) };
    };
    const wasm = await pointsOn('wasm');
    const sessions = cachedSessionCount();
    const onnx = await pointsOn('onnx-cpu');
    expect(cachedSessionCount()).toBeGreaterThan(sessions);
    // Both compute each control point's first-layer product once and each point from their mix: the same cost, in
    // full-pass equivalents.
    expect(wasm.factored).toBe(true);
    expect(onnx.factored).toBe(true);
    expect(onnx.cost).toBeCloseTo(wasm.cost, 9);
    onnx.many.forEach((p, k) => {
      close(p.train, wasm.many[k]!.train);
      close(p.test, wasm.many[k]!.test);
    });
    onnx.grid.forEach((p, k) => {
      expect(p.t).toBe(ts[k]);
      close(p.train, wasm.grid[k]!.train);
      close(p.test, wasm.grid[k]!.test);
    });
    splits.train.dispose();
    splits.test.dispose();
  });

  it('a convolutional first layer is not factored on ONNX Runtime: each point is one full pass there', async () => {
    const data = split(cnn, 12, 9, 6);
    await selectBackend('onnx-cpu');
    const ev = new SegmentPointEvaluator(cnn, { train: data, test: data });
    expect(ev.factored).toBe(false);
    const p = line(cnn);
    const [point] = await ev.evaluateMany(p, 0, [0.4]);
    expect(ev.cost).toBe(1);
    await selectBackend('wasm');
    const onWasm = await evaluateHost(cnn, combineParams(p.vertices, [0.6, 0.4]), data);
    close(point!.train, onWasm);
    data.dispose();
  });
});
