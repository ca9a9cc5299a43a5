/**
 * The "one chart for all" recipe end to end on synthetic data: the five path kinds of mnist-mlp-compare between the
 * same endpoints, on the same grid, the side-by-side barrier table, and the loss plane through A, B, π(B) with every
 * path projected; the document validates against docs/run-json.schema.json.
 */
import Ajv from 'ajv';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { comparison, planeSummary } from '../../src-main/cli/summary';
import { type BackendRecord, selectBackend } from '../../src-main/engine/backend/backends';
import { alignmentOf } from '../../src-main/engine/experiment/construction';
import { loadPreset } from '../../src-main/engine/recipe/presets';
import { parseRecipe } from '../../src-main/engine/recipe/resolve';
import type { RunResult } from '../../src-main/engine/experiment/result';
import { runRecipe } from '../../src-main/engine/experiment/run';

const recipe = {
  name: 'compare-small',
  seed: 3,
  dataset: { name: 'gaussian-mixture', classes: 4, dim: 16, clustersPerClass: 2, train: 1200, test: 600, separation: 4, noise: 1, seed: 0 },
  architecture: { type: 'mlp', hidden: [48, 48], bias: true, dropout: 0 },
  training: { optimizer: 'sgd', lr: 0.05, momentum: 0.9, batchSize: 64, epochs: 12, schedule: { type: 'cosine', minLr: 0 } },
  paths: [
    { type: 'linear', points: 21 },
    { type: 'aligned-linear', method: 'weight', points: 21 },
    { type: 'bezier', order: 2, epochs: 4, points: 21 },
    { type: 'polychain', bends: 1, epochs: 4, points: 21 },
    { type: 'theorem1', perSegment: 2 },
  ],
  plane: { size: 7, trainSamples: 500, testSamples: 300 },
  evaluation: { trainSamples: null, testSamples: null, batchSize: 600 },
};

const root = path.resolve(__dirname, '..', '..');
const ajv = new Ajv({ allErrors: true, allowUnionTypes: true });
const validate = ajv.compile(JSON.parse(readFileSync(path.join(root, 'docs', 'run-json.schema.json'), 'utf8')) as object);

