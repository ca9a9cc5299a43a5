import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src-main/engine/backend/backends';
import { forward } from '../../src-main/engine/nn/forward';
import { type HostParams, initParams, toDevice, disposeParams } from '../../src-main/engine/nn/params';
import type { ArchSpec } from '../../src-main/engine/nn/spec';
import { resolveArchitecture } from '../../src-main/engine/recipe/resolve';
import { Rng } from '../../src-main/engine/util/rng';

export async function useCpu(): Promise<void> {
  await selectBackend('cpu');
}

/** A random bias-free (or biased) MLP of depth d (d−1 hidden layers), small widths. */
export function randomMlp(d: number, bias: boolean, seed: number, width = 6): { spec: ArchSpec; theta: HostParams } {
  const hidden = Array.from({ length: d - 1 }, (_, k) => width + (k % 2));
  const spec = resolveArchitecture({ type: 'mlp', hidden, bias, dropout: 0 }, [1, 1, 5], 3);
  const theta = initParams(spec, seed);
  if (bias) randomizeBiases(theta, seed);
  return { spec, theta };
}

/** A random CNN with d−1 conv layers (some pooled) and a dense head. */
export function randomCnn(d: number, bias: boolean, seed: number): { spec: ArchSpec; theta: HostParams } {
  const conv = Array.from({ length: d - 1 }, (_, k) => ({
    filters: 4 + (k % 2),
    kernel: 3,
    stride: 1,
    padding: 'same' as const,
    pool: k === 0 ? 2 : null,
    dropout: 0,
  }));
  const spec = resolveArchitecture({ type: 'cnn', conv, dense: [], bias }, [6, 6, 2], 3);
  const theta = initParams(spec, seed);
  if (bias) randomizeBiases(theta, seed);
  return { spec, theta };
}

function randomizeBiases(theta: HostParams, seed: number): void {
  const rng = new Rng(seed + 99);
  for (const [k, v] of Object.entries(theta)) if (k.endsWith('.b')) for (let i = 0; i < v.data.length; i++) v.data[i] = rng.normal() * 0.3;
}

/** Random inputs for a spec: [n, features]. */
export function randomInputs(spec: ArchSpec, n: number, seed: number): tf.Tensor2D {
  const f = spec.input[0] * spec.input[1] * spec.input[2];
  const rng = new Rng(seed);
  return tf.tensor2d(Float32Array.from({ length: n * f }, () => rng.normal()), [n, f]);
}

export function outputs(spec: ArchSpec, theta: HostParams, x: tf.Tensor2D): Float32Array {
  const dev = toDevice(theta);
  try {
    const y = forward(spec, dev, x);
    const v = y.dataSync() as Float32Array;
    y.dispose();
    return new Float32Array(v);
  } finally {
    disposeParams(dev);
  }
}

export function maxAbs(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Relative tolerance for "the same function" in float32. */
export function close(a: Float32Array, b: Float32Array): boolean {
  const scale = Math.max(1, ...Array.from(a, Math.abs));
  return maxAbs(a, b) <= 2e-5 * scale;
}
