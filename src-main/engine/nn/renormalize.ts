/**
 * Statistics of hidden pre-activations over a set of training samples, and the two renormalisations built on them:
 * - `recomputeBatchNorm`: sets every BN layer's mean and variance to the exact population statistics of its input
 *   (Garipov et al.'s `update_bn`, done layer by layer so that layer i+1 sees layer i normalised with its final
 *   statistics, not with batch statistics as PyTorch's pass does);
 * - `repair` (Jordan et al. 2022, REPAIR): rescales every hidden unit's pre-activation of an interpolated network so
 *   that its mean and standard deviation equal (1−t)·stats(θ_0) + t·stats(θ_1), the endpoints' statistics. For a
 *   network without BN this rewrites the unit's row and bias (W ← W·σ/s, b ← (b − m)·σ/s + µ; it needs biases); for a
 *   BN network REPAIR is the BN recomputation (the BN layer already re-centres and re-scales).
 * Statistics are per unit (dense) or per channel over batch and space (conv, before max-pooling); variances are the
 * population ones (divided by the count). The walk keeps one layer's activations of the sample set on the device.
 */
import * as tf from '@tensorflow/tfjs-core';
import { type Dataset, featureCount, subset } from '../data/dataset';
import { InputError } from '../util/errors';
import { applyBatchNorm, bnNames } from './batchnorm';
import { conv2d } from './conv';
import { dense } from './dense';
import { networkInput } from './forward';
import { type DeviceParams, type HostParams, disposeParams } from './params';
import { type ArchSpec, hasBatchNorm, layerHasBatchNorm } from './spec';

export interface UnitStats {
  mean: Float64Array;
  var: Float64Array;
}

function layerParams(spec: ArchSpec, i: number, p: HostParams): DeviceParams {
  const names = [`A${i}.w`, ...(spec.layers[i - 1]!.bias ? [`A${i}.b`] : []), ...(layerHasBatchNorm(spec, i) ? Object.values(bnNames(i)) : [])];
  return Object.fromEntries(names.map((n) => [n, tf.tensor(p[n]!.data, p[n]!.shape, 'float32')]));
}

/** Pre-activation of hidden layer i (affine map, before BN) from its input. */
function pre(spec: ArchSpec, i: number, dev: DeviceParams, a: tf.Tensor): tf.Tensor {
  const layer = spec.layers[i - 1]!;
  const b = layer.bias ? dev[`A${i}.b`] : undefined;
  if (layer.type === 'dense') {
    const a2 = a.rank === 2 ? (a as tf.Tensor2D) : (tf.reshape(a, [a.shape[0]!, -1]) as tf.Tensor2D);
    return dense(a2, dev[`A${i}.w`] as tf.Tensor2D, b, false);
  }
  const y = conv2d(a as tf.Tensor4D, dev[`A${i}.w`] as tf.Tensor4D, layer.stride, layer.padding);
  return b ? tf.add(y, b) : y;
}

/** Output of hidden layer i from its pre-activation: BN (stored statistics), ReLU, max-pool. */
function post(spec: ArchSpec, i: number, dev: DeviceParams, y: tf.Tensor): tf.Tensor {
  const layer = spec.layers[i - 1]!;
  let z = layerHasBatchNorm(spec, i) ? applyBatchNorm(y, dev, i, false) : y;
  z = tf.relu(z);
  if (layer.type === 'conv' && layer.pool) z = tf.maxPool(z as tf.Tensor4D, layer.pool.size, layer.pool.stride, 'valid');
  return z;
}

async function statsOf(ys: tf.Tensor[]): Promise<UnitStats> {
  const axes = ys[0]!.rank === 4 ? [0, 1, 2] : [0];
  const count = ys.reduce((n, y) => n + y.size / y.shape[y.rank - 1]!, 0);
  const sum = tf.tidy(() => ys.map((y) => tf.sum(y, axes)).reduce((a, b) => tf.add(a, b)));
  const meanT = tf.div(sum, count);
  const sq = tf.tidy(() => ys.map((y) => tf.sum(tf.square(tf.sub(y, meanT)), axes)).reduce((a, b) => tf.add(a, b)));
  const [m, s] = await Promise.all([meanT.data(), sq.data()]);
  [sum, meanT, sq].forEach((t) => t.dispose());
  return { mean: Float64Array.from(m), var: Float64Array.from(s, (v) => v / count) };
}

/**
 * Walks the hidden layers bottom-up over the sample batches `xs` ([n, features] each). At layer i it measures the
 * pre-activation statistics, calls `update(i, stats)`, which may return replacement tensors for layer i (they feed
 * layer i+1 and end up in the returned parameters), and moves on. Returns the (copy-on-write) updated parameters.
 */
