/**
 * Weights θ as an ordered list of named host tensors (Float32Array + shape), in the order of `paramShapes(spec)`.
 * Host tensors are what paths, checkpoints and exports hold; `toDevice` makes tfjs tensors for computation.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../util/rng';
import { DEFAULT_INIT, type InitScheme, fillKernel } from './init';
import { type ArchSpec, paramShapes } from './spec';

export interface HostTensor {
  shape: number[];
  data: Float32Array;
}

/** Named parameters in spec order. */
export type HostParams = Record<string, HostTensor>;
export type DeviceParams = Record<string, tf.Tensor>;

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * A fresh initialisation: kernels by `scheme` (init.ts; default He-normal fan-in, std √(2/fan_in)), biases zero.
 * BatchNorm: γ = 1, β = 0, statistics mean 0 and variance 1.
 */
export function initParams(spec: ArchSpec, seed: number, scheme: InitScheme = DEFAULT_INIT): HostParams {
  const rng = new Rng(seed);
  const out: HostParams = {};
  for (const p of paramShapes(spec)) {
    const data = new Float32Array(sizeOf(p.shape));
    if (p.role === 'kernel') {
      fillKernel(data, p.shape, scheme, rng);
    } else if (p.role === 'bnGamma' || p.role === 'bnVar') {
      data.fill(1);
    }
    out[p.name] = { shape: [...p.shape], data };
  }
  return out;
}

export function cloneParams(p: HostParams): HostParams {
  const out: HostParams = {};
  for (const [k, v] of Object.entries(p)) out[k] = { shape: [...v.shape], data: new Float32Array(v.data) };
  return out;
}

export function zerosLike(p: HostParams): HostParams {
  const out: HostParams = {};
  for (const [k, v] of Object.entries(p)) out[k] = { shape: [...v.shape], data: new Float32Array(v.data.length) };
  return out;
}

/** (1−t)·a + t·b, parameter-wise (float64 arithmetic, rounded once to float32). */
export function lerpParams(a: HostParams, b: HostParams, t: number): HostParams {
  const out: HostParams = {};
  for (const [k, va] of Object.entries(a)) {
    const vb = b[k];
    if (!vb || vb.data.length !== va.data.length) throw new Error(`parameter ${k} differs between the two networks`);
    const d = new Float32Array(va.data.length);
    for (let i = 0; i < d.length; i++) d[i] = (1 - t) * va.data[i]! + t * vb.data[i]!;
    out[k] = { shape: [...va.shape], data: d };
  }
  return out;
}

/** Σ_k c_k·θ_k over several parameter sets (Bézier and polygonal curves, planes). */
export function combineParams(sets: HostParams[], coeffs: number[]): HostParams {
  const first = sets[0];
  if (!first) throw new Error('no parameter sets to combine');
  const out = zerosLike(first);
  sets.forEach((s, j) => {
    const c = coeffs[j]!;
    if (c === 0) return;
    for (const [k, v] of Object.entries(s)) {
      const d = out[k]!.data;
      for (let i = 0; i < d.length; i++) d[i]! += c * v.data[i]!;
    }
  });
  return out;
}

export function paramsEqual(a: HostParams, b: HostParams): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => {
    const x = a[k]!.data;
    const y = b[k]?.data;
    if (!y || x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    return true;
  });
}

/** Largest |a − b| over all parameters. */
export function maxAbsDiff(a: HostParams, b: HostParams): number {
  let m = 0;
  for (const [k, va] of Object.entries(a)) {
    const vb = b[k]!.data;
    for (let i = 0; i < va.data.length; i++) m = Math.max(m, Math.abs(va.data[i]! - vb[i]!));
  }
  return m;
}

/** Checks that params match the spec's names and shapes. */
export function checkParams(spec: ArchSpec, p: HostParams): void {
  const shapes = paramShapes(spec);
  const names = Object.keys(p);
  if (names.length !== shapes.length) {
    throw new Error(`expected ${shapes.length} parameters (${shapes.map((s) => s.name).join(', ')}), got ${names.length}`);
  }
  for (const s of shapes) {
    const t = p[s.name];
    if (!t) throw new Error(`missing parameter ${s.name}`);
    if (t.shape.join(',') !== s.shape.join(',') || t.data.length !== sizeOf(s.shape)) {
      throw new Error(`parameter ${s.name} has shape [${t.shape}], expected [${s.shape}]`);
    }
  }
}

export function toDevice(p: HostParams): DeviceParams {
  const out: DeviceParams = {};
  for (const [k, v] of Object.entries(p)) out[k] = tf.tensor(v.data, v.shape, 'float32');
  return out;
}

export async function toHost(p: DeviceParams): Promise<HostParams> {
  const out: HostParams = {};
  for (const [k, v] of Object.entries(p)) out[k] = { shape: [...v.shape], data: new Float32Array(await v.data()) };
  return out;
}

export function disposeParams(p: DeviceParams): void {
  for (const v of Object.values(p)) v.dispose();
}
