/**
 * The ONNX training step: gradients of MLPs and CNNs (strides, 'same'/'valid', max-pool) against float64 finite
 * differences (test/engine/reference.ts), and a few steps of SGD with momentum and weight decay, Nesterov SGD, plain
 * SGD and Adam, with unit-wise and channel-wise dropout and BatchNorm in training mode, against the engine's tfjs
 * training step (forward, tf.variableGrads, train/optimizers.ts) on the same batches, learning rates and dropout
 * draws: loss curves and weights equal within float32 tolerance.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src-main/engine/backend/backends';
import { forward } from '../../src-main/engine/nn/forward';
import type { HostParams } from '../../src-main/engine/nn/params';
import { type ArchSpec, isBatchNormStat, layerHasBatchNorm } from '../../src-main/engine/nn/spec';
import { OnnxTrainer, drawDropoutMasks } from '../../src-main/engine/onnx/trainer';
import { crossEntropy } from '../../src-main/engine/train/loss';
import { type OptimizerConfig, createOptimizer } from '../../src-main/engine/train/optimizers';
import { Rng } from '../../src-main/engine/util/rng';
import { crossEntropyRef, fdGrads, forwardRef } from '../engine/reference';
import { batch, cnn, maxAbs, mlp, randomParams, trainableCnns } from './helpers';

beforeAll(async () => {
  await selectBackend('cpu');
});

function norm(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * a[i]!;
  return Math.sqrt(s);
}

const gradientCases = [true, false].flatMap((bias) => [
  { name: `MLP, bias ${bias}`, spec: mlp(bias) },
  ...trainableCnns(bias).map((c) => ({ name: `${c.name}, bias ${bias}`, spec: c.spec })),
]);

describe.each(gradientCases)('gradients of $name', ({ spec }) => {
  it('match float64 finite differences, and the loss matches the reference', async () => {
    const p = randomParams(spec, 11);
    const { x, y } = batch(spec, 4, 12);
    const fd = fdGrads(spec, p, x, y);
    const trainer = await OnnxTrainer.create(spec, p, { type: 'sgd', lr: 0, momentum: 0, nesterov: false, weightDecay: 0 });
    const r = await trainer.step(x, y, 0, {}, true);
    expect(Math.abs(r.loss - crossEntropyRef(forwardRef(spec, p, x, 4).logits, y))).toBeLessThan(1e-5);
    for (const k of Object.keys(p)) {
      const g = r.grads![k]!.data;
      expect(norm(fd[k]!), k).toBeGreaterThan(1e-3);
      expect(maxAbs(g, fd[k]!), k).toBeLessThan(2e-4 * Math.max(1, norm(fd[k]!)));
    }
  });
});

/** `steps` steps of the engine's tfjs training (as train/loop.ts does one: BatchNorm statistics are constants, batch
 *  statistics in the forward pass) on the given batches; losses and weights. With `gradientsOnly`, the first step's
 *  gradients instead of an update. */
async function tfjsSteps(spec: ArchSpec, init: HostParams, cfg: OptimizerConfig, batches: { x: Float32Array; y: Int32Array }[], lrs: number[], dropSeed: number): Promise<{ losses: number[]; params: Record<string, Float32Array>; firstGrads: Record<string, Float32Array> }> {
  const names = Object.keys(init).filter((k) => !isBatchNormStat(k));
  const vars = names.map((k) => {
    const t = tf.tensor(init[k]!.data, init[k]!.shape);
    const v = tf.variable(t, true, `onnx-test-${++varCount}-${k}`);
    t.dispose();
    return v;
  });
  const stats = Object.keys(init).filter(isBatchNormStat);
  const params: Record<string, tf.Tensor> = {
    ...Object.fromEntries(stats.map((k) => [k, tf.tensor(init[k]!.data, init[k]!.shape)])),
    ...Object.fromEntries(names.map((k, i) => [k, vars[i]!])),
  };
  const opt = createOptimizer(cfg, vars);
  const rng = new Rng(dropSeed);
  const losses: number[] = [];
  const firstGrads: Record<string, Float32Array> = {};
  batches.forEach(({ x, y }, s) => {
    const xt = tf.tensor2d(x, [y.length, x.length / y.length]);
    const yt = tf.tensor1d(y, 'int32');
    const { value, grads } = tf.variableGrads(() => crossEntropy(forward(spec, params, xt, { dropoutRng: rng, batchStats: true }), yt), vars);
    if (s === 0) names.forEach((k, i) => (firstGrads[k] = grads[vars[i]!.name]!.dataSync() as Float32Array));
    opt.step(vars, vars.map((v) => grads[v.name]!), lrs[s]!);
    losses.push(value.dataSync()[0]!);
    [value, xt, yt, ...Object.values(grads)].forEach((t) => t.dispose());
  });
  const out = Object.fromEntries(Object.keys(params).map((k) => [k, params[k]!.dataSync() as Float32Array]));
  opt.dispose();
  Object.values(params).forEach((v) => v.dispose());
  return { losses, params: out, firstGrads };
}

let varCount = 0;

function isBiasBeforeBatchNorm(spec: ArchSpec, name: string): boolean {
  const m = /^A(\d+)\.b$/.exec(name);
  return m !== null && layerHasBatchNorm(spec, Number(m[1]));
}

