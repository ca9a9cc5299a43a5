/**
 * The files a recipe names (engine/recipe/files.ts): the walk covers every field the schema marks as a file, and
 * every other string field of the schema is known not to name one; relative paths resolve against the recipe file's
 * folder or the working folder; a server's folders (FileRoots) refuse paths and links outside them.
 */
import { cpSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { z } from 'zod';
import { afterAll, describe, expect, it } from 'vitest';
import { FileRoots, recipeFiles, resolveRecipeFiles } from '../../src-main/engine/recipe/files';
import { loadRecipeFile } from '../../src-main/engine/recipe/presets';
import { parseRecipe } from '../../src-main/engine/recipe/resolve';
import { type Recipe, counterexampleRecipeSchema, recipeSchema } from '../../src-main/engine/recipe/schema';
import { isFileField } from '../../src-main/engine/util/file-field';
import { refusal } from './refusal';

const dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'modelab-recipe-files-')));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  innerType?: z.ZodType;
  options?: z.ZodType[];
  in?: z.ZodType;
  valueType?: z.ZodType;
}

/** Every string field of a schema as a pattern (`endpoints.*.weights`), with whether it is marked as a file. */
function stringFields(schema: z.ZodType, at: string[] = [], out = new Map<string, boolean>()): Map<string, boolean> {
  const d = (schema as unknown as { _zod: { def: Def } })._zod.def;
  switch (d.type) {
    case 'object':
      for (const [k, v] of Object.entries(d.shape!)) stringFields(v, [...at, k], out);
      break;
    case 'array':
      stringFields(d.element!, [...at, '*'], out);
      break;
    case 'record':
      stringFields(d.valueType!, [...at, '*'], out);
      break;
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'catch':
      stringFields(d.innerType!, at, out);
      break;
    case 'union':
      for (const o of d.options!) stringFields(o, at, out);
      break;
    case 'pipe':
      stringFields(d.in!, at, out);
      break;
    case 'string': {
      const key = at.join('.');
      // One variant marking a field is enough (dataset.dir: npy and cifar10 both mark theirs).
      out.set(key, (out.get(key) ?? false) || isFileField(schema));
      break;
    }
  }
  return out;
}

/** String fields that name no file. A new string field of the recipe lands here or is marked with fileField. */
const NOT_FILES = ['name', 'description', 'endpoints.*.name', 'endpoints.*.names.*', 'paths.*.name', 'paths.*.from', 'paths.*.to', 'plane.from', 'plane.to', 'plane.third.path'];

const pattern = (field: (string | number)[]): string => field.map((k) => (typeof k === 'number' ? '*' : k)).join('.');

const base = {
  name: 'files',
  architecture: { type: 'mlp', hidden: [8] },
  training: { steps: 1 },
};
/** One recipe per dataset kind that names files, each filling every file field it has. */
const withFiles = (): Recipe[] => [
  parseRecipe({ ...base, dataset: { name: 'npy', dir: 'data/npy' }, endpoints: [{ name: 'A', weights: 'a.safetensors' }, { name: 'B', weights: 'tfjs/model.json' }] }),
  parseRecipe({ ...base, dataset: { name: 'cifar10', dir: 'cifar' } }),
  parseRecipe({ ...base, dataset: { name: 'idx', trainImages: 'ti', trainLabels: 'tl', testImages: 'si', testLabels: 'sl' } }),
];


describe('the fields that name files', () => {
  const fields = new Map([...stringFields(recipeSchema), ...stringFields(counterexampleRecipeSchema)]);

  it('recipeFiles walks exactly the fields the schema marks as files', () => {
    const marked = [...fields].filter(([, file]) => file).map(([k]) => k);
    const walked = new Set(withFiles().flatMap((r) => recipeFiles(r).map((f) => pattern(f.field))));
    expect([...walked].sort()).toEqual([...marked].sort());
    expect(marked.sort()).toEqual(['dataset.dir', 'dataset.testImages', 'dataset.testLabels', 'dataset.trainImages', 'dataset.trainLabels', 'endpoints.*.weights']);
  });

  it('every other string field of the recipe schema is known to name no file', () => {
    const others = [...fields].filter(([, file]) => !file).map(([k]) => k);
    expect(others.filter((k) => !NOT_FILES.includes(k)), 'a new string field: mark it with fileField (and walk it in recipeFiles) or add it to NOT_FILES').toEqual([]);
    expect(NOT_FILES.filter((k) => !others.includes(k)), 'NOT_FILES names a field the schema no longer has').toEqual([]);
  });

  it('a counterexample and a built-in dataset name none', () => {
    expect(recipeFiles(parseRecipe({ ...base, dataset: { name: 'mnist' } }))).toEqual([]);
    expect(recipeFiles(parseRecipe({ ...base, dataset: { name: 'cifar10' } }))).toEqual([]);
  });
});

