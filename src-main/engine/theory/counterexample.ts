/**
 * Theorem 4 (arXiv:1906.06247 §5, proof in App. C): for any width h, a dataset labelled by a two-unit ReLU teacher on
 * which the two-layer bias-free student f_θ(x) = wᵀφ(Ax) with h hidden units has two exact global minimizers (squared
 * loss) that no path of zero loss connects.
 * Data (rows i = 1…n, features f_1 … f_{h+2}), with k = h+1, l = k+h+1, m = l+3, n = m+h+1 (so k > h, l−k > h,
 * m−l > 2, n−m > h):
 *   i ≤ l:      f_1 = i, f_2 = i−1; f_j (j ≥ 3) = 1 if i ≡ j (mod h), else −1 (i ≤ k) or 0 (k < i ≤ l)
 *   l < i ≤ m:  f_1, f_2 = −1 if i ≡ j (mod 2), else 0; f_j = 0 for j ≥ 3
 *   i > m:      f_1 = f_2 = 0; f_j = −1 if i ≡ j (mod h), else 0
 *   y_i = 1 for i ≤ l, else 0.
 * Minimizer "teacher": units 1, 2 read f_1, f_2 with output weights +1, −1 (φ(f_1) − φ(f_2) = y).
 * Minimizer "student": unit j reads f_{j+2} with output weight +1 (Σ_j φ(f_{j+2}) = y).
 * Everything here is float64 host arithmetic: the problem is tiny and the zero losses are exact.
 */

export interface CounterexampleData {
  h: number;
  sizes: { k: number; l: number; m: number; n: number };
  /** n rows of h+2 features. */
  x: number[][];
  y: number[];
}

export function counterexampleData(h: number): CounterexampleData {
  if (!Number.isInteger(h) || h < 2) throw new Error('the width h must be an integer ≥ 2');
  const k = h + 1;
  const l = k + h + 1;
  const m = l + 3;
  const n = m + h + 1;
  const x: number[][] = [];
  const y: number[] = [];
  const mod = (a: number, b: number): number => ((a % b) + b) % b;
  for (let i = 1; i <= n; i++) {
    const row = Array.from({ length: h + 2 }, () => 0);
    for (let j = 1; j <= h + 2; j++) {
      let v = 0;
      if (i <= l) {
        if (j === 1) v = i;
        else if (j === 2) v = i - 1;
        else v = mod(i, h) === mod(j, h) ? 1 : i <= k ? -1 : 0;
      } else if (i <= m) {
        v = j <= 2 ? (mod(i, 2) === mod(j, 2) ? -1 : 0) : 0;
      } else {
        v = j <= 2 ? 0 : mod(i, h) === mod(j, h) ? -1 : 0;
      }
      row[j - 1] = v;
    }
    x.push(row);
    y.push(i <= l ? 1 : 0);
  }
  return { h, sizes: { k, l, m, n }, x, y };
}

/** Student parameters: A (h × (h+2), row j = unit j's input weights) and w (h output weights). */
export interface StudentParams {
  A: number[][];
  w: number[];
}

export function teacherMinimizer(h: number): StudentParams {
  const A = Array.from({ length: h }, () => Array.from({ length: h + 2 }, () => 0));
  const w = Array.from({ length: h }, () => 0);
  A[0]![0] = 1;
  A[1]![1] = 1;
  w[0] = 1;
  w[1] = -1;
  return { A, w };
}

export function studentMinimizer(h: number): StudentParams {
  const A = Array.from({ length: h }, (_, j) => Array.from({ length: h + 2 }, (_, c) => (c === j + 2 ? 1 : 0)));
  return { A, w: Array.from({ length: h }, () => 1) };
}

export function predict(p: StudentParams, x: number[]): number {
  return p.A.reduce((s, row, j) => s + p.w[j]! * Math.max(0, row.reduce((a, v, c) => a + v * x[c]!, 0)), 0);
}

