/**
 * The Theorem 4 counterexample paths' checks (issue 13 item 2: a check that cannot fail is a defect): the ends are the
 * path's own function at t = 0 and 1 against the minimizers, the segment count against the kind's definition, and
 * the theorem's claim — the path's maximum loss is above zero — each of which fails when it does not hold.
 */
import { describe, expect, it } from 'vitest';
import { checkLine } from '../../src-main/cli/summary';
import { selectBackend } from '../../src-main/engine/backend/backends';
import type { PathPoint } from '../../src-main/engine/eval/barrier';
import { counterexamplePathCheck } from '../../src-main/engine/experiment/counterexample-checks';
import { runCounterexample } from '../../src-main/engine/experiment/counterexample-run';
import { parseAnyRecipe } from '../../src-main/engine/recipe/resolve';
import type { CounterexampleRecipe } from '../../src-main/engine/recipe/schema';
import { counterexampleData, counterexampleMetrics, flatten, studentMinimizer, teacherMinimizer, unflatten } from '../../src-main/engine/theory/counterexample';
import { checkLines } from '../../src-renderer/src/views/run-view';

const h = 3;
const data = counterexampleData(h);
const a = flatten(teacherMinimizer(h));
const b = flatten(studentMinimizer(h));
const line = (t: number): number[] => a.map((v, i) => (1 - t) * v + t * b[i]!);
const pointsOf = (at: (t: number) => number[]): PathPoint[] =>
  [0, 0.25, 0.5, 0.75, 1].map((t) => {
    const m = counterexampleMetrics(unflatten(at(t), h), data);
    return { t, train: m, test: m };
  });

describe('counterexample path checks', () => {
  it('pass on the straight line: ends bit for bit, one segment, a positive maximum loss', () => {
    const c = counterexamplePathCheck({ kind: 'linear', at: line, from: a, to: b, segments: 1, points: pointsOf(line) });
    expect(c.state).toBe('pass');
    expect(c.pass).toBe(true);
    expect(c.endpoints).toEqual({ startsAtA: true, endsAtB: true });
    expect(c.segmentCount).toEqual({ expected: 1, actual: 1, pass: true });
    expect(c.theorem4!.maxLoss).toBeGreaterThan(0);
    expect(c.theorem4!.pass).toBe(true);
  });

  it('fail when the path does not end at the minimizer, whatever its vertex list says', () => {
    const off = (t: number): number[] => line(t).map((v, i) => (i === 0 ? v + t * 1e-12 : v));
    const c = counterexamplePathCheck({ kind: 'linear', at: off, from: a, to: b, segments: 1, points: pointsOf(off) });
    expect(c.endpoints).toEqual({ startsAtA: true, endsAtB: false });
    expect(c.state).toBe('fail');
    expect(c.pass).toBe(false);
  });

  it("fail when the segments are not the kind's (a polygonal chain has two)", () => {
    const c = counterexamplePathCheck({ kind: 'polychain', at: line, from: a, to: b, segments: 1, points: pointsOf(line) });
    expect(c.segmentCount).toEqual({ expected: 2, actual: 1, pass: false });
    expect(c.state).toBe('fail');
  });

  it("fail Theorem 4's claim on a path at zero loss everywhere, or with a loss that is not finite", () => {
    const flat = pointsOf(line).map((p) => ({ ...p, train: { loss: 0, acc: 1 }, test: { loss: 0, acc: 1 } }));
    const c = counterexamplePathCheck({ kind: 'linear', at: line, from: a, to: b, segments: 1, points: flat });
    expect(c.theorem4).toEqual({ maxLoss: 0, t: 0, pass: false });
    expect(c.state).toBe('fail');
    const nan = pointsOf(line).map((p, k) => (k === 2 ? { ...p, train: { loss: Number.NaN, acc: 0 } } : p));
    expect(counterexamplePathCheck({ kind: 'linear', at: line, from: a, to: b, segments: 1, points: nan }).theorem4!.pass).toBe(false);
  });

  it('a counterexample run reports these checks on every path (no hard-coded PASS)', async () => {
    const recipe = parseAnyRecipe({ name: 'c', experiment: 'counterexample', width: h, points: 21, curves: { steps: 200, lr: 0.01 } }, 'recipe') as CounterexampleRecipe;
    const r = await runCounterexample(recipe, { backend: await selectBackend('cpu') });
    expect(r.paths.map((p) => [p.name, p.check.state, p.check.segmentCount.expected, p.check.endpoints.startsAtA && p.check.endpoints.endsAtB])).toEqual([
      ['linear', 'pass', 1, true],
      ['bezier', 'pass', 1, true],
      ['polychain', 'pass', 2, true],
    ]);
    for (const p of r.paths) {
      const max = Math.max(...p.points.map((x) => x.train.loss));
      expect(p.check.theorem4).toEqual({ maxLoss: max, t: p.points.find((x) => x.train.loss === max)!.t, pass: true });
    }
    // Shown where checks are read: the CLI's check line and the run page's check lines.
    expect(checkLine(r.paths[0]!.check)).toMatch(/^PASS, ends exact yes, segments 1\/1, Theorem 4: max train loss [0-9.]+ at t=0\.[0-9]{3} > 0: yes$/);
    expect(checkLines(r.paths[2]!.check).map((l) => [l.label, l.state])).toEqual([
      ['ends exact', 'pass'],
      ['segments', 'pass'],
      ['Theorem 4: no zero-loss path', 'pass'],
    ]);
  });
});
