/**
 * Recipe validation (recipe/resolve.ts, recipe/presets.ts, recipe/schema.ts): every preset parses; bad documents give
 * an InputError with a one-line message naming the offending field; architectures resolve to the paper's networks.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type ArchSpec, describeArch, layerOutputShapes, parameterCount, paramShapes } from '../../src-main/engine/nn/spec';
import { listPresets, loadPreset, loadRecipeFile } from '../../src-main/engine/recipe/presets';
import { applyOverrides, endpointSeed, parseAnyRecipe, parseRecipe, resolveArchitecture, trainingFor } from '../../src-main/engine/recipe/resolve';
import type { Recipe } from '../../src-main/engine/recipe/schema';
import { InputError } from '../../src-main/engine/util/errors';

const presetDir = path.resolve(__dirname, '../../resources/presets');
const smokeDoc = (): Record<string, unknown> => JSON.parse(readFileSync(path.join(presetDir, 'smoke.json'), 'utf8')) as Record<string, unknown>;
/** A training preset, parsed as a training recipe. */
const trainingPreset = (name: string): Recipe => parseRecipe(JSON.parse(readFileSync(path.join(presetDir, `${name}.json`), 'utf8')), `preset ${name}`);

/** A minimal valid recipe, to be broken one field at a time. */
const minimal = (): Record<string, unknown> => ({
  name: 'test',
  dataset: { name: 'spirals' },
  architecture: { type: 'mlp', hidden: [8, 8] },
  training: { steps: 10 },
});

function inputError(doc: unknown, source = 'recipe'): string {
  try {
    parseRecipe(doc, source);
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    const msg = (e as Error).message;
    expect(msg).not.toContain('\n');
    expect(msg.startsWith(`${source}: `)).toBe(true);
    return msg;
  }
  throw new Error('expected parseRecipe to reject the document');
}

describe('presets', () => {
  const files = readdirSync(presetDir).filter((f) => f.endsWith('.json'));

  it('the preset folder holds the documented presets, each listed with a description', () => {
    const listed = listPresets();
    expect(listed.map((p) => p.name).sort()).toEqual(files.map((f) => f.replace(/\.json$/, '')).sort());
    for (const name of ['smoke', 'mnist-mlp', 'mnist-cnn-paper', 'cifar10-vgg11-paper']) expect(listed.map((p) => p.name)).toContain(name);
    for (const p of listed) expect(p.description.length).toBeGreaterThan(20);
  });

  it.each(files)('%s parses, and every endpoint has valid training settings', (file) => {
    const name = file.replace(/\.json$/, '');
    const raw = JSON.parse(readFileSync(path.join(presetDir, file), 'utf8')) as Record<string, unknown>;
    const loaded = loadPreset(name) as unknown as Record<string, unknown>;
    expect(loaded['name']).toBe(name);
    if (raw['experiment'] !== undefined) {
      // Not a training experiment (e.g. the analytic counterexample): it parses as its own kind.
      expect(loaded['experiment']).toBe(raw['experiment']);
      return;
    }
    const r = parseRecipe(raw);
    expect(loaded).toEqual(r);
    expect(r.endpoints.length).toBeGreaterThanOrEqual(2);
    r.endpoints.forEach((_e, i) => {
      const t = trainingFor(r, i);
      expect((t.epochs === undefined) !== (t.steps === undefined)).toBe(true);
      expect(t.optimizer.lr).toBeGreaterThan(0);
    });
  });

  it('an unknown preset is an InputError listing the presets; names cannot escape the folder', () => {
    expect(() => loadPreset('nope')).toThrow(InputError);
    expect(() => loadPreset('nope')).toThrow(/unknown preset 'nope'.*smoke/);
    expect(() => loadPreset('../presets/smoke')).toThrow(InputError);
  });
});

