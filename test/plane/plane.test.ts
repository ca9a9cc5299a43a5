import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src-main/engine/backend/backends';
import { curvePath } from '../../src-main/engine/curves/curve';
import { DeviceSplit } from '../../src-main/engine/eval/evaluate';
import { evaluateHost } from '../../src-main/engine/eval/host';
import { type HostParams, initParams, maxAbsDiff } from '../../src-main/engine/nn/params';
import { recomputeBatchNorm } from '../../src-main/engine/nn/renormalize';
import type { ArchSpec } from '../../src-main/engine/nn/spec';
import { linearPath, pointAt } from '../../src-main/engine/paths/path';
import { evaluatePlaneGrid, planeCoordinates, planeFrame, planeGrid, planePoint, projectPath } from '../../src-main/engine/plane/plane';
import { resolveArchitecture } from '../../src-main/engine/recipe/resolve';
import { Rng } from '../../src-main/engine/util/rng';
import { randomCnn, randomMlp } from '../theory/helpers';

function randomSplit(spec: ArchSpec, n: number, seed: number, classes = 3): DeviceSplit {
  const f = spec.input[0] * spec.input[1] * spec.input[2];
  const rng = new Rng(seed);
  return new DeviceSplit({ x: Float32Array.from({ length: n * f }, () => rng.normal()), y: Int32Array.from({ length: n }, () => rng.int(classes)), n }, f, 64);
}

const relClose = (a: number, b: number, tol = 2e-5): boolean => Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));

const bnSpec = resolveArchitecture({ type: 'mlp', hidden: [10, 8], bias: true, dropout: 0, batchNorm: true }, [1, 1, 5], 3);
const nets: { name: string; spec: ArchSpec; make: (seed: number) => HostParams; bn?: boolean }[] = [
  { name: 'MLP (first layer factored)', spec: randomMlp(3, true, 1, 8).spec, make: (s) => randomMlp(3, true, s, 8).theta },
  { name: 'CNN (first layer factored)', spec: randomCnn(3, true, 1).spec, make: (s) => randomCnn(3, true, s).theta },
  { name: 'MLP with BatchNorm (statistics recomputed at every point)', spec: bnSpec, make: (s) => initParams(bnSpec, s), bn: true },
];

describe.each(['cpu', 'wasm'] as const)('on %s', (backend) => {
  beforeAll(async () => {
    await selectBackend(backend);
  });

  describe.each(nets)('$name', ({ spec, make, bn }) => {
    it("the plane's corners are the three networks: their plane points and losses equal the networks' own", async () => {
      const [A, B, C] = [make(1), make(2), make(3)];
      const f = planeFrame(A, B, C);
      expect(f.q).toBeGreaterThan(0);
      const at = [A, B, C].map((t) => planeCoordinates(f, t));
      expect(at[0]).toEqual({ x: 0, y: 0, offPlane: 0 });
      expect(at[1]!.x).toBeCloseTo(f.lengthAB, 9);
      expect(Math.abs(at[1]!.y)).toBeLessThan(1e-9);
      expect(at[2]!.x).toBeCloseTo(f.p, 9);
      expect(at[2]!.y).toBeCloseTo(f.q, 9);
      at.forEach((c) => expect(c.offPlane).toBeLessThan(1e-6 * f.lengthAB));
      [A, B, C].forEach((t, k) => expect(maxAbsDiff(planePoint(f, at[k]!.x, at[k]!.y), t)).toBeLessThan(1e-5));

      const train = randomSplit(spec, 150, 7);
      const test = randomSplit(spec, 90, 8);
      const xs = train.batches.map((b) => b.x);
      const transform = bn ? (theta: HostParams) => recomputeBatchNorm(spec, theta, xs) : undefined;
      // With no margin and θ_C above the segment, the grid's bottom corners are θ_A and θ_B.
      const grid = planeGrid(f, 3, 0);
      const r = await evaluatePlaneGrid(spec, f, grid, { train, test }, { transform, extra: at.map((c) => ({ x: c.x, y: c.y })) });
      const own = async (t: HostParams) => {
        const u = transform ? await transform(t) : t;
        return { train: await evaluateHost(spec, u, train), test: await evaluateHost(spec, u, test) };
      };
      const mine = await Promise.all([A, B, C].map(own));
      mine.forEach((m, k) => {
        expect(relClose(r.extra[k]!.train.loss, m.train.loss)).toBe(true);
        expect(relClose(r.extra[k]!.test.loss, m.test.loss)).toBe(true);
        expect(r.extra[k]!.train.acc).toBeCloseTo(m.train.acc, 6);
      });
      if (f.p >= 0 && f.p <= f.lengthAB) {
        expect(relClose(r.train.loss[0]![0]!, mine[0]!.train.loss)).toBe(true);
        expect(relClose(r.train.loss[0]![2]!, mine[1]!.train.loss)).toBe(true);
      }
      expect(r.train.loss).toHaveLength(3);
      expect(r.cost.factored).toBe(true);
      train.dispose();
      test.dispose();
    });
  });
});

describe('projection of paths onto the plane', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  });
  const { spec, theta: A } = randomMlp(3, true, 4, 7);
  const [B, C, D] = [initParams(spec, 5), initParams(spec, 6), initParams(spec, 7)];
  const f = planeFrame(A, B, C);

  it('the straight line A → B lies on the x axis; A → C runs to (p, q); both stay in the plane', () => {
    const ts = [0, 0.25, 0.5, 1];
    const ab = projectPath(f, linearPath(A, B), ts);
    ab.x.forEach((x, k) => expect(x).toBeCloseTo(ts[k]! * f.lengthAB, 6));
    ab.y.forEach((y) => expect(Math.abs(y)).toBeLessThan(1e-6));
    const ac = projectPath(f, linearPath(A, C), ts);
    ac.x.forEach((x, k) => expect(x).toBeCloseTo(ts[k]! * f.p, 6));
    ac.y.forEach((y, k) => expect(y).toBeCloseTo(ts[k]! * f.q, 6));
    [...ab.offPlane, ...ac.offPlane].forEach((o) => expect(o).toBeLessThan(1e-3));
  });

  it('curve points project exactly as the networks they are (coordinates and distance from the plane)', () => {
    const path = curvePath({ kind: 'bezier', free: 2 }, A, [C, D], B, 'b');
    const ts = [0, 0.2, 0.5, 0.77, 1];
    const pr = projectPath(f, path, ts);
    ts.forEach((t, k) => {
      const c = planeCoordinates(f, pointAt(path, t));
      expect(pr.x[k]).toBeCloseTo(c.x, 4);
      expect(pr.y[k]).toBeCloseTo(c.y, 4);
      expect(pr.offPlane[k]).toBeCloseTo(c.offPlane, 3);
    });
    expect(Math.max(...pr.offPlane)).toBeGreaterThan(0.1);
  });

  it('refuses a degenerate plane (third point on the line through A and B)', () => {
    const mid = planePoint(f, f.lengthAB / 2, 0);
    expect(() => planeFrame(A, B, mid)).toThrow(/line through/);
  });
});