describe('relative paths', () => {
  it('a recipe file’s paths are relative to its folder; absolute ones are kept', () => {
    const exp = path.join(dir, 'exp');
    mkdirSync(exp, { recursive: true });
    const file = path.join(exp, 'recipe.json');
    writeFileSync(file, JSON.stringify({ ...base, dataset: { name: 'idx', trainImages: 'd/ti', trainLabels: '/abs/tl', testImages: '../si', testLabels: 'sl' } }));
    const d = (loadRecipeFile(file) as Recipe).dataset as Extract<Recipe['dataset'], { name: 'idx' }>;
    expect([d.trainImages, d.trainLabels, d.testImages, d.testLabels]).toEqual([path.join(exp, 'd', 'ti'), '/abs/tl', path.join(dir, 'si'), path.join(exp, 'sl')]);
  });

  it('without a recipe file, relative to the folder given (the working folder)', () => {
    const [npy] = withFiles();
    resolveRecipeFiles(npy!, { dir: '/work/here' });
    expect(recipeFiles(npy!).map((f) => f.path)).toEqual(['/work/here/a.safetensors', '/work/here/tfjs/model.json', '/work/here/data/npy']);
  });

  it('a recipe file’s path found only relative to the working folder is one line naming both', () => {
    const cwd = path.join(dir, 'cwd');
    mkdirSync(path.join(cwd, 'data', 'npy'), { recursive: true });
    const file = path.join(dir, 'elsewhere', 'r.json');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify({ ...base, dataset: { name: 'npy', dir: 'data/npy' } }));
    const was = process.cwd();
    process.chdir(cwd);
    try {
      const m = refusal(() => loadRecipeFile(file));
      expect(m).toContain(`dataset.dir: data/npy is relative to the recipe file's folder, where ${path.join(dir, 'elsewhere', 'data', 'npy')} does not exist; ${path.join(cwd, 'data', 'npy')}`);
    } finally {
      process.chdir(was);
    }
  });
});

describe("a server's folders", () => {
  const root = path.join(dir, 'root');
  const outside = path.join(dir, 'outside');
  mkdirSync(path.join(root, 'npy'), { recursive: true });
  mkdirSync(path.join(root, 'linked-npy'), { recursive: true });
  mkdirSync(outside, { recursive: true });
  for (const f of ['x_train.npy', 'y_train.npy', 'x_test.npy', 'y_test.npy']) {
    writeFileSync(path.join(root, 'npy', f), '');
    writeFileSync(path.join(outside, f), '');
    symlinkSync(path.join(outside, f), path.join(root, 'linked-npy', f));
  }
  writeFileSync(path.join(root, 'a.safetensors'), '');
  symlinkSync(outside, path.join(root, 'out-link'));
  // A TensorFlow.js model inside whose shard is a link out.
  cpSync(path.resolve(import.meta.dirname, '../fixtures/byo/tfjs-cnn-bn'), path.join(root, 'tfjs'), { recursive: true });
  rmSync(path.join(root, 'tfjs', 'group1-shard1of1.bin'));
  writeFileSync(path.join(outside, 'shard.bin'), '');
  symlinkSync(path.join(outside, 'shard.bin'), path.join(root, 'tfjs', 'group1-shard1of1.bin'));
  const roots = new FileRoots([root]);
  const npy = (d: string, weights?: string): Recipe =>
    resolveRecipeFiles(parseRecipe({ ...base, dataset: { name: 'npy', dir: d }, endpoints: [{ name: 'A', ...(weights ? { weights } : {}) }, { name: 'B' }] }), { dir: root });

  it('files inside are taken, and set to their real paths', () => {
    const r = npy('out-link/../npy', 'a.safetensors');
    roots.checkRecipe(r);
    expect(recipeFiles(r).map((f) => f.path)).toEqual([path.join(root, 'a.safetensors'), path.join(root, 'npy')]);
  });

  it.each([
    ['an npy folder outside', () => npy(outside), /^recipe: dataset\.dir: .*outside is outside the folders this server reads \(.*root\); `modelab serve --files DIR` allows another$/],
    ['a link inside pointing out', () => npy('out-link'), /dataset\.dir: .*out-link is outside the folders/],
    ['an npy folder inside whose files link out', () => npy('linked-npy'), /dataset\.dir: .*linked-npy\/x_train\.npy is outside the folders/],
    ['weights outside', () => npy('npy', '../outside/a.safetensors'), /endpoints\.0\.weights: .*outside\/a\.safetensors is outside/],
    ['a model.json whose shard links out', () => npy('npy', 'tfjs/model.json'), /endpoints\.0\.weights: .*group1-shard1of1\.bin is outside/],
    ['idx files at /etc/passwd', () => resolveRecipeFiles(parseRecipe({ ...base, dataset: { name: 'idx', trainImages: '/etc/passwd', trainLabels: 'a', testImages: 'b', testLabels: 'c' } }), { dir: root }), /dataset\.trainImages: \/etc\/passwd is outside/],
  ])('%s is refused in one line', (_what, recipe, re) => {
    expect(refusal(() => roots.checkRecipe(recipe()))).toMatch(re);
  });

  it('a CIFAR-10 folder: the request’s (dataDir) and the default one are checked too', () => {
    const cifar = parseRecipe({ ...base, dataset: { name: 'cifar10' } });
    expect(refusal(() => roots.checkRecipe(cifar, outside))).toMatch(/^dataDir: .*outside is outside/);
    // No folder anywhere: the downloaded copy, in $MODELAB_HOME/datasets (not one of these roots).
    expect(refusal(() => roots.checkRecipe(cifar))).toMatch(/^dataset\.dir: .*datasets\/cifar10 is outside/);
    expect(() => new FileRoots([root, path.join(process.env['MODELAB_HOME']!, 'datasets')]).checkRecipe(cifar)).not.toThrow();
  });
});
