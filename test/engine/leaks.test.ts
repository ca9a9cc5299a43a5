/**
 * No tensor leaks: tf.memory().numTensors is back where it started after train(), evaluate() and
 * evaluatePathPoints(), and stays flat while they run, so it does not grow with the number of steps or points.
 * Covers the dense and conv paths (custom gradients on wasm), bias, dropout, momentum and Adam slots, checkpoints.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src-main/engine/backend/backends';
import type { Dataset } from '../../src-main/engine/data/dataset';
import { featureCount } from '../../src-main/engine/data/dataset';
import { gaussianMixture } from '../../src-main/engine/data/synthetic';
import { DeviceSplit, evaluate } from '../../src-main/engine/eval/evaluate';
import { disposeParams, initParams, toDevice } from '../../src-main/engine/nn/params';
import type { ArchSpec } from '../../src-main/engine/nn/spec';
import { evaluatePathPoints } from '../../src-main/engine/paths/evaluate-path';
import { evaluatePathStructured } from '../../src-main/engine/paths/structured-eval';
import { parseRecipe } from '../../src-main/engine/recipe/resolve';
import { runRecipe } from '../../src-main/engine/experiment/run';
import { linearPath, tGrid } from '../../src-main/engine/paths/path';
import type { OptimizerConfig } from '../../src-main/engine/train/optimizers';
import { train } from '../../src-main/engine/train/loop';

// 4×4×1 "images" from a Gaussian mixture, so the same data feeds an MLP and a CNN.
const base = gaussianMixture({ classes: 3, dim: 16, train: 256, test: 64, separation: 4, noise: 1, clustersPerClass: 1, seed: 2 });
const data: Dataset = { ...base, inputShape: [4, 4, 1] };

const specs: { name: string; spec: ArchSpec }[] = [
  {
    name: 'MLP with bias and dropout',
    spec: {
      input: [4, 4, 1],
      layers: [
        { type: 'dense', units: 16, bias: true, dropout: 0.25 },
        { type: 'dense', units: 3, bias: true, dropout: 0 },
      ],
    },
  },
  {
    name: 'CNN without bias, pool and channel dropout',
    spec: {
      input: [4, 4, 1],
      layers: [
        { type: 'conv', filters: 4, kernel: 3, stride: 1, padding: 'same', bias: false, pool: { size: 2, stride: 2 }, dropout: 0.25 },
        { type: 'conv', filters: 4, kernel: 2, stride: 1, padding: 'valid', bias: true, pool: null, dropout: 0 },
        { type: 'dense', units: 3, bias: false, dropout: 0 },
      ],
    },
  },
];

const optimizers: OptimizerConfig[] = [
  { type: 'sgd', lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-4 },
  { type: 'adam', lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 1e-4 },
];

describe.each(['cpu', 'wasm'] as const)('on %s', (backend) => {
  beforeAll(async () => {
    await selectBackend(backend);
  });

  describe.each(specs)('$name', ({ spec }) => {
    it.each(optimizers.map((o) => [o.type, o] as const))('train() with %s: flat during the run, nothing left after, for 5 and 25 steps', async (_t, optimizer) => {
      const baseline = tf.memory().numTensors;
      const during: Record<number, number[]> = {};
      for (const steps of [5, 25]) {
        const samples: number[] = [];
        const r = await train(
          spec,
          data,
          { optimizer, schedule: { type: 'cosine', minLr: 0 }, batchSize: 32, steps, checkpointEvery: 0.25 },
          {
            seed: 3,
            logPoints: steps, // a curve point after every step
            onCurvePoint: () => samples.push(tf.memory().numTensors),
            onCheckpoint: () => void samples.push(tf.memory().numTensors),
          },
        );
        expect(r.steps).toBe(steps);
        expect(samples.length).toBeGreaterThan(steps); // curve points plus checkpoints
        during[steps] = samples;
        expect(tf.memory().numTensors).toBe(baseline);
      }
      // Every sample of both runs is the same count: nothing accumulates per step.
      const all = [...during[5]!, ...during[25]!];
      expect(new Set(all).size).toBe(1);
      expect(all[0]).toBeGreaterThan(baseline); // the variables and slots exist while training
    });

    it('evaluate() and evaluatePathPoints() leave nothing behind and stay flat per point', async () => {
      const baseline = tf.memory().numTensors;
      const a = initParams(spec, 1);
      const b = initParams(spec, 2);
      const features = featureCount(data);
      const splits = { train: new DeviceSplit(data.train, features, 100), test: new DeviceSplit(data.test, features, 100) };
      const withSplits = tf.memory().numTensors;
      expect(withSplits).toBe(baseline + 2 * (3 + 1)); // x and y per batch: 3 train batches, 1 test batch

      const dev = toDevice(a);
      const withParams = tf.memory().numTensors;
      for (let k = 0; k < 3; k++) {
        await evaluate(spec, dev, splits.train);
        await evaluate(spec, dev, splits.test);
        expect(tf.memory().numTensors).toBe(withParams);
      }
      disposeParams(dev);
      expect(tf.memory().numTensors).toBe(withSplits);

      const path = linearPath(a, b);
      for (const n of [3, 13]) {
        const samples: number[] = [];
        const points = await evaluatePathPoints(spec, path, tGrid(path, { points: n }), splits, {
          onProgress: () => samples.push(tf.memory().numTensors),
        });
        expect(points.length).toBe(n);
        expect(samples.length).toBe(n);
        expect(new Set(samples)).toEqual(new Set([withSplits]));
        expect(tf.memory().numTensors).toBe(withSplits);
      }
      // The structure-aware evaluator (what runs use) on the same path, with its check batch.
      const checkX = tf.tensor2d(data.train.x.subarray(0, 32 * features), [32, features]);
      const withCheck = tf.memory().numTensors;
      for (const n of [3, 13]) {
        const ev = await evaluatePathStructured(spec, path, tGrid(path, { points: n }), splits, checkX);
        expect(ev.points.length).toBe(n);
        expect(tf.memory().numTensors).toBe(withCheck);
      }
      checkX.dispose();
      splits.train.dispose();
      splits.test.dispose();
      expect(tf.memory().numTensors).toBe(baseline);
    });
  });

  it('a whole runRecipe (training, evaluation, dropout stability, linear and Theorem 1 paths) leaves nothing behind', async () => {
    const backendRecord = await selectBackend(backend);
    const recipe = parseRecipe({
      name: 'leak-check',
      dataset: { name: 'gaussian-mixture', classes: 3, dim: 6, train: 200, test: 100, seed: 1 },
      architecture: { type: 'mlp', hidden: [8, 8], dropout: 0.1 },
      training: { steps: 20, batchSize: 50, lr: 0.05 },
      paths: [{ type: 'linear', points: 5 }, { type: 'theorem1', perSegment: 1, dropout: { masks: 2, searchSamples: 100 } }],
      stability: { dropout: { masks: 2, searchSamples: 100 } },
      evaluation: { trainSamples: 150, testSamples: 80, batchSize: 64 },
    });
    const before = tf.memory().numTensors;
    const r = await runRecipe(recipe, { backend: backendRecord });
    expect(r.paths.map((p) => p.kind)).toEqual(['linear', 'theorem1']);
    expect(tf.memory().numTensors).toBe(before);
  });
});
