import { describe, expect, it } from 'vitest';
import {
  counterexampleData,
  counterexampleMetrics,
  curvePoint,
  flatten,
  gradient,
  predict,
  studentMinimizer,
  teacherMinimizer,
  trainCurve,
  unflatten,
} from '../../src-main/engine/theory/counterexample';

describe('Theorem 4 counterexample', () => {
  it.each([2, 3, 4, 6])('width h = %i: sizes satisfy k > h, l−k > h, m−l > 2, n−m > h and the labels follow the teacher', (h) => {
    const d = counterexampleData(h);
    const { k, l, m, n } = d.sizes;
    expect(k).toBeGreaterThan(h);
    expect(l - k).toBeGreaterThan(h);
    expect(m - l).toBeGreaterThan(2);
    expect(n - m).toBeGreaterThan(h);
    expect(d.x).toHaveLength(n);
    d.x.forEach((row) => expect(row).toHaveLength(h + 2));
    // φ(f_1) − φ(f_2) = y and Σ_{j ≥ 3} φ(f_j) = y on every row: both networks fit exactly.
    const relu = (v: number) => Math.max(0, v);
    d.x.forEach((row, i) => {
      expect(relu(row[0]!) - relu(row[1]!)).toBe(d.y[i]);
      expect(row.slice(2).reduce((s, v) => s + relu(v), 0)).toBe(d.y[i]);
    });
  });

  it('both minimizers have exactly zero loss; the straight line between them does not', () => {
    for (const h of [3, 4, 5]) {
      const d = counterexampleData(h);
      const T = teacherMinimizer(h);
      const S = studentMinimizer(h);
      expect(counterexampleMetrics(T, d)).toEqual({ loss: 0, acc: 1 });
      expect(counterexampleMetrics(S, d)).toEqual({ loss: 0, acc: 1 });
      // The teacher has a negative output weight, the student only positive ones (the proof's first step).
      expect(T.w.some((w) => w < 0)).toBe(true);
      expect(S.w.every((w) => w > 0)).toBe(true);
      const a = flatten(T);
      const b = flatten(S);
      const mid = counterexampleMetrics(unflatten(a.map((v, i) => 0.5 * v + 0.5 * b[i]!), h), d);
      expect(mid.loss).toBeGreaterThan(0.1);
    }
  });

  it('the trained curves lower the barrier but every point keeps a positive loss', () => {
    const h = 4;
    const d = counterexampleData(h);
    const a = flatten(teacherMinimizer(h));
    const b = flatten(studentMinimizer(h));
    for (const kind of ['bezier', 'polychain'] as const) {
      const c = trainCurve(kind, a, b, d, 3000, 0.01, 7);
      const losses = Array.from({ length: 41 }, (_, k) => counterexampleMetrics(unflatten(curvePoint(kind, a, c, b, k / 40).theta, h), d).loss);
      const line = Array.from({ length: 41 }, (_, k) => counterexampleMetrics(unflatten(a.map((v, i) => (1 - k / 40) * v + (k / 40) * b[i]!), h), d).loss);
      expect(losses[0]).toBe(0);
      expect(losses[40]).toBe(0);
      expect(Math.max(...losses)).toBeLessThan(Math.max(...line));
      expect(Math.max(...losses.slice(1, 40))).toBeGreaterThan(0);
    }
  });

  it('has an exact gradient (finite differences)', () => {
    const h = 3;
    const d = counterexampleData(h);
    const v = flatten(studentMinimizer(h)).map((x, i) => x + 0.1 * Math.sin(i + 1));
    const g = gradient(unflatten(v, h), d);
    const loss = (w: number[]) => counterexampleMetrics(unflatten(w, h), d).loss;
    for (const i of [0, 5, 7, v.length - 1]) {
      const e = 1e-6;
      const up = [...v];
      const dn = [...v];
      up[i]! += e;
      dn[i]! -= e;
      expect(g[i]).toBeCloseTo((loss(up) - loss(dn)) / (2 * e), 4);
    }
    expect(predict(studentMinimizer(h), d.x[0]!)).toBe(1);
  });
});
