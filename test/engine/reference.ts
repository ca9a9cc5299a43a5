/**
 * Independent plain-JavaScript (float64) reference implementations used by the engine tests. Nothing here calls
 * tfjs: the forward pass is written out as loops over the documented layouts (dense [in, out], conv [kh, kw, in, out],
 * NHWC activations, flatten row-major over (h, w, c)), so the tests compare the engine against the conventions rather
 * than against itself.
 */
import type { HostParams, HostTensor } from '../../src-main/engine/nn/params';
import type { ArchSpec } from '../../src-main/engine/nn/spec';

/** An NHWC feature map of one sample (or a flat vector with h = w = 1). */
export interface Map3 {
  h: number;
  w: number;
  c: number;
  /** (y·w + x)·c + ch */
  data: Float64Array;
}

export const at = (m: Map3, y: number, x: number, ch: number): number => m.data[(y * m.w + x) * m.c + ch]!;

/** TensorFlow's 'same' padding: the total padding, the smaller half before. */
function samePad(inSize: number, k: number, s: number): { out: number; before: number } {
  const out = Math.ceil(inSize / s);
  const total = Math.max((out - 1) * s + k - inSize, 0);
  return { out, before: Math.floor(total / 2) };
}

export function conv2dRef(
  m: Map3,
  kernel: HostTensor,
  bias: HostTensor | undefined,
  stride: number,
  padding: 'same' | 'valid',
): Map3 {
  const [kh, kw, cin, cout] = kernel.shape as [number, number, number, number];
  if (cin !== m.c) throw new Error(`kernel expects ${cin} channels, map has ${m.c}`);
  let oh: number, ow: number, pt: number, pl: number;
  if (padding === 'same') {
    const a = samePad(m.h, kh, stride);
    const b = samePad(m.w, kw, stride);
    [oh, pt, ow, pl] = [a.out, a.before, b.out, b.before];
  } else {
    oh = Math.floor((m.h - kh) / stride) + 1;
    ow = Math.floor((m.w - kw) / stride) + 1;
    pt = 0;
    pl = 0;
  }
  const out = new Float64Array(oh * ow * cout);
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      for (let co = 0; co < cout; co++) {
        let s = bias ? bias.data[co]! : 0;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * stride + ky - pt;
          if (iy < 0 || iy >= m.h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * stride + kx - pl;
            if (ix < 0 || ix >= m.w) continue;
            for (let ci = 0; ci < cin; ci++) s += at(m, iy, ix, ci) * kernel.data[((ky * kw + kx) * cin + ci) * cout + co]!;
          }
        }
        out[(oy * ow + ox) * cout + co] = s;
      }
    }
  }
  return { h: oh, w: ow, c: cout, data: out };
}

export function maxPoolRef(m: Map3, size: number, stride: number): Map3 {
  const oh = Math.floor((m.h - size) / stride) + 1;
  const ow = Math.floor((m.w - size) / stride) + 1;
  const out = new Float64Array(oh * ow * m.c);
  for (let oy = 0; oy < oh; oy++)
    for (let ox = 0; ox < ow; ox++)
      for (let ch = 0; ch < m.c; ch++) {
        let best = -Infinity;
        for (let dy = 0; dy < size; dy++) for (let dx = 0; dx < size; dx++) best = Math.max(best, at(m, oy * stride + dy, ox * stride + dx, ch));
        out[(oy * ow + ox) * m.c + ch] = best;
      }
  return { h: oh, w: ow, c: m.c, data: out };
}

/** y[o] = b[o] + Σ_i x[i]·W[i, o] with W stored [in, out] row-major. */
export function denseRef(x: Float64Array, kernel: HostTensor, bias: HostTensor | undefined): Float64Array {
  const [nin, nout] = kernel.shape as [number, number];
  if (x.length !== nin) throw new Error(`dense expects ${nin} inputs, got ${x.length}`);
  const y = new Float64Array(nout);
  for (let o = 0; o < nout; o++) {
    let s = bias ? bias.data[o]! : 0;
    for (let i = 0; i < nin; i++) s += x[i]! * kernel.data[i * nout + o]!;
    y[o] = s;
  }
  return y;
}