export async function walkHiddenLayers(
  spec: ArchSpec,
  theta: HostParams,
  xs: tf.Tensor2D[],
  update: (i: number, stats: UnitStats, params: HostParams) => HostParams | void,
): Promise<HostParams> {
  const out: HostParams = { ...theta };
  let acts: tf.Tensor[] = xs.map((x) => tf.tidy(() => tf.clone(networkInput(spec, x))));
  try {
    for (let i = 1; i < spec.layers.length; i++) {
      let dev = layerParams(spec, i, out);
      let ys = acts.map((a) => tf.tidy(() => pre(spec, i, dev, a)));
      const stats = await statsOf(ys);
      const repl = update(i, stats, out);
      if (repl && Object.keys(repl).length) {
        Object.assign(out, repl);
        disposeParams(dev);
        dev = layerParams(spec, i, out);
        if (Object.keys(repl).some((k) => k === `A${i}.w` || k === `A${i}.b`)) {
          ys.forEach((y) => y.dispose());
          ys = acts.map((a) => tf.tidy(() => pre(spec, i, dev, a)));
        }
      }
      acts.forEach((a) => a.dispose());
      acts = ys.map((y) => tf.tidy(() => post(spec, i, dev, y)));
      ys.forEach((y) => y.dispose());
      disposeParams(dev);
    }
  } finally {
    acts.forEach((a) => a.dispose());
  }
  return out;
}

/** Every hidden layer's pre-activation statistics (before BN) of a network on the samples. */
export async function preActivationStats(spec: ArchSpec, theta: HostParams, xs: tf.Tensor2D[]): Promise<UnitStats[]> {
  const stats: UnitStats[] = [];
  await walkHiddenLayers(spec, theta, xs, (_i, s) => void stats.push(s));
  return stats;
}

/** θ with every BN layer's statistics set to the population statistics of its input on the samples. */
export async function recomputeBatchNorm(spec: ArchSpec, theta: HostParams, xs: tf.Tensor2D[]): Promise<HostParams> {
  if (!hasBatchNorm(spec)) return theta;
  return walkHiddenLayers(spec, theta, xs, (i, s) => {
    if (!layerHasBatchNorm(spec, i)) return;
    const n = bnNames(i);
    return {
      [n.mean]: { shape: [s.mean.length], data: Float32Array.from(s.mean) },
      [n.var]: { shape: [s.var.length], data: Float32Array.from(s.var) },
    };
  });
}

/** Training samples used to set BN statistics after training (a random subset, drawn by seed). */
export const TRAINING_BN_SAMPLES = 10000;

/** Sample rows of a split as device batches ([n, features] each); the caller disposes them. */
export function sampleBatches(x: Float32Array, n: number, features: number, batchSize = 1000): tf.Tensor2D[] {
  const out: tf.Tensor2D[] = [];
  for (let s = 0; s < n; s += batchSize) {
    const e = Math.min(n, s + batchSize);
    out.push(tf.tensor2d(x.subarray(s * features, e * features), [e - s, features]));
  }
  return out;
}

/** After training: θ with BN statistics from up to TRAINING_BN_SAMPLES random training samples (θ itself without BN). */
export async function batchNormStatsOnTraining(spec: ArchSpec, theta: HostParams, data: Dataset, seed: number): Promise<HostParams> {
  if (!hasBatchNorm(spec)) return theta;
  const f = featureCount(data);
  const s = subset(data.train, TRAINING_BN_SAMPLES, seed, f);
  const xs = sampleBatches(s.x, s.n, f);
  try {
    return await recomputeBatchNorm(spec, theta, xs);
  } finally {
    xs.forEach((x) => x.dispose());
  }
}

/**
 * REPAIR at path parameter t: each hidden unit's pre-activation statistics become (1−t)·ends[0] + t·ends[1] (means and
 * standard deviations interpolated). `ends` are `preActivationStats` of the two endpoints. A BN network is recomputed
 * instead (the same thing for BN). Units whose measured standard deviation is ~0 (dead) are left alone.
 */
export async function repair(spec: ArchSpec, theta: HostParams, t: number, ends: [UnitStats[], UnitStats[]], xs: tf.Tensor2D[]): Promise<HostParams> {
  if (hasBatchNorm(spec)) return recomputeBatchNorm(spec, theta, xs);
  const missing = spec.layers.findIndex((l, k) => k < spec.layers.length - 1 && !l.bias);
  if (missing >= 0) throw new InputError(`REPAIR needs a bias in every hidden layer (layer ${missing + 1} has none): use "bias": true or BatchNorm`);
  return walkHiddenLayers(spec, theta, xs, (i, s, cur) => {
    const [a, b] = [ends[0][i - 1]!, ends[1][i - 1]!];
    const w = cur[`A${i}.w`]!;
    const bias = cur[`A${i}.b`]!;
    const units = bias.data.length;
    const k = new Float64Array(units);
    const shift = new Float64Array(units);
    for (let j = 0; j < units; j++) {
      const sd = Math.sqrt(s.var[j]!);
      const target = (1 - t) * Math.sqrt(a.var[j]!) + t * Math.sqrt(b.var[j]!);
      const mu = (1 - t) * a.mean[j]! + t * b.mean[j]!;
      if (sd < 1e-8 || !Number.isFinite(target)) {
        k[j] = 1;
        shift[j] = bias.data[j]!;
        continue;
      }
      k[j] = target / sd;
      shift[j] = (bias.data[j]! - s.mean[j]!) * k[j]! + mu;
    }
    const wd = new Float32Array(w.data.length);
    for (let e = 0; e < wd.length; e++) wd[e] = Math.fround(w.data[e]! * k[e % units]!);
    return { [`A${i}.w`]: { shape: [...w.shape], data: wd }, [`A${i}.b`]: { shape: [units], data: Float32Array.from(shift) } };
  });
}
