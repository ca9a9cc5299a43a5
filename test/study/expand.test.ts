import { describe, expect, it } from 'vitest';
import { cellCount, expandStudy, resolveStudy, trialSeed } from '../../src-main/engine/study/expand';
import { formatFieldPath, parseFieldPath, setField } from '../../src-main/engine/study/field-path';
import { loadStudyPreset } from '../../src-main/engine/study/presets';
import { deriveSeed } from '../../src-main/engine/util/rng';
import type { Recipe } from '../../src-main/engine/recipe/schema';

describe('field paths', () => {
  it('parses dotted keys and [i] indices and writes them back', () => {
    expect(parseFieldPath('paths[2].p')).toEqual(['paths', 2, 'p']);
    expect(parseFieldPath('architecture.hidden')).toEqual(['architecture', 'hidden']);
    expect(parseFieldPath('a[0][1].b')).toEqual(['a', 0, 1, 'b']);
    expect(formatFieldPath(['paths', 2, 'p'])).toBe('paths[2].p');
    for (const bad of ['', 'a..b', 'a[x]', 'a.[0]', '1a', '__proto__.x', 'a.constructor']) expect(() => parseFieldPath(bad)).toThrow(/not a recipe field path/);
  });

  it('sets a field on a copy, leaving the document as it was', () => {
    const doc = { a: { b: [1, { c: 2 }] } };
    expect(setField(doc, ['a', 'b', 1, 'c'], 5)).toEqual({ a: { b: [1, { c: 5 }] } });
    expect(setField(doc, ['a', 'new'], 'x')).toEqual({ a: { b: [1, { c: 2 }], new: 'x' } });
    expect(doc).toEqual({ a: { b: [1, { c: 2 }] } });
  });

  it('names the path and the missing step of an unknown field in one line', () => {
    const doc = { a: { b: [1] } };
    expect(() => setField(doc, ['x', 'y'], 1)).toThrow("unknown field 'x.y': the recipe has no 'x'");
    expect(() => setField(doc, ['a', 'b', 3], 1)).toThrow("unknown field 'a.b[3]': a.b has 1 entries");
    expect(() => setField(doc, ['a', 0], 1)).toThrow("unknown field 'a[0]': a is not a list");
    expect(() => setField(doc, ['a', 'b', 0, 'z'], 1)).toThrow("unknown field 'a.b[0].z': a.b[0] is not an object");
  });
});

const base = {
  name: 'tiny',
  dataset: { name: 'gaussian-mixture', classes: 2, dim: 4, train: 100, test: 50, seed: 0 },
  architecture: { type: 'mlp', hidden: [8] },
  training: { epochs: 1 },
  paths: [{ type: 'linear', points: 3 }, { type: 'theorem2' }],
};