const optimizers: { name: string; cfg: OptimizerConfig }[] = [
  { name: 'SGD, momentum and weight decay', cfg: { type: 'sgd', lr: 0.1, momentum: 0.9, nesterov: false, weightDecay: 5e-4 } },
  { name: 'Nesterov SGD', cfg: { type: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0 } },
  { name: 'plain SGD', cfg: { type: 'sgd', lr: 0.2, momentum: 0, nesterov: false, weightDecay: 1e-3 } },
  { name: 'Adam with weight decay', cfg: { type: 'adam', lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 1e-4 } },
];

/** BatchNorm in training mode: a CNN with conv and dense BatchNorm and max-pool, and an MLP with BatchNorm and dropout. */
const bnMlp: ArchSpec = { ...mlp(true, 0.25), layers: mlp(true, 0.25).layers.map((l, k) => (k < 2 ? { ...l, batchNorm: true } : l)) };
const bnCases = [
  { name: 'CNN with BatchNorm (conv and dense) and max-pool', spec: cnn },
  { name: 'MLP with BatchNorm and dropout', spec: bnMlp },
];

describe.each(bnCases)('BatchNorm in training mode: $name', ({ spec }) => {
  it('gradients equal tfjs autodiff of the engine forward with batch statistics (same dropout draws)', async () => {
    const p = randomParams(spec, 31);
    const b = batch(spec, 6, 32);
    const sgd: OptimizerConfig = { type: 'sgd', lr: 0, momentum: 0, nesterov: false, weightDecay: 0 };
    const want = await tfjsSteps(spec, p, sgd, [b], [0], 9);
    const trainer = await OnnxTrainer.create(spec, p, sgd);
    const r = await trainer.step(b.x, b.y, 0, drawDropoutMasks(spec, 6, new Rng(9)), true);
    expect(Math.abs(r.loss - want.losses[0]!)).toBeLessThan(1e-5 * Math.max(1, want.losses[0]!));
    for (const [k, g] of Object.entries(want.firstGrads)) {
      // A bias followed by BatchNorm has no effect on the output: its gradient is zero up to rounding.
      if (!isBiasBeforeBatchNorm(spec, k)) expect(norm(g), k).toBeGreaterThan(1e-4);
      expect(maxAbs(r.grads![k]!.data, g), k).toBeLessThan(1e-5 * Math.max(1, norm(g)));
    }
    // The statistics are carried through unchanged.
    expect(trainer.params()['A1.bn.var']!.data).toEqual(p['A1.bn.var']!.data);
  });
});

const curveCases = [
  ...optimizers.map((o) => ({ name: `MLP, ${o.name}, unit-wise dropout`, cfg: o.cfg, spec: mlp(true, 0.25) })),
  ...trainableCnns(true, 0.25).map((c, k) => ({ name: `${c.name}, ${optimizers[k]!.name}, channel-wise dropout`, cfg: optimizers[k]!.cfg, spec: c.spec })),
  // SGD for the CNN: its biases before BatchNorm have a zero gradient, and Adam's normalised step would turn the
  // rounding noise of that zero (1e−8) into lr-sized moves that differ between any two implementations.
  { name: `${bnCases[0]!.name}, ${optimizers[0]!.name}`, cfg: optimizers[0]!.cfg, spec: bnCases[0]!.spec },
  { name: `${bnCases[1]!.name}, ${optimizers[3]!.name}`, cfg: optimizers[3]!.cfg, spec: bnCases[1]!.spec },
];

describe.each(curveCases)('training steps: $name', ({ cfg, spec }) => {
  it('give the tfjs loss curve and weights on the same batches, learning rates and dropout draws', async () => {
    const init = randomParams(spec, 21);
    // The last batch is smaller (an epoch's remainder): a second compiled step.
    const batches = [8, 8, 8, 8, 5].map((n, s) => batch(spec, n, 100 + s));
    const lrs = batches.map((_, s) => cfg.lr * (1 - s / 10));
    const want = await tfjsSteps(spec, init, cfg, batches, lrs, 7);
    const trainer = await OnnxTrainer.create(spec, init, cfg);
    const rng = new Rng(7);
    const losses: number[] = [];
    for (const [s, b] of batches.entries()) losses.push((await trainer.step(b.x, b.y, lrs[s]!, drawDropoutMasks(spec, b.y.length, rng))).loss);
    // Training moves: the curve is not flat and the weights leave their start (else equality would be vacuous).
    expect(maxAbs(want.losses.slice(1), want.losses.slice(0, -1))).toBeGreaterThan(1e-3);
    for (let s = 0; s < losses.length; s++) expect(Math.abs(losses[s]! - want.losses[s]!), `step ${s}`).toBeLessThan(1e-5 * Math.max(1, want.losses[s]!));
    const got = trainer.params();
    for (const k of Object.keys(init)) {
      // Training moves every trained weight (a bias before BatchNorm only through weight decay); statistics stay.
      if (isBatchNormStat(k)) expect(got[k]!.data, k).toEqual(init[k]!.data);
      else if (!isBiasBeforeBatchNorm(spec, k)) expect(maxAbs(want.params[k]!, init[k]!.data), k).toBeGreaterThan(1e-4);
      expect(maxAbs(got[k]!.data, want.params[k]!), k).toBeLessThan(2e-5);
    }
  });
});
