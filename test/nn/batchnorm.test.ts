import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyPermutation, randomPermutation } from '../../src-main/engine/align/permutation';
import { selectBackend } from '../../src-main/engine/backend/backends';
import type { Dataset } from '../../src-main/engine/data/dataset';
import { gaussianMixture } from '../../src-main/engine/data/synthetic';
import { DeviceSplit } from '../../src-main/engine/eval/evaluate';
import { evaluateHost } from '../../src-main/engine/eval/host';
import { BN_EPSILON, foldBatchNorm } from '../../src-main/engine/nn/batchnorm';
import { forward } from '../../src-main/engine/nn/forward';
import { type HostParams, checkParams, disposeParams, initParams, lerpParams, toDevice } from '../../src-main/engine/nn/params';
import { preActivationStats, recomputeBatchNorm, repair } from '../../src-main/engine/nn/renormalize';
import { type ArchSpec, hasBatchNorm, paramShapes } from '../../src-main/engine/nn/spec';
import { resolveArchitecture } from '../../src-main/engine/recipe/resolve';
import { theorem1Path } from '../../src-main/engine/theory/theorem1';
import { train } from '../../src-main/engine/train/loop';
import { Rng } from '../../src-main/engine/util/rng';
import { close, outputs, randomInputs } from '../theory/helpers';

const base = gaussianMixture({ classes: 4, dim: 16, train: 800, test: 300, separation: 3, noise: 1, clustersPerClass: 2, seed: 5 });
const data: Dataset = { ...base, inputShape: [4, 4, 1] };
const sgd = { type: 'sgd' as const, lr: 0.05, momentum: 0.9, nesterov: false, weightDecay: 0 };

const bnMlp = (bias: boolean): ArchSpec => resolveArchitecture({ type: 'mlp', hidden: [24, 16], bias, dropout: 0, batchNorm: true }, [4, 4, 1], 4);
const bnCnn = (bias: boolean): ArchSpec =>
  resolveArchitecture({ type: 'cnn', conv: [{ filters: 6, kernel: 3, stride: 1, padding: 'same', pool: 2, dropout: 0 }], dense: [{ units: 12, dropout: 0 }], bias, batchNorm: true }, [4, 4, 1], 4);

/** BN parameters and statistics away from their initial values. */
function perturbBn(theta: HostParams, seed: number): HostParams {
  const rng = new Rng(seed);
  for (const [k, v] of Object.entries(theta)) {
    if (k.endsWith('.beta') || k.endsWith('.mean')) v.data.forEach((_, i) => (v.data[i] = rng.normal() * 0.3));
    if (k.endsWith('.gamma') || k.endsWith('.var')) v.data.forEach((_, i) => (v.data[i] = 0.5 + rng.next()));
  }
  return theta;
}

