import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { linearPart } from '../../src-main/engine/nn/forward';
import { disposeParams, toDevice } from '../../src-main/engine/nn/params';
import { distribution, measureNoiseStability, operatorFrobenius } from '../../src-main/engine/theory/noise-stability';
import { Rng } from '../../src-main/engine/util/rng';
import { randomCnn, randomInputs, randomMlp, useCpu } from './helpers';

beforeAll(useCpu);

/** Spectral norm of an explicit matrix (rows × cols, row-major) by long power iteration in float64. */
function spectral(m: number[][]): number {
  const cols = m[0]!.length;
  let v = Array.from({ length: cols }, (_, k) => 1 + k * 0.01);
  let s = 0;
  for (let it = 0; it < 2000; it++) {
    const w = m.map((row) => row.reduce((a, x, k) => a + x * v[k]!, 0));
    const g = Array.from({ length: cols }, (_, k) => m.reduce((a, row, r) => a + row[k]! * w[r]!, 0));
    const n = Math.hypot(...g);
    v = g.map((x) => x / n);
    s = Math.sqrt(n);
  }
  return s;
}

describe('noise stability (Definitions 2–4)', () => {
  it('‖A_i‖_F of a conv layer equals the Frobenius norm of its explicit operator matrix', () => {
    const { spec, theta } = randomCnn(3, false, 4);
    for (const i of [1, 2]) {
      const layer = spec.layers[i - 1]!;
      const [h, w, c] = i === 1 ? spec.input : [3, 3, 4];
      const dev = toDevice(theta);
      // Column k of the operator = the layer's linear map applied to basis vector e_k.
      const n = h * w * c;
      const basis = tf.reshape(tf.cast(tf.oneHot(tf.range(0, n, 1, 'int32'), n), 'float32'), [n, h, w, c]);
      const out = linearPart(spec, i, dev, basis);
      const fro = Math.sqrt(tf.sum(tf.square(out)).dataSync()[0]!);
      [basis, out].forEach((t) => t.dispose());
      disposeParams(dev);
      expect(layer.type).toBe('conv');
      expect(operatorFrobenius(spec, i, theta)).toBeCloseTo(fro, 3);
    }
  });

  it('interlayer cushion of a bias-free MLP matches ‖x^j‖/(‖J‖‖x^i‖) with J built explicitly', async () => {
    const { spec, theta } = randomMlp(3, false, 12, 6);
    const x = randomInputs(spec, 1, 3);
    const r = await measureNoiseStability(spec, theta, x, { samples: 1, iterations: 60, p: 0.5, ts: [0], bins: 5, seed: 1 });
    // Explicit: x^1 = x·W1, J^{1,2} = D_1 then W2 (as a matrix acting on row vectors), J^{1,3} = D_1 W2 D_2 W3.
    const xv = Array.from(x.dataSync());
    const W = [1, 2, 3].map((i) => theta[`A${i}.w`]!);
    const mat = (k: number) => {
      const [rows, cols] = W[k]!.shape as [number, number];
      return Array.from({ length: rows }, (_, a) => Array.from({ length: cols }, (_, b) => W[k]!.data[a * cols + b]!));
    };
    const mul = (v: number[], m: number[][]) => m[0]!.map((_, b) => v.reduce((s, x, a) => s + x * m[a]![b]!, 0));
    const x1 = mul(xv, mat(0));
    const x2 = mul(x1.map((v) => Math.max(v, 0)), mat(1));
    const x3 = mul(x2.map((v) => Math.max(v, 0)), mat(2));
    const D = (v: number[]) => v.map((z) => (z > 0 ? 1 : 0));
    // J^{1,2} as an explicit (out × in) matrix: J[b][a] = D1[a]·W2[a][b].
    const W2 = mat(1);
    const W3 = mat(2);
    const J12 = W2[0]!.map((_, b) => x1.map((_, a) => D(x1)[a]! * W2[a]![b]!));
    const J13 = W3[0]!.map((_, o) => x1.map((_, a) => W2[a]!.reduce((s, w2, b) => s + D(x1)[a]! * w2 * D(x2)[b]! * W3[b]![o]!, 0)));
    const n = (v: number[]) => Math.hypot(...v);
    const expected = Math.min(1, n(x2) / (spectral(J12) * n(x1)), n(x3) / (spectral(J13) * n(x1)));
    expect(r.layers[0]!.interlayerCushion.median).toBeCloseTo(expected, 4);
    expect(r.layers[1]!.activationContraction!.median).toBeCloseTo(n(x2) / n(x2.map((v) => Math.max(v, 0))), 4);
    x.dispose();
  });

  it('gives cushions in (0, 1], contraction ≥ 1, positive smoothness, and no tensor leak', async () => {
    const { spec, theta } = randomCnn(4, false, 8);
    const x = randomInputs(spec, 24, 5);
    const before = tf.memory().numTensors;
    const r = await measureNoiseStability(spec, theta, x, { samples: 24, iterations: 10, p: 0.5, ts: [0, 0.5], bins: 10, seed: 2 });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.layers).toHaveLength(4);
    for (const l of r.layers) {
      expect(l.layerCushion.min).toBeGreaterThan(0);
      expect(l.layerCushion.max).toBeLessThanOrEqual(1 + 1e-6);
      expect(l.interlayerCushion.max).toBeLessThanOrEqual(1 + 1e-6);
      if (l.activationContraction) expect(l.activationContraction.min).toBeGreaterThanOrEqual(1 - 1e-6);
      expect(l.layerCushion.histogram.counts.reduce((a, b) => a + b, 0)).toBe(24);
    }
    expect(r.layers[1]!.interlayerSmoothness!.min).toBeGreaterThan(0);
    expect(r.definition4.epsilon).toBeGreaterThan(0);
    x.dispose();
  });

  it('summarises distributions with quantiles and a histogram, counting infinities apart', () => {
    const rng = new Rng(1);
    const v = Array.from({ length: 1000 }, (_, k) => (k + 0.5) / 1000);
    rng.shuffle(v);
    const d = distribution([...v, Infinity], 10);
    expect(d.n).toBe(1000);
    expect(d.infinite).toBe(1);
    expect(d.median).toBeCloseTo(0.5, 2);
    expect(d.p05).toBeCloseTo(0.05, 2);
    expect(d.min).toBe(0.0005);
    expect(d.max).toBe(0.9995);
    expect(d.histogram.counts).toEqual(Array(10).fill(100));
  });
});
