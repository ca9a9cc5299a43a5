/** Shared fixtures of the ONNX backend tests: specs, random weights (BatchNorm statistics included), batches. */
import * as tf from '@tensorflow/tfjs-core';
import { forward } from '../../src-main/engine/nn/forward';
import { type HostParams, disposeParams, toDevice } from '../../src-main/engine/nn/params';
import { type ArchSpec, paramShapes } from '../../src-main/engine/nn/spec';
import { Rng } from '../../src-main/engine/util/rng';

export const mlp = (bias: boolean, dropout = 0): ArchSpec => ({
  input: [2, 3, 2],
  layers: [
    { type: 'dense', units: 9, bias, dropout },
    { type: 'dense', units: 7, bias, dropout },
    { type: 'dense', units: 4, bias, dropout: 0 },
  ],
});

/** Same padding with stride 1 and 2, valid padding with an uneven stride, BatchNorm, max-pool, dense BatchNorm. */
export const cnn: ArchSpec = {
  input: [7, 6, 2],
  layers: [
    { type: 'conv', filters: 3, kernel: 3, stride: 1, padding: 'same', bias: true, pool: { size: 2, stride: 1 }, dropout: 0, batchNorm: true },
    { type: 'conv', filters: 4, kernel: 3, stride: 2, padding: 'same', bias: false, pool: null, dropout: 0 },
    { type: 'conv', filters: 5, kernel: 2, stride: 1, padding: 'valid', bias: true, pool: { size: 2, stride: 2 }, dropout: 0, batchNorm: true },
    { type: 'dense', units: 6, bias: true, dropout: 0, batchNorm: true },
    { type: 'dense', units: 3, bias: false, dropout: 0 },
  ],
};

/** CNNs without BatchNorm (the training graph's reach): 'same' with stride 1 and 2, 'valid' with an uneven stride,
 *  overlapping and plain max-pools, and 'same' whose stride skips past the kernel (negative total padding). */
export const trainableCnns = (bias: boolean, dropout = 0): { name: string; spec: ArchSpec }[] => [
  {
    name: 'CNN 5×6×2: same s1 → same s2 → valid k2 + pool 2/1 → dense 4 → dense 3',
    spec: {
      input: [5, 6, 2],
      layers: [
        { type: 'conv', filters: 3, kernel: 3, stride: 1, padding: 'same', bias, pool: null, dropout },
        { type: 'conv', filters: 4, kernel: 3, stride: 2, padding: 'same', bias, pool: null, dropout },
        { type: 'conv', filters: 2, kernel: 2, stride: 1, padding: 'valid', bias, pool: { size: 2, stride: 1 }, dropout },
        { type: 'dense', units: 4, bias, dropout },
        { type: 'dense', units: 3, bias, dropout: 0 },
      ],
    },
  },
  {
    name: 'CNN 7×7×1: valid s2 (uneven) → same s1 + pool 2/2 → dense 3',
    spec: {
      input: [7, 7, 1],
      layers: [
        { type: 'conv', filters: 2, kernel: 2, stride: 2, padding: 'valid', bias, pool: null, dropout },
        { type: 'conv', filters: 3, kernel: 3, stride: 1, padding: 'same', bias, pool: { size: 2, stride: 2 }, dropout },
        { type: 'dense', units: 3, bias, dropout: 0 },
      ],
    },
  },
  {
    name: 'CNN 6×5×1: same k2 s3 (the stride skips past the kernel) → same k3 s1 → dense 3',
    spec: {
      input: [6, 5, 1],
      layers: [
        { type: 'conv', filters: 2, kernel: 2, stride: 3, padding: 'same', bias, pool: null, dropout },
        { type: 'conv', filters: 2, kernel: 3, stride: 1, padding: 'same', bias, pool: null, dropout },
        { type: 'dense', units: 3, bias, dropout: 0 },
      ],
    },
  },
];

/** Weights of every role with the right signs: kernels He-scaled, variances positive, the rest around zero or one. */
export function randomParams(spec: ArchSpec, seed: number): HostParams {
  const rng = new Rng(seed);
  const p: HostParams = {};
  for (const s of paramShapes(spec)) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const fanIn = s.role === 'kernel' ? s.shape.slice(0, -1).reduce((a, b) => a * b, 1) : 4;
    const data = Float32Array.from({ length: n }, () => {
      const z = rng.normal();
      if (s.role === 'bnVar') return 0.5 + Math.abs(z);
      if (s.role === 'bnGamma') return 1 + 0.3 * z;
      return z * Math.sqrt(2 / fanIn);
    });
    p[s.name] = { shape: [...s.shape], data };
  }
  return p;
}

export function batch(spec: ArchSpec, n: number, seed: number): { x: Float32Array; y: Int32Array } {
  const rng = new Rng(seed);
  const per = spec.input[0] * spec.input[1] * spec.input[2];
  const k = spec.layers[spec.layers.length - 1]!.type === 'dense' ? (spec.layers[spec.layers.length - 1] as { units: number }).units : 1;
  return { x: Float32Array.from({ length: n * per }, () => rng.normal()), y: Int32Array.from({ length: n }, () => rng.int(k)) };
}

/** The engine's tfjs logits on the active backend. */
export function tfjsLogits(spec: ArchSpec, p: HostParams, x: Float32Array, n: number): Float32Array {
  const dev = toDevice(p);
  const xt = tf.tensor2d(x, [n, x.length / n]);
  const logits = forward(spec, dev, xt);
  const out = logits.dataSync() as Float32Array;
  [logits, xt].forEach((t) => t.dispose());
  disposeParams(dev);
  return out;
}

export function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