describe('BatchNorm layers', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  });

  it('adds γ, β (trained) and mean, var (statistics) to hidden layers only, initialised to 1, 0, 0, 1', () => {
    const spec = bnMlp(true);
    expect(hasBatchNorm(spec)).toBe(true);
    const names = paramShapes(spec).map((p) => p.name);
    expect(names).toEqual(['A1.w', 'A1.b', 'A1.bn.gamma', 'A1.bn.beta', 'A1.bn.mean', 'A1.bn.var', 'A2.w', 'A2.b', 'A2.bn.gamma', 'A2.bn.beta', 'A2.bn.mean', 'A2.bn.var', 'A3.w', 'A3.b']);
    const theta = initParams(spec, 1);
    checkParams(spec, theta);
    expect([...theta['A1.bn.gamma']!.data].every((v) => v === 1) && [...theta['A1.bn.var']!.data].every((v) => v === 1)).toBe(true);
    expect([...theta['A1.bn.beta']!.data, ...theta['A1.bn.mean']!.data].every((v) => v === 0)).toBe(true);
  });

  it('evaluation mode computes γ·(x − mean)/√(var + ε) + β before the ReLU (checked by hand on one dense layer)', () => {
    const spec = resolveArchitecture({ type: 'mlp', hidden: [3], bias: true, dropout: 0, batchNorm: true }, [1, 1, 2], 2);
    const t = perturbBn(initParams(spec, 3), 4);
    const x = [0.7, -1.3];
    const h = [0, 1, 2].map((j) => {
      const pre = x[0]! * t['A1.w']!.data[j]! + x[1]! * t['A1.w']!.data[3 + j]! + t['A1.b']!.data[j]!;
      const n = (pre - t['A1.bn.mean']!.data[j]!) / Math.sqrt(t['A1.bn.var']!.data[j]! + BN_EPSILON);
      return Math.max(0, t['A1.bn.gamma']!.data[j]! * n + t['A1.bn.beta']!.data[j]!);
    });
    const logits = [0, 1].map((o) => h.reduce((s, v, j) => s + v * t['A2.w']!.data[j * 2 + o]!, 0) + t['A2.b']!.data[o]!);
    const got = outputs(spec, t, tf.tensor2d([x]));
    logits.forEach((v, o) => expect(got[o]).toBeCloseTo(v, 5));
  });

  it.each([
    ['MLP with bias', bnMlp(true)],
    ['MLP without bias', bnMlp(false)],
    ['CNN with bias', bnCnn(true)],
    ['CNN without bias', bnCnn(false)],
  ] as const)('folding BN into the weights (%s) gives a BN-free network with the same function', (_n, spec) => {
    const theta = perturbBn(initParams(spec, 5), 6);
    const f = foldBatchNorm(spec, theta);
    expect(hasBatchNorm(f.spec)).toBe(false);
    checkParams(f.spec, f.params);
    const x = randomInputs(spec, 12, 1);
    expect(close(outputs(spec, theta, x), outputs(f.spec, f.params, x))).toBe(true);
    x.dispose();
  });

  it('the paper\'s constructions refuse a BN network with a clear error, and accept the folded one', () => {
    const spec = bnMlp(true);
    const theta = initParams(spec, 1);
    const K = [[0, 1], [0]];
    expect(() => theorem1Path(spec, theta, K, theta, K, [2, 2])).toThrow(/BatchNorm.*[Ff]old/);
    const f = foldBatchNorm(spec, theta);
    expect(theorem1Path(f.spec, f.params, K, f.params, K, [2, 2]).segments).toHaveLength(8 * 3 - 4);
  });

  const maxDiff = (a: tf.Tensor, b: tf.Tensor): number => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);

  it('recomputation sets exact population statistics layer by layer (layer 2 sees layer 1 normalised with its new statistics)', async () => {
    const spec = bnMlp(true);
    const theta = perturbBn(initParams(spec, 7), 8);
    const xs = [tf.tensor2d(data.train.x.subarray(0, 300 * 16), [300, 16]), tf.tensor2d(data.train.x.subarray(300 * 16, 500 * 16), [200, 16])];
    const r = await recomputeBatchNorm(spec, theta, xs);
    // Layer 1 by hand: statistics of x·W1 + b1 over all 500 samples.
    const all = tf.concat(xs);
    const d = toDevice(r);
    const pre1 = tf.add(tf.matMul(all, d['A1.w'] as tf.Tensor2D), d['A1.b']!);
    const m1 = tf.moments(pre1, 0);
    expect(maxDiff(m1.mean, d['A1.bn.mean']!)).toBeLessThan(1e-4);
    expect(maxDiff(m1.variance, d['A1.bn.var']!)).toBeLessThan(1e-3);
    // Layer 2 from layer 1 normalised with the recomputed statistics.
    const h1 = tf.relu(tf.add(tf.mul(tf.div(tf.sub(pre1, d['A1.bn.mean']!), tf.sqrt(tf.add(d['A1.bn.var']!, BN_EPSILON))), d['A1.bn.gamma']!), d['A1.bn.beta']!));
    const m2 = tf.moments(tf.add(tf.matMul(h1 as tf.Tensor2D, d['A2.w'] as tf.Tensor2D), d['A2.b']!), 0);
    expect(maxDiff(m2.mean, d['A2.bn.mean']!)).toBeLessThan(1e-4);
    expect(maxDiff(m2.variance, d['A2.bn.var']!)).toBeLessThan(1e-3);
    // Evaluation mode with these statistics = batch mode on the whole sample (the batch is the population).
    const evalMode = forward(spec, d, all);
    const batchMode = forward(spec, d, all, { batchStats: true });
    expect(maxDiff(evalMode, batchMode)).toBeLessThan(2e-3);
    [all, pre1, m1.mean, m1.variance, h1, m2.mean, m2.variance, evalMode, batchMode, ...xs].forEach((t) => t.dispose());
    disposeParams(d);
  });
});

