/**
 * Gradients of the training loss on the wasm backend (custom dense gradient of nn/dense.ts, custom convolution
 * gradients of nn/conv.ts) and on the cpu backend (tfjs' built-in gradients), against central finite differences of a
 * float64 plain-JS forward pass (reference.ts), and against each other. The custom ops are also checked on their own
 * for many kernel sizes, strides and paddings.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../../src-main/engine/backend/backends';
import { conv2d } from '../../src-main/engine/nn/conv';
import { dense, matMulT, slowTransposedMatMul } from '../../src-main/engine/nn/dense';
import { forward } from '../../src-main/engine/nn/forward';
import type { HostParams } from '../../src-main/engine/nn/params';
import { type ArchSpec, paramShapes } from '../../src-main/engine/nn/spec';
import { crossEntropy } from '../../src-main/engine/train/loss';
import { Rng } from '../../src-main/engine/util/rng';
import { crossEntropyRef, fdGrads, forwardRef } from './reference';

/** Float32-representable normal values (so tfjs and the float64 reference see the same numbers). */
function normals(n: number, rng: Rng, scale: number): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal() * scale);
}

function randomParams(spec: ArchSpec, seed: number): HostParams {
  const rng = new Rng(seed);
  const p: HostParams = {};
  for (const s of paramShapes(spec)) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const fanIn = s.role === 'kernel' ? s.shape.slice(0, -1).reduce((a, b) => a * b, 1) : 4;
    p[s.name] = { shape: s.shape, data: normals(n, rng, Math.sqrt(2 / fanIn)) };
  }
  return p;
}

const N = 3;
let varCount = 0;

function cases(): { name: string; spec: ArchSpec }[] {
  const out: { name: string; spec: ArchSpec }[] = [];
  for (const bias of [false, true]) {
    out.push({
      name: `MLP 6-5-4-3 ${bias ? 'with' : 'without'} bias`,
      spec: {
        input: [1, 2, 3],
        layers: [
          { type: 'dense', units: 5, bias, dropout: 0 },
          { type: 'dense', units: 4, bias, dropout: 0 },
          { type: 'dense', units: 3, bias, dropout: 0 },
        ],
      },
    });
    out.push({
      name: `CNN 5×6×2: same s1 → same s2 → valid k2 + pool → dense 4 → dense 3, ${bias ? 'with' : 'without'} bias`,
      spec: {
        input: [5, 6, 2],
        layers: [
          { type: 'conv', filters: 3, kernel: 3, stride: 1, padding: 'same', bias, pool: null, dropout: 0 },
          { type: 'conv', filters: 4, kernel: 3, stride: 2, padding: 'same', bias, pool: null, dropout: 0 },
          { type: 'conv', filters: 2, kernel: 2, stride: 1, padding: 'valid', bias, pool: { size: 2, stride: 1 }, dropout: 0 },
          { type: 'dense', units: 4, bias, dropout: 0 },
          { type: 'dense', units: 3, bias, dropout: 0 },
        ],
      },
    });
    out.push({
      name: `CNN 7×7×1: valid s2 (uneven) → same s1 + pool 2 → dense 3, ${bias ? 'with' : 'without'} bias`,
      spec: {
        input: [7, 7, 1],
        layers: [
          { type: 'conv', filters: 2, kernel: 2, stride: 2, padding: 'valid', bias, pool: null, dropout: 0 },
          { type: 'conv', filters: 3, kernel: 3, stride: 1, padding: 'same', bias, pool: { size: 2, stride: 2 }, dropout: 0 },
          { type: 'dense', units: 3, bias, dropout: 0 },
        ],
      },
    });
  }
  return out;
}

function inputs(spec: ArchSpec, seed: number): { x: Float32Array; y: Int32Array } {
  const rng = new Rng(seed);
  const per = spec.input[0] * spec.input[1] * spec.input[2];
  return { x: normals(N * per, rng, 1), y: Int32Array.from({ length: N }, (_, i) => i % 3) };
}

