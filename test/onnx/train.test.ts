/**
 * The ONNX training step: gradients of MLPs and CNNs (strides, 'same'/'valid', max-pool) against float64 finite
 * differences (test/engine/reference.ts), and a few steps of SGD with momentum and weight decay, Nesterov SGD, plain
 * SGD and Adam, with unit-wise and channel-wise dropout, against the engine's tfjs training step (forward, tf.variableGrads, train/optimizers.ts) on the same batches, learning rates and dropout
 * draws: loss curves and weights equal within float32 tolerance.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src-main/engine/backend/backends';
import { forward } from '../../src-main/engine/nn/forward';
import type { HostParams } from '../../src-main/engine/nn/params';
import type { ArchSpec } from '../../src-main/engine/nn/spec';
import { OnnxTrainer, drawDropoutMasks } from '../../src-main/engine/onnx/trainer';
import { crossEntropy } from '../../src-main/engine/train/loss';
import { type OptimizerConfig, createOptimizer } from '../../src-main/engine/train/optimizers';
import { InputError } from '../../src-main/engine/util/errors';
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

/** `steps` steps of the engine's tfjs training (as train/loop.ts does one) on the given batches; losses and weights. */
async function tfjsSteps(spec: ArchSpec, init: HostParams, cfg: OptimizerConfig, batches: { x: Float32Array; y: Int32Array }[], lrs: number[], dropSeed: number): Promise<{ losses: number[]; params: Record<string, Float32Array> }> {
  const names = Object.keys(init);
  const vars = names.map((k) => {
    const t = tf.tensor(init[k]!.data, init[k]!.shape);
    const v = tf.variable(t, true, `onnx-test-${Math.random()}-${k}`);
    t.dispose();
    return v;
  });
  const params = Object.fromEntries(names.map((k, i) => [k, vars[i]!]));
  const opt = createOptimizer(cfg, vars);
  const rng = new Rng(dropSeed);
  const losses: number[] = [];
  batches.forEach(({ x, y }, s) => {
    const xt = tf.tensor2d(x, [y.length, x.length / y.length]);
    const yt = tf.tensor1d(y, 'int32');
    const { value, grads } = tf.variableGrads(() => crossEntropy(forward(spec, params, xt, { dropoutRng: rng, batchStats: true }), yt), vars);
    opt.step(vars, vars.map((v) => grads[v.name]!), lrs[s]!);
    losses.push(value.dataSync()[0]!);
    [value, xt, yt, ...Object.values(grads)].forEach((t) => t.dispose());
  });
  const out = Object.fromEntries(names.map((k, i) => [k, vars[i]!.dataSync() as Float32Array]));
  opt.dispose();
  vars.forEach((v) => v.dispose());
  return { losses, params: out };
}

const optimizers: { name: string; cfg: OptimizerConfig }[] = [
  { name: 'SGD, momentum and weight decay', cfg: { type: 'sgd', lr: 0.1, momentum: 0.9, nesterov: false, weightDecay: 5e-4 } },
  { name: 'Nesterov SGD', cfg: { type: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0 } },
  { name: 'plain SGD', cfg: { type: 'sgd', lr: 0.2, momentum: 0, nesterov: false, weightDecay: 1e-3 } },
  { name: 'Adam with weight decay', cfg: { type: 'adam', lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 1e-4 } },
];

const curveCases = [
  ...optimizers.map((o) => ({ name: `MLP, ${o.name}, unit-wise dropout`, cfg: o.cfg, spec: mlp(true, 0.25) })),
  ...trainableCnns(true, 0.25).map((c, k) => ({ name: `${c.name}, ${optimizers[k]!.name}, channel-wise dropout`, cfg: optimizers[k]!.cfg, spec: c.spec })),
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
      expect(maxAbs(want.params[k]!, init[k]!.data), k).toBeGreaterThan(1e-4);
      expect(maxAbs(got[k]!.data, want.params[k]!), k).toBeLessThan(2e-5);
    }
  });
});

describe('what the ONNX trainer does not do yet', () => {
  it('refuses BatchNorm networks (training mode) with a one-line InputError', async () => {
    const bn: ArchSpec = { ...mlp(true), layers: mlp(true).layers.map((l, k) => (k === 0 ? { ...l, batchNorm: true } : l)) };
    for (const spec of [cnn, bn]) {
      const err = await OnnxTrainer.create(spec, randomParams(spec, 1), optimizers[0]!.cfg).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InputError);
      expect((err as Error).message).toBe('training with BatchNorm on ONNX Runtime is not implemented yet');
    }
  });
});
