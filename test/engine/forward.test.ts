/**
 * The forward pass against values computed by hand (written out below) and against the plain-JS float64 reference in
 * reference.ts, on the cpu and the wasm backend (the wasm backend runs the custom dense op of nn/dense.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src-main/engine/backend/backends';
import { forward, penultimate, topLayer } from '../../src-main/engine/nn/forward';
import { type HostParams, checkParams, disposeParams, toDevice } from '../../src-main/engine/nn/params';
import type { ArchSpec } from '../../src-main/engine/nn/spec';
import { Rng } from '../../src-main/engine/util/rng';
import { forwardRef, host, maxRelErr, values } from './reference';

const rows = (t: tf.Tensor): number[][] => t.arraySync() as number[][];

function run(spec: ArchSpec, p: HostParams, x: number[], n: number): { logits: number[][]; feats: number[][]; top: number[][] } {
  checkParams(spec, p);
  const dev = toDevice(p);
  const [h, w, c] = spec.input;
  const xt = tf.tensor(x, [n, h * w * c]);
  try {
    const logits = forward(spec, dev, xt);
    const f = penultimate(spec, dev, xt);
    const top = topLayer(spec, dev, f);
    const out = { logits: rows(logits), feats: rows(f), top: rows(top) };
    [logits, f, top].forEach((t) => t.dispose());
    return out;
  } finally {
    xt.dispose();
    disposeParams(dev);
  }
}

// ---- tiny MLP 3 → 2 (ReLU) → 2 --------------------------------------------------------------------------------
const mlpSpec = (bias: boolean, dropout = 0): ArchSpec => ({
  input: [1, 1, 3],
  layers: [
    { type: 'dense', units: 2, bias, dropout },
    { type: 'dense', units: 2, bias, dropout: 0 },
  ],
});
// W1 [in=3, out=2]: row i holds input i's weights to the two hidden units.
const W1 = host([3, 2], [1, -2, 0.5, 1, -1, 0.5]);
const W2 = host([2, 2], [2, -1, 3, 1]);
const b1 = host([2], [0.5, -1]);
const b2 = host([2], [0.25, -0.5]);
const mlpX = [1, 2, -1, -1, 1, 2];
// By hand, no bias:
//   x=(1,2,−1):  z1 = 1·1 + 2·0.5 + (−1)(−1) = 3,   z2 = 1(−2) + 2·1 + (−1)(0.5) = −0.5 → ReLU 0
//                out = (3·2 + 0·3, 3(−1) + 0·1) = (6, −3)
//   x=(−1,1,2):  z1 = −1 + 0.5 − 2 = −2.5 → 0,        z2 = 2 + 1 + 1 = 4
//                out = (0·2 + 4·3, 0 + 4·1) = (12, 4)
// With bias b1 = (0.5, −1), b2 = (0.25, −0.5):
//   sample 1: z = (3.5, −1.5) → (3.5, 0);  out = (7 + 0.25, −3.5 − 0.5) = (7.25, −4)
//   sample 2: z = (−2, 3)     → (0, 3);    out = (9 + 0.25, 3 − 0.5)   = (9.25, 2.5)
const MLP_NOBIAS = [[6, -3], [12, 4]];
const MLP_BIAS = [[7.25, -4], [9.25, 2.5]];

// ---- tiny CNN on a 4×4×1 input, pixel (y, x) = 4y + x + 1 ------------------------------------------------------
//  1  2  3  4
//  5  6  7  8
//  9 10 11 12
// 13 14 15 16
const IMG = Array.from({ length: 16 }, (_, k) => k + 1);
// Filter 0: all ones (3×3 window sum). Filter 1: +1 at the top-left tap, −1 at the centre tap. Kernel [kh, kw, in, out].
function convKernel(): number[] {
  const k = new Array<number>(3 * 3 * 1 * 2).fill(0);
  for (let ky = 0; ky < 3; ky++) for (let kx = 0; kx < 3; kx++) k[(ky * 3 + kx) * 2 + 0] = 1;
  k[(0 * 3 + 0) * 2 + 1] = 1;
  k[(1 * 3 + 1) * 2 + 1] = -1;
  return k;
}
const convB = host([2], [0.5, 10]);
// By hand, 'valid' (2×2 output):
//   filter 0: window sums 1+2+3+5+6+7+9+10+11 = 54, 63, 90, 99
//   filter 1: x(oy,ox) − x(oy+1,ox+1) = −5 everywhere → ReLU 0;  with bias 10: 5
// NHWC flatten, channel fastest: [f0(0,0), f1(0,0), f0(0,1), f1(0,1), f0(1,0), f1(1,0), f0(1,1), f1(1,1)]
const VALID_FEATS_NOBIAS = [54, 0, 63, 0, 90, 0, 99, 0];
const VALID_FEATS_BIAS = [54.5, 5, 63.5, 5, 90.5, 5, 99.5, 5];
// By hand, 'same' then 2×2 max-pool:
//   filter 0 'same' map; the maximum of each 2×2 block is its bottom-right-most interior sum: 54, 63, 90, 99
//   filter 1 'same': −5 inside; on the top row/left column only −x(y,x) (the top-left tap is padding) → all ≤ 0.
//   With bias 10: top row 9 8 7 6, left column 9 5 1 −3→0, inside 5 → block maxima 9, 7, 5, 5
const POOL_FEATS_NOBIAS = [54, 0, 63, 0, 90, 0, 99, 0];
const POOL_FEATS_BIAS = [54.5, 9, 63.5, 7, 90.5, 5, 99.5, 5];
// By hand, 'same' without pooling at a few positions (filter 0 / filter 1, no bias):
//   (0,0): 1+2+5+6 = 14 / −1 → 0;   (1,1): 54 / 1 − 6 = −5 → 0;   (3,3): 11+12+15+16 = 54 / 0
// Head: output 0 reads flat index 0 (f0 at (0,0)); output 1 reads index 3 (f1 at (0,1)) plus 0.01 × index 4 (f0 at (1,0)).
function head(features: number): number[] {
  const w = new Array<number>(features * 2).fill(0);
  w[0 * 2 + 0] = 1;
  w[3 * 2 + 1] = 1;
  w[4 * 2 + 1] = 0.01;
  return w;
}
const headB = host([2], [-1, 2]);

const cnnSpec = (bias: boolean, padding: 'same' | 'valid', pool: boolean): ArchSpec => ({
  input: [4, 4, 1],
  layers: [
    { type: 'conv', filters: 2, kernel: 3, stride: 1, padding, bias, pool: pool ? { size: 2, stride: 2 } : null, dropout: 0 },
    { type: 'dense', units: 2, bias, dropout: 0 },
  ],
});

function cnnParams(bias: boolean, features: number): HostParams {
  const p: HostParams = { 'A1.w': host([3, 3, 1, 2], convKernel()) };
  if (bias) p['A1.b'] = convB;
  p['A2.w'] = host([features, 2], head(features));
  if (bias) p['A2.b'] = headB;
  return p;
}

describe.each(['cpu', 'wasm'] as const)('forward on %s', (backend) => {
  let tensorsBefore = 0;
  beforeAll(async () => {
    await selectBackend(backend);
    expect(tf.getBackend()).toBe(backend);
  });
  beforeEach(() => {
    tensorsBefore = tf.memory().numTensors;
  });
  afterEach(() => {
    expect(tf.getBackend()).toBe(backend);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });

  it('MLP without bias matches the hand computation (ReLU zeroes a negative pre-activation)', () => {
    const r = run(mlpSpec(false), { 'A1.w': W1, 'A2.w': W2 }, mlpX, 2);
    expect(maxRelErr(r.logits.flat(), MLP_NOBIAS.flat())).toBeLessThan(1e-6);
    // Penultimate features are the post-ReLU hidden activations.
    expect(r.feats).toEqual([[3, 0], [0, 4]]);
  });

  it('MLP with bias matches the hand computation', () => {
    const r = run(mlpSpec(true), { 'A1.w': W1, 'A1.b': b1, 'A2.w': W2, 'A2.b': b2 }, mlpX, 2);
    expect(maxRelErr(r.logits.flat(), MLP_BIAS.flat())).toBeLessThan(1e-6);
    expect(r.feats).toEqual([[3.5, 0], [0, 3]]);
  });

  it('dropout applies only with a generator, as inverted dropout (kept × 1/(1−p))', () => {
    const spec = mlpSpec(false, 0.5);
    const dev = toDevice({ 'A1.w': W1, 'A2.w': W2 });
    const x = tf.tensor([1, 2, -1], [1, 3]);
    try {
      const evalOut = forward(spec, dev, x);
      expect(rows(evalOut)).toEqual([[6, -3]]);
      evalOut.dispose();
      // Hidden (3, 0) becomes (6, 0) when unit 1 is kept (×2) or (0, 0) when dropped → logits (12, −6) or (0, 0).
      const seen = new Set<string>();
      const rng = new Rng(7);
      for (let k = 0; k < 40; k++) {
        const y = forward(spec, dev, x, { dropoutRng: rng });
        const [row] = rows(y);
        y.dispose();
        seen.add(row!.map((v) => Math.round(v * 1e4) / 1e4 + 0).join(','));
      }
      expect([...seen].sort()).toEqual(['0,0', '12,-6']);
    } finally {
      x.dispose();
      disposeParams(dev);
    }
  });

  for (const bias of [false, true]) {
    it(`CNN 'valid' ${bias ? 'with' : 'without'} bias: hand values and channel-fastest flatten`, () => {
      const spec = cnnSpec(bias, 'valid', false);
      const r = run(spec, cnnParams(bias, 8), IMG, 1);
      const feats = bias ? VALID_FEATS_BIAS : VALID_FEATS_NOBIAS;
      expect(maxRelErr(r.feats[0]!, feats)).toBeLessThan(1e-6);
      // Head by hand: out0 = feats[0] (+ −1), out1 = feats[3] + 0.01·feats[4] (+ 2).
      const want = [feats[0]! + (bias ? -1 : 0), feats[3]! + 0.01 * feats[4]! + (bias ? 2 : 0)];
      expect(maxRelErr(r.logits[0]!, want)).toBeLessThan(1e-6);
      // An NCHW (channel-slowest) flatten would have put f0(0,1) = 63 at index 1; channel-fastest puts f1(0,0) there.
      expect(r.feats[0]![1]).toBe(bias ? 5 : 0);
    });

    it(`CNN 'same' + 2×2 max-pool ${bias ? 'with' : 'without'} bias: hand values`, () => {
      const spec = cnnSpec(bias, 'same', true);
      const r = run(spec, cnnParams(bias, 8), IMG, 1);
      const feats = bias ? POOL_FEATS_BIAS : POOL_FEATS_NOBIAS;
      expect(maxRelErr(r.feats[0]!, feats)).toBeLessThan(1e-6);
      const want = [feats[0]! + (bias ? -1 : 0), feats[3]! + 0.01 * feats[4]! + (bias ? 2 : 0)];
      expect(maxRelErr(r.logits[0]!, want)).toBeLessThan(1e-6);
    });
  }

  it("CNN 'same' without pooling: hand values at corners and centre", () => {
    const spec = cnnSpec(false, 'same', false);
    const r = run(spec, cnnParams(false, 32), IMG, 1);
    const f = r.feats[0]!;
    const idx = (y: number, x: number, ch: number): number => (y * 4 + x) * 2 + ch;
    expect(f[idx(0, 0, 0)]).toBeCloseTo(14, 5);
    expect(f[idx(1, 1, 0)]).toBeCloseTo(54, 5);
    expect(f[idx(3, 3, 0)]).toBeCloseTo(54, 5);
    expect(f[idx(0, 0, 1)]).toBe(0);
    expect(f[idx(1, 1, 1)]).toBe(0);
    // Head output 1 reads flat index 3 = f1 at (0,1) and 4 = f0 at (0,2) = 2+3+4+6+7+8 = 30.
    expect(r.logits[0]![1]).toBeCloseTo(0.01 * 30, 5);
  });

  const randomCases: { name: string; spec: ArchSpec }[] = [];
  for (const bias of [false, true]) {
    randomCases.push({
      name: `MLP 6-5-4-3 ${bias ? 'bias' : 'no bias'}`,
      spec: { input: [1, 2, 3], layers: [{ type: 'dense', units: 5, bias, dropout: 0 }, { type: 'dense', units: 4, bias, dropout: 0 }, { type: 'dense', units: 3, bias, dropout: 0 }] },
    });
    randomCases.push({
      name: `CNN 5×5×2 same/s2 → valid+pool → dense ${bias ? 'bias' : 'no bias'}`,
      spec: {
        input: [5, 6, 2],
        layers: [
          { type: 'conv', filters: 3, kernel: 3, stride: 1, padding: 'same', bias, pool: null, dropout: 0 },
          { type: 'conv', filters: 4, kernel: 3, stride: 2, padding: 'same', bias, pool: null, dropout: 0 },
          { type: 'conv', filters: 2, kernel: 2, stride: 1, padding: 'valid', bias, pool: { size: 2, stride: 1 }, dropout: 0 },
          { type: 'dense', units: 3, bias, dropout: 0 },
        ],
      },
    });
  }

  // Stride larger than the kernel with 'same' padding: TensorFlow's total padding (out−1)·s + k − in is negative
  // (6×5 input, 2×2 kernel, stride 3), a case tfjs' wasm backend computes wrongly unless worked around.
  for (const bias of [false, true]) {
    randomCases.push({
      name: `CNN 6×5×2 'same' k2/s3 (stride beyond the kernel) → dense ${bias ? 'bias' : 'no bias'}`,
      spec: {
        input: [6, 5, 2],
        layers: [
          { type: 'conv', filters: 3, kernel: 2, stride: 3, padding: 'same', bias, pool: null, dropout: 0 },
          { type: 'dense', units: 2, bias, dropout: 0 },
        ],
      },
    });
  }

  it.each(randomCases)('$name agrees with the float64 reference, and penultimate + topLayer = forward', ({ spec }) => {
    const p: HostParams = {};
    let seed = 11;
    let inC = spec.input[2];
    let h = spec.input[0];
    let w = spec.input[1];
    spec.layers.forEach((l, k) => {
      const i = k + 1;
      if (l.type === 'conv') {
        p[`A${i}.w`] = host([l.kernel, l.kernel, inC, l.filters], values(l.kernel * l.kernel * inC * l.filters, seed++));
        if (l.bias) p[`A${i}.b`] = host([l.filters], values(l.filters, seed++));
        h = l.padding === 'same' ? Math.ceil(h / l.stride) : Math.floor((h - l.kernel) / l.stride) + 1;
        w = l.padding === 'same' ? Math.ceil(w / l.stride) : Math.floor((w - l.kernel) / l.stride) + 1;
        if (l.pool) {
          h = Math.floor((h - l.pool.size) / l.pool.stride) + 1;
          w = Math.floor((w - l.pool.size) / l.pool.stride) + 1;
        }
        inC = l.filters;
      } else {
        const nin = h * w * inC;
        p[`A${i}.w`] = host([nin, l.units], values(nin * l.units, seed++));
        if (l.bias) p[`A${i}.b`] = host([l.units], values(l.units, seed++));
        h = 1;
        w = 1;
        inC = l.units;
      }
    });
    const n = 3;
    const per = spec.input[0] * spec.input[1] * spec.input[2];
    const x = values(n * per, 99, -2, 2);
    const r = run(spec, p, x, n);
    const ref = forwardRef(spec, p, x, n);
    for (let s = 0; s < n; s++) {
      expect(maxRelErr(r.feats[s]!, ref.features[s]!)).toBeLessThan(1e-5);
      expect(maxRelErr(r.logits[s]!, ref.logits[s]!)).toBeLessThan(1e-5);
    }
    // The top layer applied to the penultimate features gives forward's logits (same ops, so exactly).
    expect(r.top).toEqual(r.logits);
  });

  it('accepts NHWC rank-4 input as well as flattened rows', () => {
    const spec = cnnSpec(true, 'valid', false);
    const dev = toDevice(cnnParams(true, 8));
    const x4 = tf.tensor(IMG, [1, 4, 4, 1]);
    try {
      const y = forward(spec, dev, x4);
      expect(maxRelErr(rows(y)[0]!, [54.5 - 1, 5 + 0.01 * 90.5 + 2])).toBeLessThan(1e-6);
      y.dispose();
    } finally {
      x4.dispose();
      disposeParams(dev);
    }
  });
});
