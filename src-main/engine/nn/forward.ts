/**
 * The pure forward pass f_θ(x) of an ArchSpec (see spec.ts for layouts). Hidden layers: affine map, optional
 * BatchNorm, ReLU, optional max-pool, optional dropout (training only). The last layer is affine and returns logits.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../util/rng';
import { applyBatchNorm } from './batchnorm';
import { conv2d } from './conv';
import { dense } from './dense';
import type { DeviceParams } from './params';
import type { ArchSpec, LayerSpec } from './spec';

export interface ForwardOptions {
  /** Apply each layer's training dropout, masks drawn from this generator (inverted dropout: kept × 1/(1−p)). */
  dropoutRng?: Rng;
  /** Training mode for BatchNorm: normalise with the batch's own statistics instead of the stored ones. */
  batchStats?: boolean;
}

/** n dropout-mask entries drawn from rng in order: 0 with probability p, else 1/(1−p). Every backend draws masks here,
 *  so one seed drops the same units on all of them. */
export function dropoutMaskValues(n: number, p: number, rng: Rng): Float32Array {
  const m = new Float32Array(n);
  const keep = 1 / (1 - p);
  for (let i = 0; i < n; i++) m[i] = rng.next() < p ? 0 : keep;
  return m;
}

function dropoutMask(shape: number[], p: number, rng: Rng): tf.Tensor {
  return tf.tensor(dropoutMaskValues(shape.reduce((a, b) => a * b, 1), p, rng), shape);
}

function asInput(spec: ArchSpec, x: tf.Tensor): tf.Tensor {
  const [h, w, c] = spec.input;
  if (spec.layers[0]!.type === 'conv') return x.rank === 4 ? x : tf.reshape(x, [-1, h, w, c]);
  return x.rank === 2 ? x : tf.reshape(x, [-1, h * w * c]);
}

/** Applies layer i (1-based): affine map, then for hidden layers ReLU, pooling and (training) dropout. */
function applyLayer(layer: LayerSpec, i: number, params: DeviceParams, x: tf.Tensor, last: boolean, opts: ForwardOptions): tf.Tensor {
  const w = params[`A${i}.w`]!;
  const b = layer.bias ? params[`A${i}.b`] : undefined;
  const bn = !last && layer.batchNorm === true;
  let y: tf.Tensor;
  const dropping = !last && layer.dropout > 0 && opts.dropoutRng !== undefined;
  // Layer 1 reads the data: no gradient flows to it (forward differentiates with respect to parameters only).
  const inputGrad = i > 1;
  if (layer.type === 'dense') {
    const x2 = x.rank === 2 ? (x as tf.Tensor2D) : (tf.reshape(x, [x.shape[0]!, -1]) as tf.Tensor2D);
    if (bn) {
      y = tf.relu(applyBatchNorm(dense(x2, w as tf.Tensor2D, b, false, undefined, inputGrad), params, i, opts.batchStats === true));
    } else {
      // Unit-wise dropout is fused into the dense op (one multiply each way).
      const mask = dropping ? dropoutMask([x2.shape[0], layer.units], layer.dropout, opts.dropoutRng!) : undefined;
      return dense(x2, w as tf.Tensor2D, b, !last, mask, inputGrad);
    }
  } else {
    y = conv2d(x as tf.Tensor4D, w as tf.Tensor4D, layer.stride, layer.padding, inputGrad);
    if (b) y = tf.add(y, b);
    if (bn) y = applyBatchNorm(y, params, i, opts.batchStats === true);
    y = tf.relu(y);
    if (layer.pool) y = tf.maxPool(y as tf.Tensor4D, layer.pool.size, layer.pool.stride, 'valid');
  }
  if (dropping) {
    const shape = layer.type === 'dense' ? y.shape : [y.shape[0]!, 1, 1, y.shape[3]!];
    y = tf.mul(y, dropoutMask(shape, layer.dropout, opts.dropoutRng!));
  }
  return y;
}

/** Logits f_θ(x). x is [N, H, W, C] or [N, H·W·C]. Differentiable with respect to the parameters (not x). */
export function forward(spec: ArchSpec, params: DeviceParams, x: tf.Tensor, opts: ForwardOptions = {}): tf.Tensor2D {
  return tf.tidy(() => {
    let y = asInput(spec, x);
    const d = spec.layers.length;
    spec.layers.forEach((layer, k) => {
      y = applyLayer(layer, k + 1, params, y, k === d - 1, opts);
    });
    return y as tf.Tensor2D;
  }) as tf.Tensor2D;
}