describe('parseRecipe rejects bad fields with one line naming the field', () => {
  it('unknown key at the top level and inside a section', () => {
    expect(inputError({ ...minimal(), epochz: 3 }, 'my.json')).toMatch(/epochz/);
    const msg = inputError({ ...minimal(), training: { steps: 10, learningRate: 0.1 } });
    expect(msg).toMatch(/training/);
    expect(msg).toMatch(/learningRate/);
  });

  it('negative (and zero) learning rate', () => {
    expect(inputError({ ...minimal(), training: { steps: 10, lr: -0.1 } })).toMatch(/training\.lr/);
    expect(inputError({ ...minimal(), training: { steps: 10, lr: 0 } })).toMatch(/training\.lr/);
  });

  it('epochs and steps together', () => {
    const msg = inputError({ ...minimal(), training: { steps: 10, epochs: 2 } });
    expect(msg).toMatch(/training/);
    expect(msg).toMatch(/epochs/);
    expect(msg).toMatch(/steps/);
  });

  it('an MLP dropout array of the wrong length', () => {
    const msg = inputError({ ...minimal(), architecture: { type: 'mlp', hidden: [8, 8], dropout: [0.1] } });
    expect(msg).toMatch(/architecture\.dropout/);
    expect(msg).toMatch(/1 values? for 2 hidden layers/);
    // Right length is fine; a probability ≥ 1 is not.
    expect(() => parseRecipe({ ...minimal(), architecture: { type: 'mlp', hidden: [8, 8], dropout: [0.1, 0.2] } })).not.toThrow();
    expect(inputError({ ...minimal(), architecture: { type: 'mlp', hidden: [8, 8], dropout: [0.1, 1] } })).toMatch(/architecture\.dropout/);
  });

  it('a path naming an unknown endpoint', () => {
    const msg = inputError({ ...minimal(), paths: [{ type: 'linear', from: 'A', to: 'C' }] });
    expect(msg).toMatch(/paths\.0\.to/);
    expect(msg).toMatch(/'C'/);
    expect(msg).toMatch(/A, B/); // names the endpoints that exist
    expect(inputError({ ...minimal(), paths: [{ type: 'linear', from: 'X' }] })).toMatch(/paths\.0\.from.*'X'/);
    expect(inputError({ ...minimal(), paths: [{ type: 'linear', from: 'A', to: 'A' }] })).toMatch(/paths\.0/);
  });

  it('duplicate endpoint names, and duplicate path names', () => {
    const msg = inputError({ ...minimal(), endpoints: [{ name: 'A' }, { name: 'A' }] });
    expect(msg).toMatch(/endpoints/);
    expect(msg).toMatch(/'A'/);
    const p = inputError({ ...minimal(), paths: [{ type: 'linear' }, { type: 'linear', name: 'linear' }] });
    expect(p).toMatch(/paths\.1\.name/);
  });

  it('other typical mistakes name their field', () => {
    expect(inputError({ ...minimal(), dataset: { name: 'imagenet' } })).toMatch(/dataset/);
    expect(inputError({ ...minimal(), training: { steps: 10, batchSize: 0 } })).toMatch(/training\.batchSize/);
    expect(inputError({ ...minimal(), training: { steps: 2.5 } })).toMatch(/training\.steps/);
    expect(inputError({ ...minimal(), endpoints: [{ name: 'a b' }, { name: 'B' }] })).toMatch(/endpoints\.0\.name/);
    expect(inputError({ ...minimal(), architecture: { type: 'cnn', conv: [{ filters: 8, padding: 'full' }] } })).toMatch(/architecture\.conv\.0\.padding/);
    expect(inputError({ ...minimal(), training: { steps: 10, schedule: { type: 'step', every: 30 } } })).toMatch(/training\.schedule\.factor/);
    // Per-endpoint overrides are validated as training settings, and named by endpoint.
    const o = inputError({ ...minimal(), endpoints: [{ name: 'A', training: { lr: -1 } }, { name: 'B' }] });
    expect(o).toMatch(/endpoints\.0\.training/);
    expect(o).toMatch(/lr/);
    expect(inputError({ ...minimal(), endpoints: [{ name: 'A', training: { epochs: 3 } }, { name: 'B' }] })).toMatch(/endpoints\.0\.training.*epochs or steps/);
    expect(inputError('not an object')).toMatch(/root|expected object/);
  });

  it('carries the field and the bare reason as data, not only in the message', () => {
    const at = (doc: unknown): InputError['at'] => {
      try {
        parseRecipe(doc);
      } catch (e) {
        expect(e).toBeInstanceOf(InputError);
        return (e as InputError).at;
      }
      throw new Error('expected an InputError');
    };
    const two = [{ name: 'A' }, { name: 'B' }];
    expect(at({ ...minimal(), endpoints: two, paths: [{ type: 'linear', to: 'Z' }] })).toEqual({ field: ['paths', 0, 'to'], reason: "no endpoint named 'Z' (endpoints: A, B)" });
    // A bad per-endpoint override: the field inside the override, numbers as numbers.
    expect(at({ ...minimal(), endpoints: [{ name: 'A', training: { lr: -1 } }, { name: 'B' }] })).toMatchObject({ field: ['endpoints', 0, 'training', 'lr'] });
    expect(at({ ...minimal(), endpoints: two, paths: [{ type: 'linear', name: 'p.q' }, { type: 'linear', name: 'p.q' }] })).toEqual({ field: ['paths', 1, 'name'], reason: "'p.q' is used twice" });
    expect(at({ ...minimal(), training: { steps: 10, lr: 0 } })).toMatchObject({ field: ['training', 'lr'] });
  });

  it('fills in defaults, and per-endpoint overrides merge over the shared settings', () => {
    const r = parseRecipe({ ...minimal(), endpoints: [{ name: 'A' }, { name: 'B', seed: 7, training: { lr: 0.3, momentum: 0 } }] });
    expect(r.seed).toBe(1);
    expect(r.paths).toEqual([]);
    expect(r.evaluation).toEqual({ trainSamples: 10000, testSamples: null, batchSize: 1000, seed: 0 });
    expect(r.training.optimizer).toBe('sgd');
    expect(trainingFor(r, 0)).toMatchObject({ optimizer: { type: 'sgd', lr: 0.1, momentum: 0.9 }, steps: 10, batchSize: 128 });
    expect(trainingFor(r, 1)).toMatchObject({ optimizer: { type: 'sgd', lr: 0.3, momentum: 0 }, steps: 10 });
    expect(parseRecipe({ ...minimal(), training: { optimizer: 'adam', epochs: 2 } }).training.optimizer).toBe('adam');
    expect(trainingFor(parseRecipe({ ...minimal(), training: { optimizer: 'adam', epochs: 2 } }), 0)).toMatchObject({ optimizer: { type: 'adam', lr: 1e-3 }, epochs: 2 });
    expect(endpointSeed(r, 1)).toBe(7);
    expect(endpointSeed(r, 0)).not.toBe(endpointSeed(parseRecipe({ ...minimal(), seed: 2 }), 0));
    expect(parseRecipe(minimal()).endpoints.map((e) => e.name)).toEqual(['A', 'B']);
  });

  it('loadRecipeFile: invalid JSON, schema errors and missing files are InputErrors naming the file', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'modelab-recipe-'));
    try {
      const bad = path.join(dir, 'bad.json');
      writeFileSync(bad, '{ "name": "x", ');
      expect(() => loadRecipeFile(bad)).toThrow(InputError);
      expect(() => loadRecipeFile(bad)).toThrow(new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not valid JSON`));
      const wrong = path.join(dir, 'wrong.json');
      writeFileSync(wrong, JSON.stringify({ ...smokeDoc(), training: { ...(smokeDoc()['training'] as object), lr: -1 } }));
      expect(() => loadRecipeFile(wrong)).toThrow(/wrong\.json: training\.lr/);
      expect(() => loadRecipeFile(path.join(dir, 'none.json'))).toThrow(/config file not found: .*none\.json/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('resolveArchitecture', () => {
  it("expresses the paper's MNIST CNN: 3 conv of 32 3×3 'same', no bias, no pool, dense 10", () => {
    const r = trainingPreset('mnist-cnn-paper');
    const spec = resolveArchitecture(r.architecture, [28, 28, 1], 10);
    expect(spec.layers.length).toBe(4);
    for (const l of spec.layers.slice(0, 3)) {
      expect(l).toEqual({ type: 'conv', filters: 32, kernel: 3, stride: 1, padding: 'same', bias: false, pool: null, dropout: 0 });
    }
    expect(spec.layers[3]).toEqual({ type: 'dense', units: 10, bias: false, dropout: 0 });
    expect(parameterCount(spec)).toBe(3 * 3 * 1 * 32 + 2 * (3 * 3 * 32 * 32) + 28 * 28 * 32 * 10);
    expect(layerOutputShapes(spec)).toEqual([[28, 28, 32], [28, 28, 32], [28, 28, 32], [10]]);
    expect(paramShapes(spec).map((p) => `${p.name}[${p.shape}]`)).toEqual(['A1.w[3,3,1,32]', 'A2.w[3,3,32,32]', 'A3.w[3,3,32,32]', 'A4.w[25088,10]']);
  });

  it('expresses VGG-11 for CIFAR-10: 8 conv layers, 5 pools, 1×1×512 before the classifier', () => {
    const r = trainingPreset('cifar10-vgg11-paper');
    const spec = resolveArchitecture(r.architecture, [32, 32, 3], 10);
    const convs = spec.layers.filter((l) => l.type === 'conv');
    expect(convs.length).toBe(8);
    expect(convs.map((l) => (l.type === 'conv' ? l.filters : 0))).toEqual([64, 128, 256, 256, 512, 512, 512, 512]);
    expect(convs.filter((l) => l.type === 'conv' && l.pool !== null).length).toBe(5);
    const shapes = layerOutputShapes(spec);
    expect(shapes[7]).toEqual([1, 1, 512]);
    expect(shapes.slice(0, 8).map((s) => s[0])).toEqual([16, 8, 8, 4, 4, 2, 2, 1]);
    expect(spec.layers.slice(8).map((l) => (l.type === 'dense' ? l.units : 0))).toEqual([512, 512, 10]);
    expect(spec.layers.every((l) => !l.bias)).toBe(true);
    // Dropout: 0.25 on the first three conv layers, 0.5 after; none on the output layer.
    expect(spec.layers.map((l) => l.dropout)).toEqual([0.25, 0.25, 0.25, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0]);
    const conv = 9 * (3 * 64 + 64 * 128 + 128 * 256 + 256 * 256 + 256 * 512 + 3 * 512 * 512);
    expect(parameterCount(spec)).toBe(conv + 512 * 512 + 512 * 512 + 512 * 10);
  });

  it('the MNIST MLP preset: 784-512-512-10 with bias', () => {
    const spec = resolveArchitecture(trainingPreset('mnist-mlp').architecture, [28, 28, 1], 10);
    expect(parameterCount(spec)).toBe(784 * 512 + 512 + 512 * 512 + 512 + 512 * 10 + 10);
    expect(describeArch(spec)).toBe('MLP 784-512-512-10, bias');
  });

  it('per-layer dropout and dense heads map onto layers; an impossible shape is an InputError', () => {
    const r = parseRecipe({ ...minimal(), architecture: { type: 'mlp', hidden: [8, 4], dropout: [0.1, 0.2], bias: true } });
    const spec: ArchSpec = resolveArchitecture(r.architecture, [1, 1, 2], 3);
    expect(spec.layers).toEqual([
      { type: 'dense', units: 8, bias: true, dropout: 0.1 },
      { type: 'dense', units: 4, bias: true, dropout: 0.2 },
      { type: 'dense', units: 3, bias: true, dropout: 0 },
    ]);
    const cnn = parseRecipe({ ...minimal(), architecture: { type: 'cnn', conv: [{ filters: 4, pool: 2 }], dense: [16, { units: 8, dropout: 0.5 }] } });
    const s2 = resolveArchitecture(cnn.architecture, [6, 6, 1], 2);
    expect(s2.layers.map((l) => (l.type === 'conv' ? `conv${l.filters}p${l.pool?.size}` : `fc${l.units}/${l.dropout}`))).toEqual(['conv4p2', 'fc16/0', 'fc8/0.5', 'fc2/0']);
    const tooDeep = parseRecipe({ ...minimal(), architecture: { type: 'cnn', conv: [{ filters: 4, pool: 2 }, { filters: 4, pool: 2 }] } });
    expect(() => resolveArchitecture(tooDeep.architecture, [3, 3, 1], 2)).toThrow(InputError);
    expect(() => resolveArchitecture(tooDeep.architecture, [3, 3, 1], 2)).toThrow(/^architecture: /);
  });
});

describe('applyOverrides: --seed and --exact, as every front end applies them', () => {
  it('a seed replaces the base seed; exact evaluates on the whole training and test sets', () => {
    const r = parseRecipe(minimal());
    expect(r.evaluation.trainSamples).toBe(10000);
    expect(applyOverrides(r, {})).toEqual(parseRecipe(minimal()));
    applyOverrides(r, { seed: 42, exact: true });
    expect(r.seed).toBe(42);
    expect(r.evaluation).toMatchObject({ trainSamples: null, testSamples: null, batchSize: 1000 });
    expect(endpointSeed(r, 0)).not.toBe(endpointSeed(parseRecipe(minimal()), 0));
  });

  it("a counterexample takes the seed; exact leaves its generated data as it is", () => {
    const c = parseAnyRecipe({ name: 'c', experiment: 'counterexample', width: 3 });
    const before = JSON.parse(JSON.stringify(c)) as object;
    expect(applyOverrides(c, { seed: 7, exact: true })).toEqual({ ...before, seed: 7 });
  });

  it('is the one place the overrides are applied', () => {
    const root = path.resolve(__dirname, '../../src-main');
    const files = readdirSync(root, { recursive: true, withFileTypes: true }).filter((e) => e.isFile() && e.name.endsWith('.ts'));
    const applying = files
      .map((e) => path.join(e.parentPath, e.name))
      .filter((f) => /trainSamples: null, testSamples: null|recipe\.seed = /.test(readFileSync(f, 'utf8')))
      .map((f) => path.relative(root, f));
    expect(applying).toEqual([path.join('engine', 'recipe', 'resolve.ts')]);
  });
});
