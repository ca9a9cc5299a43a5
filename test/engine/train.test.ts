/**
 * The training loop (train/loop.ts), optimisers (train/optimizers.ts) and learning-rate schedules (train/schedule.ts):
 * loss goes down on synthetic data, runs are bit-reproducible per seed, cancellation stops within one step, checkpoints
 * come at the right epochs with the right weights, and the update and schedule formulas match their documentation.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src-main/engine/backend/backends';
import type { Dataset } from '../../src-main/engine/data/dataset';
import { featureCount } from '../../src-main/engine/data/dataset';
import { gaussianMixture, spirals } from '../../src-main/engine/data/synthetic';
import { DeviceSplit, type Metrics, evaluate } from '../../src-main/engine/eval/evaluate';
import { type HostParams, cloneParams, disposeParams, initParams, maxAbsDiff, paramsEqual, toDevice } from '../../src-main/engine/nn/params';
import type { ArchSpec } from '../../src-main/engine/nn/spec';
import { type OptimizerConfig, createOptimizer } from '../../src-main/engine/train/optimizers';
import { learningRate } from '../../src-main/engine/train/schedule';
import { type CurvePoint, type TrainConfig, totalSteps, train } from '../../src-main/engine/train/loop';
import { CancelledError } from '../../src-main/engine/util/errors';

const mixture = (): Dataset =>
  gaussianMixture({ classes: 4, dim: 8, train: 512, test: 256, separation: 4, noise: 1, clustersPerClass: 2, seed: 3 });

const mlp = (input: [number, number, number], hidden: number[], classes: number, bias: boolean, dropout = 0): ArchSpec => ({
  input,
  layers: [...hidden.map((units) => ({ type: 'dense' as const, units, bias, dropout })), { type: 'dense' as const, units: classes, bias, dropout: 0 }],
});

const sgd = (lr: number, extra: Partial<Extract<OptimizerConfig, { type: 'sgd' }>> = {}): OptimizerConfig => ({
  type: 'sgd',
  lr,
  momentum: 0,
  nesterov: false,
  weightDecay: 0,
  ...extra,
});
const adam = (lr: number, weightDecay = 0): OptimizerConfig => ({ type: 'adam', lr, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay });

function cfg(optimizer: OptimizerConfig, more: Partial<TrainConfig> = {}): TrainConfig {
  return { optimizer, schedule: { type: 'constant' }, batchSize: 32, steps: 100, ...more };
}

async function metrics(spec: ArchSpec, p: HostParams, d: Dataset): Promise<Metrics> {
  const split = new DeviceSplit(d.train, featureCount(d), 256);
  const dev = toDevice(p);
  try {
    return await evaluate(spec, dev, split);
  } finally {
    disposeParams(dev);
    split.dispose();
  }
}

describe('training on wasm', () => {
  const data = mixture();
  const spec = mlp(data.inputShape, [32], 4, true);
  const init = initParams(spec, 123);

  beforeAll(async () => {
    await selectBackend('wasm');
  });

  it('lowers the loss on a Gaussian mixture substantially', async () => {
    const before = await metrics(spec, init, data);
    const curve: CurvePoint[] = [];
    const r = await train(spec, data, cfg(sgd(0.1, { momentum: 0.9 }), { steps: 200 }), { seed: 1, init, onCurvePoint: (p) => curve.push(p) });
    const after = await metrics(spec, r.params, data);
    expect(before.loss).toBeGreaterThan(0.8);
    expect(after.loss).toBeLessThan(0.25 * before.loss);
    expect(after.acc).toBeGreaterThan(0.9);
    expect(r.steps).toBe(200);
    expect(r.samples).toBe(200 * 32);
    // The logged minibatch losses go down too, and the curve reports what was asked (100 points by default).
    expect(curve.length).toBe(100);
    expect(r.curve).toEqual(curve);
    expect(curve.at(-1)!.loss).toBeLessThan(0.5 * curve[0]!.loss);
    expect(curve.map((p) => p.step)).toEqual(Array.from({ length: 100 }, (_, k) => 2 * (k + 1)));
    // The initial weights given were not modified in place.
    expect(paramsEqual(init, initParams(spec, 123))).toBe(true);
  });

  it('learns two interleaved spirals (a non-linear problem)', async () => {
    const d = spirals({ train: 600, test: 200, arms: 2, turns: 1, noise: 0.03, seed: 4 });
    const s = mlp(d.inputShape, [48, 48], 2, true);
    const p0 = initParams(s, 9);
    const before = await metrics(s, p0, d);
    const r = await train(s, d, cfg(adam(0.01), { steps: 500, batchSize: 64 }), { seed: 2, init: p0 });
    const after = await metrics(s, r.params, d);
    expect(after.loss).toBeLessThan(0.4 * before.loss);
    expect(after.acc).toBeGreaterThan(0.9);
  });

  it.each([
    ['plain SGD', sgd(0.2)],
    ['SGD + momentum', sgd(0.05, { momentum: 0.9 })],
    ['SGD + Nesterov momentum', sgd(0.05, { momentum: 0.9, nesterov: true })],
    ['SGD + momentum + weight decay', sgd(0.05, { momentum: 0.9, weightDecay: 5e-4 })],
    ['Adam', adam(0.01)],
    ['Adam + L2 weight decay', adam(0.01, 1e-3)],
  ] as const)('%s reduces the loss', async (_name, opt) => {
    const before = await metrics(spec, init, data);
    const r = await train(spec, data, cfg(opt, { steps: 80 }), { seed: 5, init });
    const after = await metrics(spec, r.params, data);
    expect(after.loss).toBeLessThan(0.5 * before.loss);
  });

  it('cancellation from onProgress stops with CancelledError within one step, leaking nothing', async () => {
    const ctl = new AbortController();
    const steps: number[] = [];
    const before = tf.memory().numTensors;
    const run = train(spec, data, cfg(sgd(0.05), { steps: 50 }), {
      seed: 1,
      logPoints: 50, // a progress event after every step
      signal: ctl.signal,
      onCurvePoint: (p) => steps.push(p.step),
      onProgress: (e) => {
        if (e.done === 7) ctl.abort();
      },
    });
    await expect(run).rejects.toBeInstanceOf(CancelledError);
    // Aborted after step 7: at most one more step may run.
    expect(steps.at(-1)).toBeGreaterThanOrEqual(7);
    expect(steps.at(-1)).toBeLessThanOrEqual(8);
    expect(steps).toEqual(Array.from({ length: steps.length }, (_, k) => k + 1));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('an already-aborted signal runs no step at all', async () => {
    const ctl = new AbortController();
    ctl.abort();
    let points = 0;
    await expect(train(spec, data, cfg(sgd(0.05), { steps: 5 }), { seed: 1, signal: ctl.signal, onCurvePoint: () => points++ })).rejects.toBeInstanceOf(
      CancelledError,
    );
    expect(points).toBe(0);
  });

  it('checkpoints come every checkpointEvery epochs with the weights of that moment', async () => {
    // 512 samples, batch 64 → 8 steps per epoch; 3 epochs → 24 steps.
    const c = cfg(sgd(0.05, { momentum: 0.9 }), { steps: undefined, epochs: 3, batchSize: 64, checkpointEvery: 1 });
    expect(totalSteps(c, 512)).toEqual({ total: 24, perEpoch: 8 });
    const cps: { epoch: number; params: HostParams }[] = [];
    const r = await train(spec, data, c, { seed: 8, init, onCheckpoint: (params, epoch) => void cps.push({ epoch, params: cloneParams(params) }) });
    expect(cps.length).toBeGreaterThanOrEqual(2);
    const epochs = cps.map((x) => x.epoch);
    expect(epochs.slice(0, 2)).toEqual([1, 2]);
    for (const e of epochs) {
      expect(Number.isInteger(e)).toBe(true);
      expect(e).toBeGreaterThan(0);
      expect(e).toBeLessThanOrEqual(3);
    }
    expect([...epochs].sort((a, b) => a - b)).toEqual(epochs);
    // The epoch-1 checkpoint is what a 1-epoch run with the same seed ends with (constant schedule, same data order).
    const one = await train(spec, data, { ...c, epochs: 1, checkpointEvery: undefined }, { seed: 8, init });
    expect(paramsEqual(cps[0]!.params, one.params)).toBe(true);
    // Checkpoints differ from each other, from the start and (when before the end) from the final weights.
    expect(maxAbsDiff(cps[0]!.params, init)).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(cps[1]!.params, cps[0]!.params)).toBeGreaterThan(1e-4);
    expect(maxAbsDiff(r.params, cps[1]!.params)).toBeGreaterThan(1e-4);
    // Fractional intervals: every half epoch.
    const half: number[] = [];
    await train(spec, data, { ...c, epochs: 2, checkpointEvery: 0.5 }, { seed: 8, init, onCheckpoint: (_p, e) => void half.push(e) });
    expect(half.slice(0, 3)).toEqual([0.5, 1, 1.5]);
    expect(half.every((e) => e <= 2)).toBe(true);
  });
});

describe.each(['cpu', 'wasm'] as const)('reproducibility on %s', (backend) => {
  // Image-shaped samples so that augmentation (flip, crop) draws random numbers too; dropout as well.
  const base = gaussianMixture({ classes: 3, dim: 12, train: 300, test: 60, separation: 3, noise: 1, clustersPerClass: 1, seed: 11 });
  const data: Dataset = { ...base, inputShape: [3, 4, 1] };
  const spec = mlp(data.inputShape, [16, 16], 3, true, 0.2);
  const c = cfg(sgd(0.05, { momentum: 0.9, nesterov: true, weightDecay: 1e-4 }), {
    steps: 30,
    batchSize: 50,
    augment: { flip: true, crop: 1 },
    schedule: { type: 'cosine', minLr: 0 },
  });

  beforeAll(async () => {
    await selectBackend(backend);
  });

  it('the same seed gives bit-identical weights and curves; another seed does not', async () => {
    const a = await train(spec, data, c, { seed: 42 });
    const b = await train(spec, data, c, { seed: 42 });
    expect(paramsEqual(a.params, b.params)).toBe(true);
    expect(b.curve).toEqual(a.curve);
    const other = await train(spec, data, c, { seed: 43 });
    expect(paramsEqual(a.params, other.params)).toBe(false);
    expect(maxAbsDiff(a.params, other.params)).toBeGreaterThan(1e-2);
    // With given initial weights, a different seed still changes the data order, dropout and augmentation.
    const init = initParams(spec, 1);
    const x = await train(spec, data, c, { seed: 1, init });
    const y = await train(spec, data, c, { seed: 2, init });
    expect(maxAbsDiff(x.params, y.params)).toBeGreaterThan(1e-4);
  });
});

describe('optimiser updates follow the documented (PyTorch) formulas', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  });

  /** Three updates with fixed gradients; returns the variable after each. */
  function stepThree(opt: OptimizerConfig, theta0: number[], grads: number[][], lrs: number[]): number[][] {
    const init = tf.tensor1d(theta0);
    const v = tf.variable(init, true);
    init.dispose();
    const o = createOptimizer(opt, [v]);
    const out: number[][] = [];
    grads.forEach((g, k) => {
      const gt = tf.tensor1d(g);
      o.step([v], [gt], lrs[k]!);
      gt.dispose();
      out.push(Array.from(v.dataSync()));
    });
    o.dispose();
    v.dispose();
    return out;
  }

  const theta0 = [1, -2, 0.5];
  const grads = [
    [0.5, 1, -1],
    [0.25, -0.5, 2],
    [1, 0, -0.5],
  ];
  const lrs = [0.1, 0.05, 0.2];

  function sgdRef(mu: number, nesterov: boolean, wd: number): number[][] {
    let th = [...theta0];
    let vel = [0, 0, 0];
    return grads.map((g0, k) => {
      const g = g0.map((gi, i) => gi + wd * th[i]!);
      vel = mu > 0 ? vel.map((vi, i) => mu * vi + g[i]!) : g;
      const upd = mu > 0 && nesterov ? g.map((gi, i) => gi + mu * vel[i]!) : vel;
      th = th.map((t, i) => t - lrs[k]! * upd[i]!);
      return th;
    });
  }

  function adamRef(b1: number, b2: number, eps: number, wd: number): number[][] {
    let th = [...theta0];
    let m = [0, 0, 0];
    let s = [0, 0, 0];
    return grads.map((g0, k) => {
      const t = k + 1;
      const g = g0.map((gi, i) => gi + wd * th[i]!);
      m = m.map((mi, i) => b1 * mi + (1 - b1) * g[i]!);
      s = s.map((si, i) => b2 * si + (1 - b2) * g[i]! ** 2);
      th = th.map((x, i) => x - (lrs[k]! * (m[i]! / (1 - b1 ** t))) / (Math.sqrt(s[i]! / (1 - b2 ** t)) + eps));
      return th;
    });
  }

  const close = (a: number[][], b: number[][]): void => {
    a.flat().forEach((v, i) => expect(v).toBeCloseTo(b.flat()[i]!, 5));
  };

  it('plain SGD: θ ← θ − lr·∇', () => {
    // By hand for the first step: 1 − 0.1·0.5 = 0.95, −2 − 0.1 = −2.1, 0.5 + 0.1 = 0.6.
    const r = stepThree(sgd(0), theta0, grads, lrs);
    close([r[0]!], [[0.95, -2.1, 0.6]]);
    close(r, sgdRef(0, false, 0));
  });
  it('SGD with momentum 0.9', () => close(stepThree(sgd(0, { momentum: 0.9 }), theta0, grads, lrs), sgdRef(0.9, false, 0)));
  it('SGD with Nesterov momentum', () => {
    const r = stepThree(sgd(0, { momentum: 0.9, nesterov: true }), theta0, grads, lrs);
    // First step by hand: v = g, update g + 0.9·g = 1.9·g → 1 − 0.1·0.95 = 0.905.
    expect(r[0]![0]).toBeCloseTo(0.905, 6);
    close(r, sgdRef(0.9, true, 0));
  });
  it('SGD with weight decay (added to the gradient)', () => {
    const r = stepThree(sgd(0, { momentum: 0.5, weightDecay: 0.1 }), theta0, grads, lrs);
    // First step by hand: g = 0.5 + 0.1·1 = 0.6 → 1 − 0.06 = 0.94.
    expect(r[0]![0]).toBeCloseTo(0.94, 6);
    close(r, sgdRef(0.5, false, 0.1));
  });
  it('Adam, bias-corrected (first step moves every coordinate by ≈ lr·sign(g))', () => {
    const r = stepThree(adam(0), theta0, grads, lrs);
    close([r[0]!], [[0.9, -2.1, 0.6]]);
    close(r, adamRef(0.9, 0.999, 1e-8, 0));
  });
  it('Adam with L2 weight decay', () => close(stepThree(adam(0, 0.05), theta0, grads, lrs), adamRef(0.9, 0.999, 1e-8, 0.05)));
});