describe('study expansion', () => {
  it('makes every combination × trials, first axis slowest, trials fastest, each recipe set and validated', () => {
    const s = resolveStudy({ base: { config: base }, axes: [{ field: 'architecture.hidden', values: [[4], [8], [16]] }, { field: 'paths[1].p', values: [0.5, 0.75] }], trials: 2, seed: 3 }, 'test');
    expect(s.name).toBe('tiny');
    const cells = expandStudy(s);
    expect(cells).toHaveLength(12);
    expect(cellCount(s)).toBe(12);
    expect(cells.map((c) => [c.group, c.trial])).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5].map((g, i) => [g, i % 2]));
    const c5 = cells[5]!;
    expect(c5.settings).toEqual([{ field: 'architecture.hidden', value: [8] }, { field: 'paths[1].p', value: 0.5 }]);
    expect(c5.label).toBe('architecture.hidden=[8] paths[1].p=0.5');
    const r = c5.recipe as Recipe;
    expect(r.architecture.type === 'mlp' && r.architecture.hidden).toEqual([8]);
    expect(r.paths[1]!.type === 'theorem2' && r.paths[1]!.p).toBe(0.5);
    expect(r.name).toBe('tiny architecture.hidden=[8] paths[1].p=0.5 trial 1');
  });

  it('seeds trial t with deriveSeed(study seed, "trial t"), the same in every combination', () => {
    const cells = expandStudy(resolveStudy({ base: { config: base }, axes: [{ field: 'training.epochs', values: [1, 2] }], trials: 3, seed: 11 }, 'test'));
    expect(trialSeed(11, 2)).toBe(deriveSeed(11, 'trial 2'));
    expect(cells.map((c) => c.seed)).toEqual([0, 1, 2, 0, 1, 2].map((t) => deriveSeed(11, `trial ${t}`)));
    expect(cells.map((c) => (c.recipe as Recipe).seed)).toEqual(cells.map((c) => c.seed));
    expect(new Set(cells.slice(0, 3).map((c) => c.seed)).size).toBe(3);
  });

  it('refuses a cell the recipe schema refuses, naming the cell and the field', () => {
    const s = resolveStudy({ base: { config: base }, axes: [{ field: 'training.epochs', values: [1, -2] }] }, 'test');
    expect(() => expandStudy(s)).toThrow(/^study tiny cell 1 \(training\.epochs=-2\): training\.epochs: /);
    const typo = resolveStudy({ base: { config: base }, axes: [{ field: 'architecture.hiden', values: [[4]] }] }, 'test');
    expect(() => expandStudy(typo)).toThrow(/cell 0 .*architecture.*hiden/);
    const unknown = resolveStudy({ base: { config: base }, axes: [{ field: 'trainng.epochs', values: [1] }] }, 'test');
    expect(() => expandStudy(unknown)).toThrow("unknown field 'trainng.epochs': the recipe has no 'trainng'");
  });

  it('refuses what would make trials repeat or the study set twice', () => {
    const fixed = { ...base, endpoints: [{ name: 'A', seed: 4 }, { name: 'B' }] };
    expect(() => expandStudy(resolveStudy({ base: { config: fixed }, trials: 2 }, 'test'))).toThrow(/endpoints\[0\]\.seed is fixed/);
    expect(() => expandStudy(resolveStudy({ base: { config: base }, axes: [{ field: 'seed', values: [1, 2] }] }, 'test'))).toThrow(/set by the study itself/);
    expect(() => expandStudy(resolveStudy({ base: { config: base }, axes: [{ field: 'training.epochs', values: [1] }, { field: 'training.epochs', values: [2] }] }, 'test'))).toThrow(/given twice/);
    expect(() => expandStudy(resolveStudy({ base: { config: base }, axes: [{ field: 'training.epochs', values: Array(101).fill(1) }, { field: 'training.batchSize', values: Array(101).fill(8) }] }, 'test'))).toThrow(/10201 cells, more than the 10000/);
  });

  it('validates the study document in one line: unknown keys, bad trials, no quick variant', () => {
    expect(() => resolveStudy({ base: { config: base }, trails: 2 }, 'f.json')).toThrow(/^f\.json: \(root\): Unrecognized key/);
    expect(() => resolveStudy({ base: { config: base }, trials: 0 }, 'f.json')).toThrow(/^f\.json: trials: /);
    expect(() => resolveStudy({ base: { preset: 'nope' } }, 'f.json')).toThrow(/unknown preset 'nope'/);
    expect(() => resolveStudy({ base: { config: base } }, 'f.json', { quick: true })).toThrow('f.json: this study has no --quick variant (no "quick" section)');
  });

  it('resolves a preset base into the document and folds --quick in', () => {
    const s = resolveStudy(
      { base: { preset: 'smoke' }, axes: [{ field: 'training.epochs', values: [5, 10] }], trials: 3, quick: { description: 'less', trials: 1, axes: [{ field: 'training.epochs', values: [1] }], set: [{ field: 'dataset.train', value: 200 }] } },
      'test',
      { quick: true },
    );
    expect(s.name).toBe('smoke-quick');
    expect(s.trials).toBe(1);
    expect(s.quick).toBeUndefined();
    expect((s.base.config.dataset as { train: number }).train).toBe(200);
    expect(expandStudy(s)).toHaveLength(1);
  });

  it('ships a smoke-study preset of 2 widths × 2 trials', () => {
    const s = loadStudyPreset('smoke-study');
    expect(s.name).toBe('smoke-study');
    expect(expandStudy(s).map((c) => c.label)).toEqual(['architecture.hidden=[8,8]', 'architecture.hidden=[8,8]', 'architecture.hidden=[16,16]', 'architecture.hidden=[16,16]']);
    expect(expandStudy(loadStudyPreset('smoke-study', { quick: true }))).toHaveLength(2);
    expect(() => loadStudyPreset('nope')).toThrow(/unknown study preset 'nope' \(study presets: .*smoke-study/);
  });
});