/** Mean squared error and "accuracy" (fraction of |f(x) − y| < ½, i.e. the rounded prediction is the label). */
export function counterexampleMetrics(p: StudentParams, data: CounterexampleData): { loss: number; acc: number } {
  let loss = 0;
  let hit = 0;
  data.x.forEach((row, i) => {
    const e = predict(p, row) - data.y[i]!;
    loss += e * e;
    if (Math.abs(e) < 0.5) hit++;
  });
  return { loss: loss / data.x.length, acc: hit / data.x.length };
}

/** Flat vector ↔ parameters (A row-major, then w). */
export function flatten(p: StudentParams): number[] {
  return [...p.A.flat(), ...p.w];
}

export function unflatten(v: number[], h: number): StudentParams {
  const d = h + 2;
  return { A: Array.from({ length: h }, (_, j) => v.slice(j * d, (j + 1) * d)), w: v.slice(h * d, h * d + h) };
}

/** ∇ of the mean squared error with respect to the flat parameters. */
export function gradient(p: StudentParams, data: CounterexampleData): number[] {
  const h = p.w.length;
  const d = h + 2;
  const g = Array.from({ length: h * d + h }, () => 0);
  const n = data.x.length;
  data.x.forEach((row, i) => {
    const pre = p.A.map((a) => a.reduce((s, v, c) => s + v * row[c]!, 0));
    const f = pre.reduce((s, z, j) => s + p.w[j]! * Math.max(0, z), 0);
    const e = (2 * (f - data.y[i]!)) / n;
    pre.forEach((z, j) => {
      g[h * d + j]! += e * Math.max(0, z);
      if (z > 0) for (let c = 0; c < d; c++) g[j * d + c]! += e * p.w[j]! * row[c]!;
    });
  });
  return g;
}

export type CurveKind = 'bezier' | 'polychain';

/** θ(t) on a quadratic Bézier curve or a one-bend polygonal chain through bend C, and dθ/dC (a scalar). */
export function curvePoint(kind: CurveKind, a: number[], c: number[], b: number[], t: number): { theta: number[]; dC: number } {
  if (kind === 'bezier') {
    const [wa, wc, wb] = [(1 - t) ** 2, 2 * t * (1 - t), t * t];
    return { theta: a.map((v, i) => wa * v + wc * c[i]! + wb * b[i]!), dC: wc };
  }
  if (t <= 0.5) return { theta: a.map((v, i) => (1 - 2 * t) * v + 2 * t * c[i]!), dC: 2 * t };
  return { theta: c.map((v, i) => (2 - 2 * t) * v + (2 * t - 1) * b[i]!), dC: 2 - 2 * t };
}

/**
 * Trains the bend of a curve between two fixed endpoints (Garipov et al. 2018): at each step sample t ~ U(0, 1) and
 * take an Adam step on the loss at θ(t) with respect to the bend. Starts from the straight line's midpoint.
 */
export function trainCurve(kind: CurveKind, a: number[], b: number[], data: CounterexampleData, steps: number, lr: number, seed: number): number[] {
  let s = seed >>> 0 || 1;
  const rand = (): number => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
  const h = data.h;
  const c = a.map((v, i) => 0.5 * (v + b[i]!) + 0.01 * (rand() - 0.5));
  const m = c.map(() => 0);
  const v2 = c.map(() => 0);
  for (let k = 1; k <= steps; k++) {
    const t = rand();
    const { theta, dC } = curvePoint(kind, a, c, b, t);
    const g = gradient(unflatten(theta, h), data);
    for (let i = 0; i < c.length; i++) {
      const gi = g[i]! * dC;
      m[i] = 0.9 * m[i]! + 0.1 * gi;
      v2[i] = 0.999 * v2[i]! + 0.001 * gi * gi;
      c[i]! -= (lr * (m[i]! / (1 - 0.9 ** k))) / (Math.sqrt(v2[i]! / (1 - 0.999 ** k)) + 1e-8);
    }
  }
  return c;
}