describe('learning-rate schedules', () => {
  const perEpoch = 100;
  const total = 300 * perEpoch;

  it('constant', () => {
    for (const step of [0, 1, 5000, total]) expect(learningRate(0.05, { type: 'constant' }, step, total, perEpoch)).toBe(0.05);
  });

  it('step decay: "halve every 30 epochs"', () => {
    const s = { type: 'step', every: 30, factor: 0.5 } as const;
    const lr = (epoch: number): number => learningRate(0.05, s, Math.round(epoch * perEpoch), total, perEpoch);
    expect(lr(0)).toBe(0.05);
    expect(lr(29.99)).toBe(0.05);
    expect(lr(30)).toBe(0.025);
    expect(lr(59.99)).toBe(0.025);
    expect(lr(60)).toBe(0.0125);
    expect(lr(90)).toBeCloseTo(0.00625, 12);
    expect(lr(299.99)).toBeCloseTo(0.05 / 2 ** 9, 12);
  });

  it('cosine: lr at the start, minLr at the end, the midpoint halfway, a quarter at cos(π/4)', () => {
    const s = { type: 'cosine', minLr: 0.001 } as const;
    expect(learningRate(0.1, s, 0, 1000, 10)).toBeCloseTo(0.1, 12);
    expect(learningRate(0.1, s, 1000, 1000, 10)).toBeCloseTo(0.001, 12);
    expect(learningRate(0.1, s, 500, 1000, 10)).toBeCloseTo((0.1 + 0.001) / 2, 12);
    expect(learningRate(0.1, s, 250, 1000, 10)).toBeCloseTo(0.001 + 0.5 * 0.099 * (1 + Math.SQRT1_2), 12);
    // Monotone non-increasing over the run.
    let prev = Infinity;
    for (let k = 0; k <= 1000; k += 50) {
      const v = learningRate(0.1, s, k, 1000, 10);
      expect(v).toBeLessThanOrEqual(prev);
      prev = v;
    }
  });

  it("inverse-time (Keras' legacy decay): lr / (1 + decay·step)", () => {
    const s = { type: 'inverse-time', decay: 1e-6 } as const;
    expect(learningRate(0.1, s, 0, 5000, 938)).toBe(0.1);
    expect(learningRate(0.1, s, 1_000_000, 5000, 938)).toBeCloseTo(0.05, 12);
    expect(learningRate(0.1, s, 5000, 5000, 938)).toBeCloseTo(0.1 / 1.005, 12);
  });

  it('the loop logs the scheduled lr of the step it logs', async () => {
    await selectBackend('cpu');
    const data = mixture();
    const spec = mlp(data.inputShape, [8], 4, false);
    const c = cfg(sgd(0.1), { steps: 40, batchSize: 64, schedule: { type: 'step', every: 1, factor: 0.5 } });
    // 512 / 64 = 8 steps per epoch; the point logged after step k used the lr of step k−1.
    const r = await train(spec, data, c, { seed: 1, logPoints: 40 });
    for (const p of r.curve) expect(p.lr).toBeCloseTo(0.1 * 0.5 ** Math.floor((p.step - 1) / 8), 12);
    expect(r.curve.map((p) => p.epoch)).toEqual(r.curve.map((p) => p.step / 8));
  });
});
