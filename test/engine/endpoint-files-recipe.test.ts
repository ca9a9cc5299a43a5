/**
 * Recipe endpoints read from files (recipe/schema.ts `weights`, `layout`, `names`): what validation refuses, paths
 * relative to the recipe file, the plan's "load" stage (a server's folders: test/engine/recipe-files.test.ts).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runPlan } from '../../src-main/engine/recipe/plan';
import { loadRecipeFile } from '../../src-main/engine/recipe/presets';
import { checkEndpointFiles, parseRecipe } from '../../src-main/engine/recipe/resolve';
import type { Recipe } from '../../src-main/engine/recipe/schema';
import { refusal } from './refusal';

const dir = mkdtempSync(path.join(os.tmpdir(), 'modelab-endpoint-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const withEndpoints = (endpoints: unknown[]): Record<string, unknown> => ({
  name: 'byo',
  dataset: { name: 'spirals' },
  architecture: { type: 'mlp', hidden: [8, 8] },
  training: { steps: 10 },
  endpoints,
});


describe('endpoints from files in a recipe', () => {
  it('accepts weights with a layout and a name map, and one trained endpoint beside it', () => {
    const r = parseRecipe(withEndpoints([{ name: 'A', weights: 'a.safetensors', layout: 'torch', names: { 'A1.w': 'fc.weight' } }, { name: 'B' }]));
    expect(r.endpoints[0]).toEqual({ name: 'A', weights: 'a.safetensors', layout: 'torch', names: { 'A1.w': 'fc.weight' } });
    expect(runPlan(r).stages.slice(0, 2).map((s) => s.label)).toEqual(['load A', 'train B']);
  });

  it.each([
    [[{ name: 'A', layout: 'torch' }], /endpoints\.0\.layout: only for an endpoint loaded from a file/],
    [[{ name: 'A', names: {} }], /endpoints\.0\.names: only for an endpoint loaded from a file/],
    [[{ name: 'A', weights: 'a.safetensors', training: { steps: 5 } }], /endpoints\.0\.training: an endpoint loaded from "weights" is not trained here/],
    [[{ name: 'A', weights: 'a.safetensors', seed: 3 }], /endpoints\.0\.seed: an endpoint loaded from "weights" is not trained here/],
    [[{ name: 'A', weights: 'a.pt' }], /endpoints\.0\.weights: weights a\.pt: give a \.safetensors file or a TensorFlow\.js model\.json/],
    [[{ name: 'A', weights: 'model.json', layout: 'torch' }], /endpoints\.0\.weights: .*keras layout/],
    [[{ name: 'A', weights: 'a.safetensors', layout: 'onnx' }], /endpoints\.0\.layout/],
  ])('refuses %j in one line naming the field', (endpoints, re) => {
    expect(refusal(() => parseRecipe(withEndpoints(endpoints)))).toMatch(re);
  });

  it('a recipe file’s weights are relative to its folder', () => {
    mkdirSync(path.join(dir, 'exp'), { recursive: true });
    const file = path.join(dir, 'exp', 'recipe.json');
    writeFileSync(file, JSON.stringify(withEndpoints([{ name: 'A', weights: 'nets/a.safetensors' }, { name: 'B', weights: '/abs/b.safetensors' }])));
    const r = loadRecipeFile(file) as Recipe;
    expect(r.endpoints.map((e) => e.weights)).toEqual([path.join(dir, 'exp', 'nets', 'a.safetensors'), '/abs/b.safetensors']);
  });
});

describe('weights files are checked before a run is stored', () => {
  it('a missing file or a folder is one line naming the endpoint', () => {
    mkdirSync(path.join(dir, 'a-folder.safetensors'), { recursive: true });
    const r = (w: string): Recipe => parseRecipe(withEndpoints([{ name: 'A' }, { name: 'B', weights: w }]));
    expect(refusal(() => checkEndpointFiles(r(path.join(dir, 'none.safetensors'))))).toMatch(/^recipe: endpoints\.1\.weights: weights file not found: .*none\.safetensors$/);
    expect(refusal(() => checkEndpointFiles(r(path.join(dir, 'a-folder.safetensors'))))).toMatch(/endpoints\.1\.weights: weights .* is a folder, not a file/);
    writeFileSync(path.join(dir, 'there.safetensors'), '');
    expect(() => checkEndpointFiles(r(path.join(dir, 'there.safetensors')))).not.toThrow();
  });
});