describe.each(['cpu', 'wasm'] as const)('training BN networks in train mode on %s', (backend) => {
  beforeAll(async () => {
    await selectBackend(backend);
  });

  it.each([
    ['MLP', bnMlp(true)],
    ['CNN', bnCnn(false)],
  ] as const)('%s: the loss falls, statistics are set after training, no tensor leaks, same gradients as cpu', async (_n, spec) => {
    const before = tf.memory().numTensors;
    const r = await train(spec, data, { optimizer: sgd, schedule: { type: 'constant' }, batchSize: 32, steps: 60 }, { seed: 2, logPoints: 6 });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.curve[r.curve.length - 1]!.loss).toBeLessThan(r.curve[0]!.loss);
    expect([...r.params['A1.bn.mean']!.data].some((v) => v !== 0)).toBe(true);
    expect([...r.params['A1.bn.var']!.data].some((v) => v !== 1)).toBe(true);
    // The train-mode gradient (batch statistics) of a fixed batch matches the cpu backend's.
    const x = tf.tensor2d(data.train.x.subarray(0, 64 * 16), [64, 16]);
    const y = tf.oneHot(tf.tensor1d(data.train.y.subarray(0, 64), 'int32'), 4);
    const grads = async (): Promise<Float32Array> => {
      const dev = toDevice(r.params);
      const vars = Object.entries(dev).filter(([k]) => k.endsWith('.w')).map(([, v]) => v);
      const g = tf.grads((...ws: tf.Tensor[]) => {
        const p = { ...dev };
        Object.keys(dev).filter((k) => k.endsWith('.w')).forEach((k, i) => (p[k] = ws[i]!));
        return tf.losses.softmaxCrossEntropy(y, forward(spec, p, x, { batchStats: true }));
      })(vars);
      const flat = new Float32Array(await tf.concat(g.map((t) => tf.reshape(t, [-1]))).data());
      g.forEach((t) => t.dispose());
      disposeParams(dev);
      return flat;
    };
    const here = await grads();
    await selectBackend('cpu');
    const ref = await grads();
    await selectBackend(backend);
    let m = 0;
    let s = 0;
    here.forEach((v, i) => {
      m = Math.max(m, Math.abs(v - ref[i]!));
      s = Math.max(s, Math.abs(ref[i]!));
    });
    expect(m).toBeLessThan(1e-4 * Math.max(1, s));
  });
});

describe('BN recomputation and REPAIR along a path', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  });

  it('recomputing BN statistics at the midpoint between a trained BN net and a permuted copy lowers its loss', async () => {
    const spec = bnMlp(true);
    const A = (await train(spec, data, { optimizer: sgd, schedule: { type: 'cosine', minLr: 0 }, batchSize: 32, epochs: 8 }, { seed: 3 })).params;
    const B = applyPermutation(spec, A, randomPermutation(spec, new Rng(9)));
    const split = new DeviceSplit(data.train, 16, 400);
    const xs = split.batches.map((b) => b.x);
    const mid = lerpParams(A, B, 0.5); // statistics interpolated like every other tensor
    const interpolated = await evaluateHost(spec, mid, split);
    const recomputed = await evaluateHost(spec, await recomputeBatchNorm(spec, mid, xs), split);
    const endpoint = await evaluateHost(spec, A, split);
    expect(recomputed.loss).toBeLessThan(interpolated.loss);
    expect(recomputed.loss).toBeGreaterThanOrEqual(endpoint.loss - 1e-6);
    split.dispose();
  });

  it('REPAIR gives each unit of an interpolated network the interpolated mean and standard deviation', async () => {
    const spec = resolveArchitecture({ type: 'mlp', hidden: [20, 16], bias: true, dropout: 0 }, [4, 4, 1], 4);
    const A = (await train(spec, data, { optimizer: sgd, schedule: { type: 'constant' }, batchSize: 32, epochs: 3 }, { seed: 4 })).params;
    const B = (await train(spec, data, { optimizer: sgd, schedule: { type: 'constant' }, batchSize: 32, epochs: 3 }, { seed: 5 })).params;
    const xs = [tf.tensor2d(data.train.x.subarray(0, 400 * 16), [400, 16])];
    const ends: [Awaited<ReturnType<typeof preActivationStats>>, Awaited<ReturnType<typeof preActivationStats>>] = [
      await preActivationStats(spec, A, xs),
      await preActivationStats(spec, B, xs),
    ];
    const t = 0.3;
    const fixed = await repair(spec, lerpParams(A, B, t), t, ends, xs);
    const got = await preActivationStats(spec, fixed, xs);
    got.forEach((layer, k) => {
      layer.mean.forEach((m, j) => {
        const [a, b] = [ends[0][k]!, ends[1][k]!];
        const sd = Math.sqrt(layer.var[j]!);
        const target = (1 - t) * Math.sqrt(a.var[j]!) + t * Math.sqrt(b.var[j]!);
        if (target < 1e-6) return;
        expect(m).toBeCloseTo((1 - t) * a.mean[j]! + t * b.mean[j]!, 3);
        expect(Math.abs(sd - target)).toBeLessThan(1e-3 * Math.max(1, target));
      });
    });
    xs.forEach((x) => x.dispose());
  });
});