/** Input of the top layer A_d, flattened to [N, features]: the penultimate features φ(x^{d−1}) (pooled). */
export function penultimate(spec: ArchSpec, params: DeviceParams, x: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => {
    let y = asInput(spec, x);
    const d = spec.layers.length;
    for (let k = 0; k < d - 1; k++) y = applyLayer(spec.layers[k]!, k + 1, params, y, false, {});
    return tf.reshape(y, [y.shape[0]!, -1]) as tf.Tensor2D;
  });
}

/** Logits from penultimate features: the top layer alone (dense A_d, plus bias if any). */
export function topLayer(spec: ArchSpec, params: DeviceParams, features: tf.Tensor2D): tf.Tensor2D {
  const d = spec.layers.length;
  const top = spec.layers[d - 1]!;
  return tf.tidy(() => dense(features, params[`A${d}.w`] as tf.Tensor2D, top.bias ? params[`A${d}.b`] : undefined, false));
}

/** Every hidden layer's output φ(x^i) (after ReLU and pooling), flattened per sample as [N, …] tensors. */
export function hiddenOutputs(spec: ArchSpec, params: DeviceParams, x: tf.Tensor): tf.Tensor[] {
  return tf.tidy(() => {
    const outs: tf.Tensor[] = [];
    let y = asInput(spec, x);
    for (let k = 0; k < spec.layers.length - 1; k++) {
      y = applyLayer(spec.layers[k]!, k + 1, params, y, false, {});
      outs.push(y);
    }
    return outs;
  });
}

/** The linear part of layer i applied to its input a (no bias): A_i a. */
export function linearPart(spec: ArchSpec, i: number, params: DeviceParams, a: tf.Tensor): tf.Tensor {
  const layer = spec.layers[i - 1]!;
  const w = params[`A${i}.w`]!;
  if (layer.type === 'dense') return tf.matMul(tf.reshape(a, [a.shape[0]!, -1]) as tf.Tensor2D, w as tf.Tensor2D);
  return conv2d(a as tf.Tensor4D, w as tf.Tensor4D, layer.stride, layer.padding);
}

/** φ of hidden layer i applied to its pre-activation: ReLU, then the layer's max-pool if any. */
export function activation(spec: ArchSpec, i: number, pre: tf.Tensor): tf.Tensor {
  const layer = spec.layers[i - 1]!;
  const y = tf.relu(pre);
  return layer.type === 'conv' && layer.pool ? tf.maxPool(y as tf.Tensor4D, layer.pool.size, layer.pool.stride, 'valid') : y;
}

/** Pre-activation x^i of layer i from its input a: A_i a + b_i. */
export function preActivation(spec: ArchSpec, i: number, params: DeviceParams, a: tf.Tensor): tf.Tensor {
  const y = linearPart(spec, i, params, a);
  return spec.layers[i - 1]!.bias ? tf.add(y, params[`A${i}.b`]!) : y;
}

/** The network's input as layer 1 sees it. */
export function networkInput(spec: ArchSpec, x: tf.Tensor): tf.Tensor {
  return asInput(spec, x);
}

/** Pre-activations x^1 … x^d of every layer (x^d = logits). */
export function preActivations(spec: ArchSpec, params: DeviceParams, x: tf.Tensor): tf.Tensor[] {
  return tf.tidy(() => {
    const out: tf.Tensor[] = [];
    let a = asInput(spec, x);
    for (let i = 1; i <= spec.layers.length; i++) {
      const pre = preActivation(spec, i, params, a);
      out.push(pre);
      if (i < spec.layers.length) a = activation(spec, i, pre);
    }
    return out;
  });
}

/** Continues a forward pass from the pre-activation x^i of layer i to the logits (layers i+1 … d). With BatchNorm,
 *  x^i is the affine output before BN, and BN (stored statistics) is applied before the activation. */
export function forwardFromPre(spec: ArchSpec, params: DeviceParams, i: number, pre: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => {
    let y = pre;
    for (let l = i + 1; l <= spec.layers.length; l++) {
      const bn = spec.layers[l - 2]!.batchNorm === true ? applyBatchNorm(y, params, l - 1, false) : y;
      y = preActivation(spec, l, params, activation(spec, l - 1, bn));
    }
    return y as tf.Tensor2D;
  });
}
