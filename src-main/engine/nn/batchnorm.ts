/**
 * BatchNorm for hidden layers (spec.ts: `batchNorm: true`, after the affine map, before the ReLU).
 *
 * Parameters of layer i, one value per unit (dense) or channel (conv):
 * - `A{i}.bn.gamma`, `A{i}.bn.beta`: the trained affine part, y = γ·x̂ + β;
 * - `A{i}.bn.mean`, `A{i}.bn.var`: the statistics used in evaluation, x̂ = (x − mean)/√(var + ε).
 *
 * The statistics live with the weights (so checkpoints, exports and path vertices carry them) but they are not
 * coordinates: training never differentiates them, and they are **not tracked during training** (no running averages
 * with a momentum). They are set by an exact pass over training samples (`recomputeBatchNorm`, renormalize.ts): after
 * training, and at every evaluated point of a path (Garipov et al.'s `update_bn`). Along a path the geometry (pointAt)
 * interpolates them like any other tensor; that interpolated value is what "no recomputation" evaluates.
 * Training mode (`batchStats`) normalises each minibatch with its own mean and (biased) variance.
 */
import * as tf from '@tensorflow/tfjs-core';
import { InputError } from '../util/errors';
import type { DeviceParams, HostParams } from './params';
import { type ArchSpec, hasBatchNorm, layerHasBatchNorm } from './spec';

export const BN_EPSILON = 1e-5;

/** The four BatchNorm parameter names of layer i. */
export function bnNames(i: number): { gamma: string; beta: string; mean: string; var: string } {
  return { gamma: `A${i}.bn.gamma`, beta: `A${i}.bn.beta`, mean: `A${i}.bn.mean`, var: `A${i}.bn.var` };
}

/** Normalises pre-activations y ([N, C] or [N, H, W, C]) of layer i with the batch's statistics or the stored ones. */
export function applyBatchNorm(y: tf.Tensor, params: DeviceParams, i: number, batchStats: boolean): tf.Tensor {
  const n = bnNames(i);
  const gamma = params[n.gamma];
  const beta = params[n.beta];
  if (!gamma || !beta) throw new Error(`layer ${i} has BatchNorm but no ${n.gamma}/${n.beta}`);
  return tf.tidy(() => {
    if (batchStats) {
      const axes = y.rank === 4 ? [0, 1, 2] : [0];
      const mean = tf.mean(y, axes);
      const c = tf.sub(y, mean);
      const v = tf.mean(tf.square(c), axes);
      return tf.add(tf.mul(tf.mul(c, tf.rsqrt(tf.add(v, BN_EPSILON))), gamma), beta);
    }
    const mean = params[n.mean];
    const v = params[n.var];
    if (!mean || !v) throw new Error(`layer ${i} has BatchNorm but no ${n.mean}/${n.var}`);
    return tf.add(tf.mul(tf.sub(y, mean), tf.mul(tf.rsqrt(tf.add(v, BN_EPSILON)), gamma)), beta);
  });
}

/** Throws a clear error for constructions that do not support BatchNorm (the paper's theory). */
export function assertNoBatchNorm(spec: ArchSpec, what: string): void {
  if (hasBatchNorm(spec)) {
    throw new InputError(
      `${what} does not support BatchNorm: a BN unit with a zero row still outputs β, so dropping, copying and rescaling units changes the function. Fold BatchNorm into the weights first (foldBatchNorm in engine/nn/batchnorm.ts; recipe: "foldBatchNorm": true on the path)`,
    );
  }
}

/**
 * Folds every BatchNorm layer into its affine map, using the stored statistics: with s_j = γ_j/√(var_j + ε),
 * W'[…, j] = s_j·W[…, j] and b'_j = s_j·(b_j − mean_j) + β_j. The folded network has no BatchNorm and a bias on every
 * folded layer (created, as b = 0 before folding, where the layer had none); it computes the BN network's evaluation
 * function (up to float rounding).
 */
export function foldBatchNorm(spec: ArchSpec, params: HostParams): { spec: ArchSpec; params: HostParams } {
  const layers = spec.layers.map((l, k) => {
    if (!layerHasBatchNorm(spec, k + 1)) return { ...l };
    const { batchNorm: _bn, ...rest } = l;
    return { ...rest, bias: true };
  });
  const out: HostParams = {};
  spec.layers.forEach((l, k) => {
    const i = k + 1;
    const w = params[`A${i}.w`]!;
    const b = l.bias ? params[`A${i}.b`] : undefined;
    if (!layerHasBatchNorm(spec, i)) {
      out[`A${i}.w`] = w;
      if (b) out[`A${i}.b`] = b;
      return;
    }
    const n = bnNames(i);
    const [gamma, beta, mean, v] = [params[n.gamma]!.data, params[n.beta]!.data, params[n.mean]!.data, params[n.var]!.data];
    const units = gamma.length;
    const s = Float64Array.from(gamma, (g, j) => g / Math.sqrt(v[j]! + BN_EPSILON));
    const wd = new Float32Array(w.data.length);
    for (let e = 0; e < wd.length; e++) wd[e] = Math.fround(w.data[e]! * s[e % units]!);
    const bd = new Float32Array(units);
    for (let j = 0; j < units; j++) bd[j] = Math.fround(s[j]! * ((b ? b.data[j]! : 0) - mean[j]!) + beta[j]!);
    out[`A${i}.w`] = { shape: [...w.shape], data: wd };
    out[`A${i}.b`] = { shape: [units], data: bd };
  });
  return { spec: { input: spec.input, layers }, params: out };
}