export const reluRef = (v: Float64Array): Float64Array => v.map((z) => (z > 0 ? z : 0));

/** Per sample: the input of the top layer (flattened, row-major over h, w, c) and the logits. */
export function forwardRef(spec: ArchSpec, params: HostParams, x: ArrayLike<number>, n: number): { features: Float64Array[]; logits: Float64Array[] } {
  const [h, w, c] = spec.input;
  const per = h * w * c;
  const features: Float64Array[] = [];
  const logits: Float64Array[] = [];
  for (let s = 0; s < n; s++) {
    let m: Map3 = { h, w, c, data: Float64Array.from({ length: per }, (_, k) => x[s * per + k]!) };
    const d = spec.layers.length;
    spec.layers.forEach((layer, k) => {
      const i = k + 1;
      const W = params[`A${i}.w`]!;
      const b = layer.bias ? params[`A${i}.b`] : undefined;
      const last = i === d;
      if (last) features.push(m.data);
      if (layer.type === 'conv') {
        m = conv2dRef(m, W, b, layer.stride, layer.padding);
        m = { ...m, data: reluRef(m.data) };
        if (layer.pool) m = maxPoolRef(m, layer.pool.size, layer.pool.stride);
      } else {
        let y = denseRef(m.data, W, b);
        if (!last) y = reluRef(y);
        m = { h: 1, w: 1, c: y.length, data: y };
      }
    });
    logits.push(m.data);
  }
  return { features, logits };
}

/** Mean softmax cross-entropy in float64. */
export function crossEntropyRef(logits: Float64Array[], labels: ArrayLike<number>): number {
  let sum = 0;
  logits.forEach((z, s) => {
    const mx = Math.max(...z);
    let se = 0;
    for (const v of z) se += Math.exp(v - mx);
    sum += -(z[labels[s]!]! - mx - Math.log(se));
  });
  return sum / logits.length;
}

/** A HostTensor from numbers. */
export function host(shape: number[], values: ArrayLike<number>): HostTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  if (values.length !== n) throw new Error(`${values.length} values for shape [${shape}]`);
  return { shape, data: Float32Array.from(values as ArrayLike<number>) };
}

/** Deterministic pseudo-random values in [lo, hi), rounded to multiples of 1/64 (exact in float32). */
export function values(n: number, seed: number, lo = -1, hi = 1): number[] {
  let s = seed >>> 0;
  const out: number[] = [];
  for (let k = 0; k < n; k++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out.push(Math.round((lo + ((hi - lo) * s) / 4294967296) * 64) / 64);
  }
  return out;
}

/** Largest |a − b| / max(1, |b|) over two equal-length arrays. */
export function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!)));
  return m;
}

/** dL/dθ of the mean cross-entropy by central differences of the float64 reference loss, h = 1e−6 (float64 keeps the error near 1e−10). */
export function fdGrads(spec: ArchSpec, p: HostParams, x: Float32Array, y: Int32Array): Record<string, Float64Array> {
  const q: HostParams = {};
  // A float64 copy we can perturb without float32 rounding.
  const f64: Record<string, Float64Array> = {};
  for (const [k, v] of Object.entries(p)) f64[k] = Float64Array.from(v.data);
  const loss = (): number => {
    for (const [k, v] of Object.entries(p)) q[k] = { shape: v.shape, data: f64[k]! as unknown as Float32Array };
    return crossEntropyRef(forwardRef(spec, q, x, y.length).logits, y);
  };
  const h = 1e-6;
  const out: Record<string, Float64Array> = {};
  for (const k of Object.keys(p)) {
    const d = f64[k]!;
    const g = new Float64Array(d.length);
    for (let i = 0; i < d.length; i++) {
      const v = d[i]!;
      d[i] = v + h;
      const up = loss();
      d[i] = v - h;
      const down = loss();
      d[i] = v;
      g[i] = (up - down) / (2 * h);
    }
    out[k] = g;
  }
  return out;
}