/** Gradients of the mean cross-entropy w.r.t. every parameter, with tf.variableGrads on the active backend. */
function tfGrads(spec: ArchSpec, p: HostParams, x: Float32Array, y: Int32Array): { loss: number; grads: Record<string, Float32Array> } {
  const names = Object.keys(p);
  const vars = names.map((k, i) => {
    const init = tf.tensor(p[k]!.data, p[k]!.shape);
    const v = tf.variable(init, true, `grad${++varCount}_${k}`);
    init.dispose();
    return v;
  });
  const params = Object.fromEntries(names.map((k, i) => [k, vars[i]!]));
  const xt = tf.tensor2d(x, [N, x.length / N]);
  const yt = tf.tensor1d(y, 'int32');
  try {
    const { value, grads } = tf.variableGrads(() => crossEntropy(forward(spec, params, xt), yt), vars);
    const out: Record<string, Float32Array> = {};
    names.forEach((k, i) => {
      out[k] = grads[vars[i]!.name]!.dataSync() as Float32Array;
    });
    const loss = value.dataSync()[0]!;
    value.dispose();
    Object.values(grads).forEach((g) => g.dispose());
    return { loss, grads: out };
  } finally {
    vars.forEach((v) => v.dispose());
    xt.dispose();
    yt.dispose();
  }
}

function maxErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function norm(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * a[i]!;
  return Math.sqrt(s);
}

describe('custom gradients are the ones under test', () => {
  it('wasm lacks Conv2DBackpropFilter and takes the plain-matMul dense path; cpu has the kernel', async () => {
    await selectBackend('wasm');
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined();
    expect(slowTransposedMatMul()).toBe(true);
    await selectBackend('cpu');
    expect(tf.getKernel('Conv2DBackpropFilter', 'cpu')).toBeDefined();
    expect(slowTransposedMatMul()).toBe(false);
  });
});

describe.each(cases())('$name', ({ spec }) => {
  const p = randomParams(spec, 5);
  const { x, y } = inputs(spec, 6);
  const fd = fdGrads(spec, p, x, y);
  const refLoss = crossEntropyRef(forwardRef(spec, p, x, N).logits, y);
  const results: Record<string, { loss: number; grads: Record<string, Float32Array> }> = {};

  it.each(['cpu', 'wasm'] as const)('%s gradients agree with float64 finite differences', async (backend) => {
    await selectBackend(backend);
    const before = tf.memory().numTensors;
    const r = tfGrads(spec, p, x, y);
    expect(tf.memory().numTensors).toBe(before);
    results[backend] = r;
    expect(Math.abs(r.loss - refLoss)).toBeLessThan(1e-5 * Math.max(1, refLoss));
    for (const k of Object.keys(p)) {
      const g = r.grads[k]!;
      const f = fd[k]!;
      expect(g.length).toBe(f.length);
      // Not all zero (the check would be vacuous), and within float32 accuracy of the finite differences.
      expect(norm(f)).toBeGreaterThan(1e-3);
      expect(maxErr(g, f), `${backend} ${k}`).toBeLessThan(2e-4 * Math.max(1, norm(f)));
    }
  });

  it('wasm (custom) and cpu (built-in) gradients agree', () => {
    const a = results['cpu'];
    const b = results['wasm'];
    expect(a && b).toBeTruthy();
    for (const k of Object.keys(p)) expect(maxErr(a!.grads[k]!, b!.grads[k]!), k).toBeLessThan(1e-5 * Math.max(1, norm(a!.grads[k]!)));
  });
});