describe('the comparison recipe', () => {
  let doc: RunResult;
  beforeAll(async () => {
    const backend: BackendRecord = await selectBackend('wasm');
    doc = JSON.parse(JSON.stringify(await runRecipe(parseRecipe(recipe), { backend }))) as RunResult;
  }, 300_000);

  it('validates against the run document schema', () => {
    expect(validate(doc) ? '' : ajv.errorsText(validate.errors)).toBe('');
  });

  it('builds every path between the same endpoints, evaluates them on the same grid and checks them', () => {
    expect(doc.paths.map((p) => p.kind)).toEqual(['linear', 'aligned-linear', 'bezier', 'polychain', 'theorem1']);
    const [A, B] = doc.endpoints;
    for (const p of doc.paths) {
      expect([p.from, p.to]).toEqual(['A', 'B']);
      expect(p.check.pass).toBe(true);
      // t = 0 and t = 1 reproduce the endpoints' own metrics exactly (π(θ_B) computes θ_B's function).
      expect(p.points[0]!.train.loss).toBe(A!.train.loss);
      expect(p.points[p.points.length - 1]!.train.loss).toBeCloseTo(B!.train.loss, 5);
    }
    for (const p of doc.paths.slice(0, 4)) expect(p.points.map((q) => q.t)).toEqual(doc.paths[0]!.points.map((q) => q.t));
    expect(doc.paths[3]!.points.some((q) => q.t === 0.5)).toBe(true); // the polychain's bend is a grid point
  });

  it('each path records its construction in the fields its kind declares: renormalisation and BN folding included', () => {
    const [line, aligned, bezier, , t1] = doc.paths;
    expect(line!.kind === 'linear' && line!.construction).toEqual({ renormalize: 'none' });
    expect(aligned!.kind === 'aligned-linear' && aligned!.construction.renormalize).toBe('none');
    expect(bezier!.kind === 'bezier' && 'curve' in bezier!.construction && bezier!.construction.curve).toEqual({ type: 'bezier', order: 2, freeControlPoints: 1 });
    // No BatchNorm here: the path is built between the endpoints themselves, and the plane projects it.
    expect(t1!.kind === 'theorem1' && t1!.construction.foldedBatchNorm).toBeNull();
    expect(doc.plane!.paths.map((p) => p.name)).toContain(t1!.name);
  });

  it('weight matching lowers the barrier of the straight line, reports before and after, and keeps θ_B\'s function', () => {
    const [naive, aligned] = [doc.paths[0]!, doc.paths[1]!];
    const a = alignmentOf(aligned)!;
    expect(a.barrierBefore.source).toBe('path linear');
    expect(a.barrierBefore.barrier).toEqual(naive.barrier);
    expect(a.converged).toBe(true);
    expect(a.permutation.map((q) => q.length)).toEqual([48, 48]);
    expect(aligned.check.endFunction!.pass).toBe(true);
    expect(aligned.barrier.train.lossOverInterpolation.value).toBeLessThan(0.5 * naive.barrier.train.lossOverInterpolation.value);
  });

  it('trained curves sit lower than the straight line', () => {
    const naive = doc.paths[0]!.barrier.train.lossOverInterpolation.value;
    for (const p of doc.paths.slice(2, 4)) expect(p.barrier.train.lossOverInterpolation.value).toBeLessThan(naive);
  });

  it('the plane through A, B and π(B): grid, the three points at their coordinates, every path projected', () => {
    const pl = doc.plane!;
    expect(pl.third).toEqual({ path: 'aligned-linear', vertex: 1 });
    expect(pl.grid.xs).toHaveLength(7);
    expect(pl.train.loss).toHaveLength(7);
    pl.train.loss.forEach((row) => expect(row).toHaveLength(7));
    expect(pl.points.map((p) => p.role)).toEqual(['origin', 'axis', 'third']);
    expect(pl.points[0]).toMatchObject({ x: 0, y: 0 });
    expect(pl.points[1]!.x).toBeCloseTo(pl.basis.lengthAB, 6);
    expect(pl.points[2]!.y).toBeCloseTo(pl.basis.thirdAcross, 6);
    // π(θ_B) computes θ_B's function: the same metrics at two different places of the plane.
    expect(pl.points[2]!.train.loss).toBeCloseTo(pl.points[1]!.train.loss, 5);
    expect(pl.paths.map((p) => p.name)).toEqual(doc.paths.map((p) => p.name));
    const line = pl.paths[0]!;
    line.y.forEach((y) => expect(Math.abs(y)).toBeLessThan(1e-6 * pl.basis.lengthAB));
    const aligned = pl.paths[1]!;
    expect(aligned.x[aligned.x.length - 1]).toBeCloseTo(pl.points[2]!.x, 5);
    pl.paths.forEach((p, k) => expect(p.t).toEqual(doc.paths[k]!.points.map((q) => q.t)));
  });

  it('the CLI summary shows the side-by-side table and the plane', () => {
    const t = comparison(doc.paths);
    for (const p of doc.paths) expect(t).toContain(p.name);
    expect(t).toMatch(/→/);
    const s = planeSummary(doc.plane!);
    expect(s).toContain('π(θ_B)');
    expect(s.split('\n').filter((l) => l.startsWith('  ')).length).toBe(7);
  });
});

describe('recipe validation for the new paths', () => {
  const bn = { ...recipe, architecture: { ...recipe.architecture, batchNorm: true } };
  it('refuses the theorem paths and stability measurements on BatchNorm networks unless folded', () => {
    expect(() => parseRecipe({ ...bn, paths: [{ type: 'theorem2' }] })).toThrow(/theorem2.*BatchNorm/);
    expect(() => parseRecipe({ ...bn, paths: [{ type: 'theorem1' }] })).toThrow(/foldBatchNorm/);
    expect(() => parseRecipe({ ...bn, paths: [{ type: 'theorem1', foldBatchNorm: true }], plane: undefined })).not.toThrow();
    expect(() => parseRecipe({ ...bn, paths: [{ type: 'linear' }], plane: undefined, stability: { dropout: {} } })).toThrow(/stability.*BatchNorm/);
  });

  it('needs a third point for the plane, and names a missing path', () => {
    expect(() => parseRecipe({ ...recipe, paths: [{ type: 'linear' }] })).toThrow(/plane/);
    expect(() => parseRecipe({ ...recipe, plane: { third: { path: 'nope', vertex: 1 } } })).toThrow(/nope/);
  });

  it('the mnist-mlp-compare preset parses: the five paths and the plane through π(θ_B)', () => {
    const r = loadPreset('mnist-mlp-compare');
    if ('experiment' in r) throw new Error('not a training recipe');
    expect(r.paths.map((p) => p.type)).toEqual(['linear', 'aligned-linear', 'bezier', 'polychain', 'theorem1']);
    expect(r.plane?.third).toEqual({ path: 'aligned-linear', vertex: -1 });
    const mlp = loadPreset('mnist-mlp');
    if ('experiment' in mlp) throw new Error('not a training recipe');
    expect(r.training).toEqual(mlp.training);
    expect(r.architecture).toEqual(mlp.architecture);
  });
});
