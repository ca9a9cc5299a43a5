import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src-main/engine/backend/backends';
import { type CurveShape, curveCoefficients, curvePath, straightControls, vertexTs } from '../../src-main/engine/curves/curve';
import { trainCurve } from '../../src-main/engine/curves/train';
import type { Dataset } from '../../src-main/engine/data/dataset';
import { gaussianMixture } from '../../src-main/engine/data/synthetic';
import { DeviceSplit } from '../../src-main/engine/eval/evaluate';
import { evaluateHost } from '../../src-main/engine/eval/host';
import { type HostParams, combineParams, initParams, lerpParams, maxAbsDiff, paramsEqual } from '../../src-main/engine/nn/params';
import type { ArchSpec } from '../../src-main/engine/nn/spec';
import { pointAt } from '../../src-main/engine/paths/path';
import { train } from '../../src-main/engine/train/loop';
import { randomMlp, useCpu } from '../theory/helpers';

const shapes: CurveShape[] = [
  { kind: 'bezier', free: 1 },
  { kind: 'bezier', free: 3 },
  { kind: 'polychain', free: 1 },
  { kind: 'polychain', free: 3 },
];

describe('curve parametrisation', () => {
  beforeAll(useCpu);
  const { spec, theta: A } = randomMlp(3, true, 1, 6);
  const B = initParams(spec, 2);
  const controls = (n: number): HostParams[] => Array.from({ length: n }, (_, k) => initParams(spec, 10 + k));

  it.each(shapes)('$kind with $free free control points: exact at t = 0, t = 1 and (polygonal) at every bend', (shape) => {
    const ctrl = controls(shape.free);
    const path = curvePath(shape, A, ctrl, B, 'c');
    expect(path.segments).toHaveLength(shape.kind === 'bezier' ? 1 : shape.free + 1);
    expect(paramsEqual(pointAt(path, 0), A)).toBe(true);
    expect(paramsEqual(pointAt(path, 1), B)).toBe(true);
    const n = shape.free + 1;
    expect(curveCoefficients(shape, 0)).toEqual([1, ...Array(n).fill(0)]);
    expect(curveCoefficients(shape, 1)).toEqual([...Array(n).fill(0), 1]);
    vertexTs(shape).forEach((t, k) => {
      if (t === null) return;
      const c = curveCoefficients(shape, t);
      expect(c[k]).toBe(1);
      expect(c.reduce((a, b) => a + b, 0)).toBe(1);
      expect(paramsEqual(pointAt(path, t), path.vertices[k]!)).toBe(true);
    });
  });

  it.each(shapes)('$kind ($free): θ(t) = Σ c_k(t)·θ_k agrees with the path evaluator, and coefficients sum to 1', (shape) => {
    const path = curvePath(shape, A, controls(shape.free), B, 'c');
    for (const t of [0.013, 0.25, 0.5, 0.61, 0.999]) {
      const c = curveCoefficients(shape, t);
      expect(c.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      expect(maxAbsDiff(combineParams(path.vertices, c), pointAt(path, t))).toBeLessThan(1e-6);
    }
  });

  it.each(shapes)('$kind ($free): control points on the straight line give the straight line', (shape) => {
    const path = curvePath(shape, A, straightControls(shape, A, B), B, 'c');
    for (const t of [0.1, 0.37, 0.5, 0.9]) expect(maxAbsDiff(pointAt(path, t), lerpParams(A, B, t))).toBeLessThan(1e-6);
  });
});

// 4×4×1 "images" from a Gaussian mixture, so the same data feeds MLPs and CNNs.
const base = gaussianMixture({ classes: 3, dim: 16, train: 600, test: 200, separation: 4, noise: 1, clustersPerClass: 2, seed: 3 });
const data: Dataset = { ...base, inputShape: [4, 4, 1] };
const sgd = { type: 'sgd' as const, lr: 0.05, momentum: 0.9, nesterov: false, weightDecay: 0 };

const specs: { name: string; spec: ArchSpec }[] = [
  {
    name: 'MLP with bias and dropout',
    spec: { input: [4, 4, 1], layers: [{ type: 'dense', units: 24, bias: true, dropout: 0.2 }, { type: 'dense', units: 24, bias: true, dropout: 0 }, { type: 'dense', units: 3, bias: true, dropout: 0 }] },
  },
  {
    name: 'MLP with BatchNorm',
    spec: { input: [4, 4, 1], layers: [{ type: 'dense', units: 24, bias: true, dropout: 0, batchNorm: true }, { type: 'dense', units: 3, bias: true, dropout: 0 }] },
  },
  {
    name: 'CNN with BatchNorm and pooling',
    spec: {
      input: [4, 4, 1],
      layers: [
        { type: 'conv', filters: 6, kernel: 3, stride: 1, padding: 'same', bias: false, pool: { size: 2, stride: 2 }, dropout: 0, batchNorm: true },
        { type: 'dense', units: 3, bias: true, dropout: 0 },
      ],
    },
  },
];

describe.each(['cpu', 'wasm'] as const)('curve training on %s', (backend) => {
  beforeAll(async () => {
    await selectBackend(backend);
  });

  describe.each(specs)('$name', ({ spec }) => {
    it.each([{ kind: 'bezier', free: 1 }, { kind: 'polychain', free: 2 }] as CurveShape[])(
      '$kind: no tensor leak (flat across steps, nothing left after 5 or 25 steps), endpoints untouched',
      async (shape) => {
        const [A, B] = [initParams(spec, 1), initParams(spec, 2)];
        const baseline = tf.memory().numTensors;
        const during: number[][] = [];
        for (const steps of [5, 25]) {
          const samples: number[] = [];
          const r = await trainCurve(
            spec,
            data,
            shape,
            A,
            B,
            straightControls(shape, A, B),
            { optimizer: sgd, weightDecay: 1e-4, schedule: { type: 'constant' }, batchSize: 32, steps },
            { seed: 1, logPoints: steps, onProgress: () => samples.push(tf.memory().numTensors) },
          );
          expect(r.steps).toBe(steps);
          expect(r.controls).toHaveLength(shape.free);
          expect(tf.memory().numTensors).toBe(baseline);
          during.push(samples);
        }
        // The same count at every logged step of both runs: nothing accumulates per step.
        expect(new Set(during.flat()).size).toBe(1);
      },
    );
  });
});

describe('curve training lowers the loss in the middle of the path', () => {
  beforeAll(useCpu);
  it('a trained quadratic Bézier curve and one-bend chain beat the straight line at t = ½ between two trained MLPs', async () => {
    const spec = specs[0]!.spec;
    const cfg = { optimizer: { ...sgd, lr: 0.05 }, schedule: { type: 'cosine' as const, minLr: 0 }, batchSize: 32, epochs: 15 };
    const [A, B] = [(await train(spec, data, cfg, { seed: 1 })).params, (await train(spec, data, cfg, { seed: 2 })).params];
    const split = new DeviceSplit(data.train, 16, 600);
    const lineMid = await evaluateHost(spec, lerpParams(A, B, 0.5), split);
    for (const shape of [{ kind: 'bezier', free: 1 }, { kind: 'polychain', free: 1 }] as CurveShape[]) {
      const r = await trainCurve(spec, data, shape, A, B, straightControls(shape, A, B), { ...cfg, weightDecay: 1e-4, epochs: 10 }, { seed: 4 });
      const path = curvePath(shape, A, r.controls, B, shape.kind);
      expect(paramsEqual(path.vertices[0]!, A) && paramsEqual(path.vertices[path.vertices.length - 1]!, B)).toBe(true);
      const mid = await evaluateHost(spec, pointAt(path, 0.5), split);
      expect(mid.loss).toBeLessThan(lineMid.loss);
      expect(r.curve[r.curve.length - 1]!.loss).toBeLessThan(r.curve[0]!.loss);
    }
    split.dispose();
  });
});