describe('the custom ops on their own (tf.grads), wasm against cpu', () => {
  const rng = new Rng(42);
  const xd = normals(4 * 5, rng, 1);
  const wd = normals(5 * 3, rng, 1);
  const bd = normals(3, rng, 1);
  const dyd = normals(4 * 3, rng, 1);
  const cx = normals(2 * 6 * 5 * 3, rng, 1);
  const cw = normals(3 * 3 * 3 * 4, rng, 1);

  async function denseGrads(backend: 'cpu' | 'wasm', relu: boolean, withBias: boolean): Promise<Float32Array[]> {
    await selectBackend(backend);
    return tf.tidy(() => {
      const xs = tf.tensor2d(xd, [4, 5]);
      const ws = tf.tensor2d(wd, [5, 3]);
      const bs = tf.tensor1d(bd);
      const dy = tf.tensor2d(dyd, [4, 3]);
      const f = withBias
        ? (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => dense(a as tf.Tensor2D, b as tf.Tensor2D, c, relu)
        : (a: tf.Tensor, b: tf.Tensor) => dense(a as tf.Tensor2D, b as tf.Tensor2D, undefined, relu);
      const gs = tf.grads(f as (...t: tf.Tensor[]) => tf.Tensor)(withBias ? [xs, ws, bs] : [xs, ws], dy);
      return gs.map((g) => g.dataSync() as Float32Array);
    });
  }

  for (const relu of [false, true]) {
    for (const withBias of [false, true]) {
      it(`dense relu=${relu} bias=${withBias}: dx, dW${withBias ? ', db' : ''} agree, and match the formulas`, async () => {
        const cpu = await denseGrads('cpu', relu, withBias);
        const wasm = await denseGrads('wasm', relu, withBias);
        expect(wasm.length).toBe(withBias ? 3 : 2);
        cpu.forEach((g, i) => expect(maxErr(wasm[i]!, g)).toBeLessThan(1e-5));
        // By the formulas: z = xW + b, dz = dy ⊙ [z > 0], dx = dz Wᵀ, dW = xᵀ dz, db = Σ_rows dz.
        const dz = new Float64Array(12);
        for (let r = 0; r < 4; r++)
          for (let o = 0; o < 3; o++) {
            let z = withBias ? bd[o]! : 0;
            for (let i = 0; i < 5; i++) z += xd[r * 5 + i]! * wd[i * 3 + o]!;
            dz[r * 3 + o] = !relu || z > 0 ? dyd[r * 3 + o]! : 0;
          }
        const dx = new Float64Array(20);
        const dw = new Float64Array(15);
        const db = new Float64Array(3);
        for (let r = 0; r < 4; r++)
          for (let o = 0; o < 3; o++) {
            db[o]! += dz[r * 3 + o]!;
            for (let i = 0; i < 5; i++) {
              dx[r * 5 + i]! += dz[r * 3 + o]! * wd[i * 3 + o]!;
              dw[i * 3 + o]! += xd[r * 5 + i]! * dz[r * 3 + o]!;
            }
          }
        expect(maxErr(wasm[0]!, dx)).toBeLessThan(1e-5);
        expect(maxErr(wasm[1]!, dw)).toBeLessThan(1e-5);
        if (withBias) expect(maxErr(wasm[2]!, db)).toBeLessThan(1e-5);
      });
    }
  }

  const convCases: { k: number; stride: number; padding: 'same' | 'valid' }[] = [];
  for (const k of [1, 2, 3, 4]) for (const stride of [1, 2, 3]) for (const padding of ['same', 'valid'] as const) convCases.push({ k, stride, padding });

  it.each(convCases)('conv2d k=$k stride $stride $padding: value, input and filter gradients agree with cpu\'s built-in ones', async ({ k, stride, padding }) => {
    const cw = normals(k * k * 3 * 4, new Rng(100 + k), 1);
    const grads = async (backend: 'cpu' | 'wasm'): Promise<Float32Array[]> => {
      await selectBackend(backend);
      return tf.tidy(() => {
        const xs = tf.tensor4d(cx, [2, 6, 5, 3]);
        const ws = tf.tensor4d(cw, [k, k, 3, 4]);
        const out = conv2d(xs, ws, stride, padding);
        const dy = tf.tensor(normals(out.size, new Rng(7), 1), out.shape);
        const gs = tf.grads((a: tf.Tensor, b: tf.Tensor) => conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, padding))([xs, ws], dy);
        expect(gs[0]!.shape).toEqual([2, 6, 5, 3]);
        expect(gs[1]!.shape).toEqual([k, k, 3, 4]);
        return [out.dataSync() as Float32Array, ...gs.map((g) => g.dataSync() as Float32Array)];
      });
    };
    const cpu = await grads('cpu');
    const wasm = await grads('wasm');
    expect(cpu.map((a) => a.length)).toEqual(wasm.map((a) => a.length));
    cpu.forEach((g, i) => expect(maxErr(wasm[i]!, g), ['value', 'dx', 'dW'][i]).toBeLessThan(1e-4 * Math.max(1, norm(g) / Math.sqrt(g.length))));
  });

});

describe('matMulT', () => {
  it('gives a·b with every combination of transposes on wasm, as on cpu', async () => {
    const results: Record<string, number[][][]> = {};
    for (const backend of ['cpu', 'wasm']) {
      await selectBackend(backend);
      const m = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
      const n = tf.tensor2d([[1, 0, 2], [0, 1, -1]]);
      results[backend] = [
        matMulT(m, n, false, true).arraySync() as number[][],
        matMulT(m, n, true, false).arraySync() as number[][],
        matMulT(tf.transpose(m) as tf.Tensor2D, n, true, true).arraySync() as number[][],
      ];
      [m, n].forEach((t) => t.dispose());
    }
    expect(results['wasm']).toEqual(results['cpu']);
    expect(results['cpu']![0]).toEqual([[7, -1], [16, -1]]);
    expect(slowTransposedMatMul()).toBe(true);
  });
});
